package vcard

import (
	"context"
	"testing"
)

// BenchmarkTransmitSelect is the in-process cost of one small APDU.
func BenchmarkTransmitSelect(b *testing.B) {
	c, _ := New(Options{})
	apdu := mustHex(b, "00 A4 04 00 09 A0 00 00 03 08 00 00 10 00 00")
	ctx := context.Background()
	for b.Loop() {
		if _, err := c.Transmit(ctx, apdu); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSign is the in-process cost of one GENERAL AUTHENTICATE signature per algorithm.
func BenchmarkSign(b *testing.B) {
	for _, alg := range []Alg{AlgRSA2048, AlgP256, AlgP384} {
		b.Run(alg.String(), func(b *testing.B) {
			c, _ := citizenCard(b, alg)
			wantSW(b, verifyPIN(b, c, DefaultPIN), swOK)
			input := make([]byte, 32)
			if alg == AlgRSA2048 {
				input = make([]byte, 256)
				input[1] = 1
			}
			apdu := append([]byte{0x00, insGeneralAuth, byte(alg), 0x9A}, 0x00, 0x00)
			data := gaSign(input)
			apdu = append(apdu[:4], 0x00, byte(len(data)>>8), byte(len(data)))
			apdu = append(apdu, data...)
			apdu = append(apdu, 0x00, 0x00)
			for b.Loop() {
				if _, sw := sendBytes(b, c, apdu); sw != swOK {
					b.Fatalf("SW %04X", sw)
				}
			}
		})
	}
}
