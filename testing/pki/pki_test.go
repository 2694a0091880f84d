package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSameSeedSameCA(t *testing.T) {
	a, err := LoadOrCreate(t.TempDir(), "seed-1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := New("seed-1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := New("seed-2")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Root().Raw, b.Root().Raw) || !bytes.Equal(a.Issuing().Raw, b.Issuing().Raw) {
		t.Error("same seed gave different CA certificates")
	}
	if bytes.Equal(a.Root().Raw, c.Root().Raw) {
		t.Error("different seeds gave the same root")
	}
	sa, err := a.IssueServer("portal.test")
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.IssueServer("portal.test")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sa.Leaf.Raw, sb.Leaf.Raw) {
		t.Error("same seed gave different server certificates")
	}
	key := mustKey(t)
	ca, _ := a.IssueCitizen("Jane Citizen", "C-1001", key.Public())
	cb, _ := b.IssueCitizen("Jane Citizen", "C-1001", key.Public())
	if !bytes.Equal(ca.Raw, cb.Raw) {
		t.Error("same seed and key gave different citizen certificates")
	}
}

func TestLoadOrCreateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	p, err := LoadOrCreate(dir, "seed-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range caFiles {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		wantKey := strings.HasSuffix(name, "-key.pem")
		if got := fi.Mode().Perm(); wantKey && got != 0o600 {
			t.Errorf("%s mode %o, want 0600", name, got)
		}
	}
	bundle, _ := os.ReadFile(filepath.Join(dir, BundleFile))
	if n := strings.Count(string(bundle), "BEGIN CERTIFICATE"); n != 2 {
		t.Errorf("bundle holds %d certificates, want 2", n)
	}
	// A second call with another seed loads what is there.
	q, err := LoadOrCreate(dir, "other-seed")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.Root().Raw, q.Root().Raw) {
		t.Error("reload changed the root")
	}
	key := mustKey(t)
	cert, err := q.IssueCitizen("Jane Citizen", "C-1001", key.Public())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: p.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("citizen certificate from reloaded CA: %v", err)
	}
	certFile, keyFile, err := q.WriteServer("portal.test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		t.Errorf("written server pair: %v", err)
	}
	os.Remove(filepath.Join(dir, RootKeyFile))
	if _, err := LoadOrCreate(dir, "seed-1"); err == nil || !strings.Contains(err.Error(), RootKeyFile) {
		t.Errorf("incomplete dir: err = %v, want one naming %s", err, RootKeyFile)
	}
}

func TestCitizenCertificate(t *testing.T) {
	p, err := New("seed-1")
	if err != nil {
		t.Fatal(err)
	}
	key := mustKey(t)
	cert, err := p.IssueCitizen("Jane Citizen", "C-1001", key.Public())
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "Jane Citizen" || cert.Subject.SerialNumber != "C-1001" {
		t.Errorf("subject = %v", cert.Subject)
	}
	if cert.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("key usage = %v", cert.KeyUsage)
	}
	opts := x509.VerifyOptions{Roots: p.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if _, err := cert.Verify(opts); err != nil {
		t.Error(err)
	}
	opts.KeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	if _, err := cert.Verify(opts); err == nil {
		t.Error("citizen certificate verified for serverAuth")
	}

	other, err := NewOther("seed-1")
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.IssueCitizen("Jane Citizen", "C-1001", key.Public())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := foreign.Verify(x509.VerifyOptions{Roots: p.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("certificate from another CA verified against the council pool")
	}

	expired, err := p.IssueCitizenCert(Citizen{Name: "Old Card", Number: "C-1", Public: key.Public(),
		NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := expired.Verify(x509.VerifyOptions{Roots: p.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("expired certificate verified")
	}
	if _, err := p.IssueCitizen("", "C-1", key.Public()); err == nil {
		t.Error("empty name accepted")
	}
}

func TestServerCertificate(t *testing.T) {
	p, err := New("seed-1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.IssueServer("portal.test", "10.1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"localhost", "127.0.0.1", "::1", "portal.test", "10.1.2.3"} {
		if _, err := c.Leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: p.Pool()}); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
	if len(c.Certificate) != 2 {
		t.Errorf("chain has %d certificates, want leaf and issuing CA", len(c.Certificate))
	}
	d, _ := p.IssueServer("10.1.2.3", "portal.test")
	if !bytes.Equal(c.Leaf.Raw, d.Leaf.Raw) {
		t.Error("name order changed the certificate")
	}
}

func mustKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
