package vcard_test

import (
	"context"
	"fmt"

	"smartpath/testing/pki"
	"smartpath/testing/vcard"
)

// A citizen card used in process: the empty VERIFY tells the PIN tries left.
func Example() {
	ca, err := pki.New("example")
	if err != nil {
		panic(err)
	}
	card, err := vcard.NewCitizenCard(ca, vcard.Citizen{Name: "Jane Citizen", Number: "C-1001", Alg: vcard.AlgP256})
	if err != nil {
		panic(err)
	}
	resp, err := card.Transmit(context.Background(), []byte{0x00, 0x20, 0x00, 0x80})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%X\n", resp)
	// To put it in pcscd's first vpcd reader until ctx ends:
	//	err = vcard.Insert(ctx, card, vcard.DefaultVPCDAddr)
	// Output: 63C3
}
