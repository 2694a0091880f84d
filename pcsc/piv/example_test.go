package piv_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"smartpath/pcsc"
	"smartpath/pcsc/piv"
)

func ExampleValidatePIN() {
	fmt.Println(piv.ValidatePIN([]byte("123456")))
	fmt.Println(piv.ValidatePIN([]byte("12ab")))
	// Output:
	// <nil>
	// piv: the PIN must be 6 to 8 digits (0-9)
}

// A kiosk's use of a card: read who it is on insertion, take the PIN, sign once.
func Example() {
	ctx := context.Background()
	var card pcsc.Card // from pcsc.Connect, or an in-process virtual card
	if card == nil {
		return
	}
	c, err := piv.Open(ctx, card, piv.Options{})
	if err != nil {
		return
	}
	id, err := c.ReadIdentity(ctx) // 9A certificate, CHUID, PIN tries: one transaction
	if err != nil || id.PIN.Blocked {
		return
	}
	pin := []byte("123456") // typed by the citizen
	err = c.VerifyPIN(ctx, pin)
	clear(pin)
	var wrong *pcsc.WrongPINError
	if errors.As(err, &wrong) {
		fmt.Println("tries left:", wrong.Retries)
		return
	}
	signer, err := c.Signer(piv.Slot9A, id.Certificate.PublicKey)
	if err != nil {
		return
	}
	digest := sha256.Sum256([]byte("handshake"))
	sig, err := signer.Sign(rand.Reader, digest[:], crypto.SHA256) // a crypto.Signer for crypto/tls
	fmt.Println(len(sig), err)
}
