package piv

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"testing"
)

// In-process benchmarks with a card that answers at once: they measure the host side and
// count APDUs. The integration benchmarks (bench_integration_test.go) add the latency of a
// real card through pcscd.

// BenchmarkInsertToIdentity is "card inserted → certificate read and PIN tries known":
// Open (one SELECT) and ReadIdentity.
func BenchmarkInsertToIdentity(b *testing.B) {
	for _, alg := range []Algorithm{AlgRSA2048, AlgECCP256, AlgECCP384} {
		b.Run(alg.String(), func(b *testing.B) {
			f := newFakeCard()
			f.issue(b, Slot9A, alg)
			f.setCHUID()
			ctx := context.Background()
			start := f.count()
			for b.Loop() {
				c, err := Open(ctx, f, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.ReadIdentity(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(f.count()-start)/float64(b.N), "APDUs/op")
		})
	}
}

// BenchmarkVerifyAndSign is "VERIFY + one signature" with the slot 9A key.
func BenchmarkVerifyAndSign(b *testing.B) {
	for _, alg := range []Algorithm{AlgRSA2048, AlgECCP256, AlgECCP384} {
		b.Run(alg.String(), func(b *testing.B) {
			f := newFakeCard()
			_, cert := f.issue(b, Slot9A, alg)
			ctx := context.Background()
			c, err := Open(ctx, f, Options{})
			if err != nil {
				b.Fatal(err)
			}
			s, err := c.Signer(Slot9A, cert.PublicKey)
			if err != nil {
				b.Fatal(err)
			}
			d := sha256.Sum256([]byte("tls transcript"))
			pin := []byte("123456")
			start := f.count()
			for b.Loop() {
				if err := c.VerifyPIN(ctx, pin); err != nil {
					b.Fatal(err)
				}
				if _, err := s.SignContext(ctx, rand.Reader, d[:], crypto.SHA256); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(f.count()-start)/float64(b.N), "APDUs/op")
		})
	}
}
