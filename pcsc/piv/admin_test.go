package piv

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	"smartpath/pcsc"
)

func TestIssueCardLikeAnIssuer(t *testing.T) {
	ctx := context.Background()
	f := newFakeCard()
	c := openFake(t, f)
	if _, err := c.GenerateKey(ctx, Slot9A, AlgECCP256); !errors.Is(err, pcsc.ErrSecurityStatus) {
		t.Fatalf("GenerateKey without the management key: %v", err)
	}
	if err := c.AuthenticateManagementKey(ctx, Alg3DES, bytes.Repeat([]byte{9}, 24)); !errors.Is(err, ErrManagementKey) {
		t.Fatalf("wrong management key: %v", err)
	}
	if err := c.AuthenticateManagementKey(ctx, AlgAES128, testAdminKey); err == nil {
		t.Fatal("a 24-byte AES-128 key accepted")
	}
	if err := c.AuthenticateManagementKey(ctx, Alg3DES, testAdminKey); err != nil {
		t.Fatalf("AuthenticateManagementKey: %v", err)
	}
	pub, err := c.GenerateKey(ctx, Slot9A, AlgECCP256)
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	// Self-sign a certificate for the new key, with the card's own signer.
	if err := c.VerifyPIN(ctx, []byte("123456")); err != nil {
		t.Fatal(err)
	}
	s, err := c.Signer(Slot9A, pub)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Issued"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, s)
	if err != nil {
		t.Fatalf("CreateCertificate with the card signer: %v", err)
	}
	cert, _ := x509.ParseCertificate(der)
	if err := c.PutCertificate(ctx, Slot9A, cert); err != nil {
		t.Fatalf("PutCertificate: %v", err)
	}
	// A fresh client reads it back from the card.
	c2 := openFake(t, f)
	got, err := c2.Certificate(ctx, Slot9A)
	if err != nil || !got.Equal(cert) {
		t.Fatalf("Certificate = %v, %v", got, err)
	}
	d := sha256.Sum256([]byte("after issue"))
	sig, err := s.SignContext(ctx, rand.Reader, d[:], crypto.SHA256)
	if err != nil || !ecdsa.VerifyASN1(got.PublicKey.(*ecdsa.PublicKey), d[:], sig) {
		t.Fatalf("sign after issue: %v", err)
	}
}

func TestParsePublicKeyRejects(t *testing.T) {
	for _, in := range []string{
		"", "7F49 00", "7F49 03 86 01 04", "7F49 04 81 00 82 00", "7C 00",
	} {
		for _, alg := range []Algorithm{AlgRSA2048, AlgECCP256, AlgECCP384} {
			if _, err := parsePublicKey(mustHex(in), alg); err == nil {
				t.Errorf("%s accepted as %s", in, alg)
			}
		}
	}
}
