//go:build integration

package piv

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"testing"
	"time"

	"smartpath/pcsc"
	"smartpath/testing/vcard"
)

// realCard is the emulation of a typical contact PIV card used by the benchmarks.
var realCard = vcard.Emulation{
	APDULatency: 10 * time.Millisecond,
	RSALatency:  200 * time.Millisecond,
	ECLatency:   60 * time.Millisecond,
}

// benchAlgs runs fn for each algorithm with a card of that algorithm in reader 0 of one
// private pcscd, emulating realCard: first a card with short APDUs only (command chaining
// and GET RESPONSE), then one whose ATR offers extended length, which the client uses.
func benchAlgs(b *testing.B, fn func(b *testing.B, s *stack, ic issuedCard)) {
	s := startStack(b)
	for _, extended := range []bool{false, true} {
		for _, alg := range []Algorithm{AlgRSA2048, AlgECCP256, AlgECCP384} {
			ic := issueVCard(b, alg, vcard.Options{ExtendedLength: extended})
			in := s.insert(ic.card)
			ic.card.SetEmulation(realCard)
			name := alg.String() + "/short"
			if extended {
				name = alg.String() + "/extended"
			}
			b.Run(name, func(b *testing.B) { fn(b, s, ic) })
			s.pull(in)
		}
	}
}

// BenchmarkPCSCInsertToIdentity is "card inserted → certificate read and PIN tries known"
// through pcscd: Connect, Open (SELECT) and ReadIdentity, from a card the monitor has just
// reported. Each round starts from a fresh connection to a reset card.
func BenchmarkPCSCInsertToIdentity(b *testing.B) {
	benchAlgs(b, func(b *testing.B, s *stack, ic issuedCard) {
		ctx := context.Background()
		apdus := 0
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			before := ic.card.APDUCount()
			conn, err := pcsc.Connect(ctx, s.reader, pcsc.ConnectOptions{})
			if err != nil {
				b.Fatal(err)
			}
			c, err := Open(ctx, conn, Options{})
			if err != nil {
				b.Fatal(err)
			}
			id, err := c.ReadIdentity(ctx)
			if err != nil || id.PIN.Retries != 3 {
				b.Fatalf("ReadIdentity = %+v, %v", id, err)
			}
			apdus += ic.card.APDUCount() - before
			b.StopTimer()
			if err := conn.CloseReset(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
		b.ReportMetric(float64(apdus)/float64(b.N), "APDUs/op")
	})
}

// BenchmarkPCSCVerifyAndSign is "VERIFY + one signature" with the 9A key through pcscd.
func BenchmarkPCSCVerifyAndSign(b *testing.B) {
	benchAlgs(b, func(b *testing.B, s *stack, ic issuedCard) {
		ctx := context.Background()
		conn, err := pcsc.Connect(ctx, s.reader, pcsc.ConnectOptions{})
		if err != nil {
			b.Fatal(err)
		}
		defer conn.CloseReset()
		c, err := Open(ctx, conn, Options{})
		if err != nil {
			b.Fatal(err)
		}
		signer, err := c.Signer(Slot9A, ic.cert.PublicKey)
		if err != nil {
			b.Fatal(err)
		}
		digest := sha256.Sum256([]byte("TLS client CertificateVerify"))
		pin := []byte(vcard.DefaultPIN)
		before := ic.card.APDUCount()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := c.VerifyPIN(ctx, pin); err != nil {
				b.Fatal(err)
			}
			if _, err := signer.SignContext(ctx, rand.Reader, digest[:], crypto.SHA256); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
		b.ReportMetric(float64(ic.card.APDUCount()-before)/float64(b.N), "APDUs/op")
	})
}
