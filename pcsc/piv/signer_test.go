package piv

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"strings"
	"testing"

	"smartpath/pcsc"
)

func TestSignerAlgorithms(t *testing.T) {
	ctx := context.Background()
	msg := []byte("hello kiosk")
	d256 := sha256.Sum256(msg)
	d384 := sha512.Sum384(msg)
	d1 := sha1.Sum(msg)
	tests := []struct {
		name   string
		alg    Algorithm
		digest []byte
		opts   crypto.SignerOpts
	}{
		{"rsa pkcs1 sha256", AlgRSA2048, d256[:], crypto.SHA256},
		{"rsa pkcs1 sha384", AlgRSA2048, d384[:], crypto.SHA384},
		{"rsa pkcs1 sha1", AlgRSA2048, d1[:], crypto.SHA1},
		{"rsa pkcs1 raw", AlgRSA2048, d256[:], crypto.Hash(0)},
		{"rsa pss equals hash", AlgRSA2048, d256[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}},
		{"rsa pss auto", AlgRSA2048, d256[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto, Hash: crypto.SHA256}},
		{"rsa pss 20", AlgRSA2048, d384[:], &rsa.PSSOptions{SaltLength: 20, Hash: crypto.SHA384}},
		{"p256 sha256", AlgECCP256, d256[:], crypto.SHA256},
		{"p256 sha384 truncated", AlgECCP256, d384[:], crypto.SHA384},
		{"p256 sha1 padded", AlgECCP256, d1[:], crypto.SHA1},
		{"p384 sha384", AlgECCP384, d384[:], crypto.SHA384},
		{"p384 sha256 padded", AlgECCP384, d256[:], crypto.SHA256},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCard()
			_, cert := f.issue(t, Slot9A, tc.alg)
			c := openFake(t, f)
			if err := c.VerifyPIN(ctx, []byte("123456")); err != nil {
				t.Fatal(err)
			}
			s, err := c.Signer(Slot9A, cert.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			before := f.count()
			sig, err := s.SignContext(ctx, rand.Reader, tc.digest, tc.opts)
			if err != nil {
				t.Fatalf("SignContext: %v", err)
			}
			switch pub := cert.PublicKey.(type) {
			case *rsa.PublicKey:
				if pss, ok := tc.opts.(*rsa.PSSOptions); ok {
					err = rsa.VerifyPSS(pub, pss.Hash, tc.digest, sig, pss)
				} else {
					err = rsa.VerifyPKCS1v15(pub, tc.opts.HashFunc(), tc.digest, sig)
				}
				if err != nil {
					t.Fatalf("signature does not verify: %v", err)
				}
				// 266 data bytes: one chained block of 255 and a last one; 264 back: one 61xx.
				if n := f.count() - before; n != 3 {
					t.Errorf("RSA signature took %d APDUs, want 3 (2 chained + 1 GET RESPONSE)", n)
				}
			case *ecdsa.PublicKey:
				size := (pub.Curve.Params().BitSize + 7) / 8
				if !ecdsa.VerifyASN1(pub, ecdsaInput(tc.digest, size), sig) {
					t.Fatal("signature does not verify")
				}
				if len(tc.digest) >= size && !ecdsa.VerifyASN1(pub, tc.digest, sig) {
					t.Fatal("signature does not verify with crypto/ecdsa's own truncation")
				}
				if n := f.count() - before; n != 1 {
					t.Errorf("ECDSA signature took %d APDUs, want 1", n)
				}
			}
			// crypto.Signer's Sign works the same.
			if _, err := s.Sign(rand.Reader, tc.digest, tc.opts); err != nil {
				t.Fatalf("Sign: %v", err)
			}
		})
	}
}

func TestSignerNeedsPIN(t *testing.T) {
	ctx := context.Background()
	f := newFakeCard()
	_, cert := f.issue(t, Slot9A, AlgECCP256)
	c := openFake(t, f)
	s, _ := c.Signer(Slot9A, cert.PublicKey)
	d := sha256.Sum256([]byte("x"))
	_, err := s.SignContext(ctx, rand.Reader, d[:], crypto.SHA256)
	if !errors.Is(err, ErrPINRequired) || !errors.Is(err, pcsc.ErrSecurityStatus) {
		t.Fatalf("sign without PIN: %v, want ErrPINRequired wrapping ErrSecurityStatus", err)
	}
}

