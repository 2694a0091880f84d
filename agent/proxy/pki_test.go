package proxy

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testCA is a small certificate authority made in the test.
type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
	pool *x509.CertPool
}

var (
	keyMu    sync.Mutex
	keyCache = map[string]crypto.Signer{}
)

// testKey returns a key of the given kind ("rsa", "p256", "p384"), cached per name because
// RSA key generation is slow.
func testKey(t testing.TB, kind, name string) crypto.Signer {
	t.Helper()
	keyMu.Lock()
	defer keyMu.Unlock()
	if k, ok := keyCache[kind+"/"+name]; ok {
		return k
	}
	var (
		k   crypto.Signer
		err error
	)
	switch kind {
	case "rsa":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case "p256":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "p384":
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	default:
		t.Fatalf("unknown key kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	keyCache[kind+"/"+name] = k
	return k
}

var serial atomic.Int64

func newCA(t testing.TB, name string) *testCA {
	t.Helper()
	key := testKey(t, "p256", "ca/"+name)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial.Add(1)),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

func (ca *testCA) issue(t testing.TB, tmpl *x509.Certificate, pub crypto.PublicKey) []byte {
	t.Helper()
	tmpl.SerialNumber = big.NewInt(serial.Add(1))
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// serverCert is a TLS server certificate for the given DNS names and 127.0.0.1.
func (ca *testCA) serverCert(t testing.TB, names ...string) tls.Certificate {
	t.Helper()
	key := testKey(t, "p256", "server")
	der := ca.issue(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: names[0]},
		DNSNames:    names,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, key.Public())
	return tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key}
}

// card is a client certificate whose key sits behind a counting, slow signer, like a card.
type card struct {
	cert   tls.Certificate
	signer *countingSigner
}

func (ca *testCA) card(t testing.TB, kind, name string) card {
	t.Helper()
	key := testKey(t, kind, "card/"+name)
	der := ca.issue(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: name},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, key.Public())
	s := &countingSigner{key: key, delay: 2 * time.Millisecond}
	return card{cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: s}, signer: s}
}

// countingSigner simulates the card: it counts signatures, remembers whether the last RSA
// signature was PSS, and takes a little time.
type countingSigner struct {
	key   crypto.Signer
	delay time.Duration
	n     atomic.Int64
	pss   atomic.Int64
	busy  atomic.Int32
	overl atomic.Bool // two signatures overlapped
}

func (s *countingSigner) Public() crypto.PublicKey { return s.key.Public() }

func (s *countingSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if s.busy.Add(1) > 1 {
		s.overl.Store(true)
	}
	defer s.busy.Add(-1)
	s.n.Add(1)
	if _, ok := opts.(*rsa.PSSOptions); ok {
		s.pss.Add(1)
	}
	time.Sleep(s.delay) // the card's work, not synchronisation
	return s.key.Sign(r, digest, opts)
}
