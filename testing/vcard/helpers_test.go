package vcard

import (
	"bytes"
	"context"
	"crypto"
	"encoding/hex"
	"strings"
	"sync"
	"testing"

	"smartpath/testing/pki"
)

// send transmits an APDU given in hex (spaces allowed) and returns data and status word.
func send(t testing.TB, c *Card, apdu string) ([]byte, uint16) {
	t.Helper()
	return sendBytes(t, c, mustHex(t, apdu))
}

func sendBytes(t testing.TB, c *Card, apdu []byte) ([]byte, uint16) {
	t.Helper()
	resp, err := c.Transmit(context.Background(), apdu)
	if err != nil {
		t.Fatalf("transmit %X: %v", apdu, err)
	}
	if len(resp) < 2 {
		t.Fatalf("transmit %X: response %X has no status word", apdu, resp)
	}
	n := len(resp) - 2
	return resp[:n], uint16(resp[n])<<8 | uint16(resp[n+1])
}

// sendAll sends a command with chaining when its data is long, and collects a long
// response with GET RESPONSE, as a PC/SC transport does.
func sendAll(t testing.TB, c *Card, cla, ins, p1, p2 byte, data []byte) ([]byte, uint16) {
	t.Helper()
	for len(data) > 255 {
		_, sw := sendBytes(t, c, append([]byte{cla | claChaining, ins, p1, p2, 255}, data[:255]...))
		if sw != swOK {
			return nil, sw
		}
		data = data[255:]
	}
	apdu := []byte{cla, ins, p1, p2}
	if len(data) > 0 {
		apdu = append(apdu, byte(len(data)))
		apdu = append(apdu, data...)
	}
	apdu = append(apdu, 0x00)
	out, sw := sendBytes(t, c, apdu)
	for i := 0; sw&0xFF00 == swBytesRemaining; i++ {
		if i > 100 {
			t.Fatal("endless 61xx chain")
		}
		var more []byte
		more, sw = send(t, c, "00 C0 00 00 00")
		out = append(out, more...)
	}
	return out, sw
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func wantSW(t testing.TB, got, want uint16) {
	t.Helper()
	if got != want {
		t.Fatalf("SW %04X, want %04X", got, want)
	}
}

var (
	rsaOnce sync.Once
	rsaKeys [2]crypto.Signer
)

// citizenCard makes a citizen card; RSA keys are generated once per test binary.
func citizenCard(t testing.TB, alg Alg) (*Card, *pki.PKI) {
	t.Helper()
	p, err := pki.New("vcard-test")
	if err != nil {
		t.Fatal(err)
	}
	cz := Citizen{Name: "Jane Citizen", Number: "C-1001", Alg: alg, Options: Options{Serial: 12345678}}
	if alg == AlgRSA2048 {
		rsaOnce.Do(func() {
			for i := range rsaKeys {
				k, err := GenerateKey(AlgRSA2048)
				if err != nil {
					panic(err)
				}
				rsaKeys[i] = k
			}
		})
		cz.Keys = map[Slot]crypto.Signer{SlotAuthentication: rsaKeys[0], SlotSignature: rsaKeys[1]}
	}
	c, err := NewCitizenCard(p, cz)
	if err != nil {
		t.Fatal(err)
	}
	return c, p
}

func verifyPIN(t testing.TB, c *Card, pin string) uint16 {
	t.Helper()
	_, sw := sendBytes(t, c, append([]byte{0x00, 0x20, 0x00, 0x80, 0x08}, pad8([]byte(pin))...))
	return sw
}

func tlvValue(t testing.TB, b []byte, tag uint32) []byte {
	t.Helper()
	v, ok := parseOnly(b, tag)
	if !ok {
		t.Fatalf("want a single %X TLV, got %X", tag, b)
	}
	return v
}

var _ = bytes.Equal