func TestSigner9CPINAlways(t *testing.T) {
	ctx := context.Background()
	f := newFakeCard()
	_, cert := f.issue(t, Slot9C, AlgECCP384)
	c := openFake(t, f)
	if err := c.VerifyPIN(ctx, []byte("123456")); err != nil {
		t.Fatal(err)
	}
	s, err := c.Signer(Slot9C, cert.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	d := sha512.Sum384([]byte("contract"))
	before := f.count()
	if _, err := s.SignContext(ctx, rand.Reader, d[:], crypto.SHA384); !errors.Is(err, ErrPINRequired) {
		t.Fatalf("9C without a prompt: %v, want ErrPINRequired", err)
	}
	if f.count() != before {
		t.Fatal("9C without a prompt sent APDUs")
	}
	prompts := 0
	var given [][]byte
	s.SetPINPrompt(func(context.Context) ([]byte, error) {
		prompts++
		p := []byte("123456")
		given = append(given, p)
		return p, nil
	})
	for range 2 {
		sig, err := s.SignContext(ctx, rand.Reader, d[:], crypto.SHA384)
		if err != nil {
			t.Fatalf("9C sign: %v", err)
		}
		if !ecdsa.VerifyASN1(cert.PublicKey.(*ecdsa.PublicKey), d[:], sig) {
			t.Fatal("9C signature does not verify")
		}
	}
	if prompts != 2 {
		t.Fatalf("prompted %d times for 2 signatures", prompts)
	}
	for _, p := range given {
		if string(p) != "\x00\x00\x00\x00\x00\x00" {
			t.Fatal("the prompted PIN was not zeroed")
		}
	}
	tr := f.transcript()
	if !strings.HasPrefix(tr[len(tr)-2], "0020008008") || !strings.HasPrefix(tr[len(tr)-1], "0087149c") {
		t.Fatalf("9C signature not preceded by its VERIFY: %v", tr[len(tr)-2:])
	}
	s.SetPINPrompt(func(context.Context) ([]byte, error) { return nil, context.Canceled })
	if _, err := s.SignContext(ctx, rand.Reader, d[:], crypto.SHA384); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled prompt: %v", err)
	}
}

func TestSignerRejects(t *testing.T) {
	ctx := context.Background()
	f := newFakeCard()
	_, cert := f.issue(t, Slot9A, AlgRSA2048)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	c := openFake(t, f)
	if _, err := c.Signer(Slot9A, &small.PublicKey); !errors.Is(err, ErrUnsupportedKey) {
		t.Fatalf("RSA-1024: %v", err)
	}
	if _, err := c.Signer(Slot9A, "key"); !errors.Is(err, ErrUnsupportedKey) {
		t.Fatalf("string key: %v", err)
	}
	if err := c.VerifyPIN(ctx, []byte("123456")); err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte("x"))
	// A public key that is not the card's: the signature is caught on the host.
	s, _ := c.Signer(Slot9A, &other.PublicKey)
	if _, err := s.SignContext(ctx, rand.Reader, d[:], crypto.SHA256); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("mismatched key: %v", err)
	}
	s, _ = c.Signer(Slot9A, cert.PublicKey)
	if _, err := s.SignContext(ctx, rand.Reader, d[:20], crypto.SHA256); err == nil {
		t.Fatal("digest of the wrong size accepted")
	}
	// Garbage from the card is an error, not a panic.
	for _, resp := range [][]byte{mustHex("9000"), mustHex("7C 03 82 01 00 9000"), mustHex("7C 05 82 82 01 00 9000"), mustHex("01 9000")} {
		f.fault = func(int, []byte) ([]byte, error) { return resp, nil }
		if _, err := s.SignContext(ctx, rand.Reader, d[:], crypto.SHA256); err == nil {
			t.Fatalf("answer %x accepted", resp)
		}
	}
}

func TestSignerCardRemovedMidSign(t *testing.T) {
	ctx := context.Background()
	f := newFakeCard()
	_, cert := f.issue(t, Slot9A, AlgRSA2048)
	c := openFake(t, f)
	if err := c.VerifyPIN(ctx, []byte("123456")); err != nil {
		t.Fatal(err)
	}
	s, _ := c.Signer(Slot9A, cert.PublicKey)
	start := f.count()
	// The second block of the chained GENERAL AUTHENTICATE meets a pulled card.
	f.fault = func(n int, _ []byte) ([]byte, error) {
		if n == start+2 {
			return nil, pcsc.ErrCardRemoved
		}
		return nil, nil
	}
	d := sha256.Sum256([]byte("x"))
	if _, err := s.SignContext(ctx, rand.Reader, d[:], crypto.SHA256); !errors.Is(err, pcsc.ErrCardRemoved) {
		t.Fatalf("err = %v, want ErrCardRemoved", err)
	}
	// A cancelled context is honoured before anything is sent.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.SignContext(cctx, rand.Reader, d[:], crypto.SHA256); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestEMSAPKCS1v15(t *testing.T) {
	d := sha256.Sum256([]byte("abc"))
	em, err := emsaPKCS1v15Encode(d[:], crypto.SHA256, 256)
	if err != nil {
		t.Fatal(err)
	}
	if em[0] != 0 || em[1] != 1 || em[256-len(d)-19-1] != 0 || em[2] != 0xFF {
		t.Fatalf("bad EM %x", em)
	}
	if _, err := emsaPKCS1v15Encode(make([]byte, 250), 0, 256); err == nil {
		t.Fatal("oversized digest accepted")
	}
	if _, err := emsaPKCS1v15Encode(d[:], crypto.SHA3_256, 256); err == nil {
		t.Fatal("hash without DigestInfo accepted")
	}
}
