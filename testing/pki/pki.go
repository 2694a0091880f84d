package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"time"
)

// DefaultSeed is the seed the command-line tools use when none is given.
const DefaultSeed = "smartpath-demo-council"

// Validity of everything this package issues. Fixed dates keep certificates deterministic.
var (
	caNotBefore   = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	caNotAfter    = time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC)
	leafNotBefore = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	leafNotAfter  = time.Date(2045, 1, 1, 0, 0, 0, 0, time.UTC)
)

// PKI is a council certificate authority: a root CA, an issuing CA below it, and the seed
// that server keys are derived from. Its methods are safe for concurrent use.
type PKI struct {
	dir        string // "" for a PKI kept only in memory
	seed       string
	org        string
	root       *x509.Certificate
	issuing    *x509.Certificate
	rootKey    crypto.Signer
	issuingKey crypto.Signer
}

// New returns the council PKI derived from seed, kept in memory only.
func New(seed string) (*PKI, error) {
	return newCA(seed, "council", "SmartPath Test Council")
}

// NewOther returns a PKI unrelated to the council's (another root and issuing CA, derived
// from seed), kept in memory only. Its citizen certificates look like the council's but
// chain to a different root: they are for "a certificate from another CA is refused" tests.
func NewOther(seed string) (*PKI, error) {
	return newCA(seed, "other", "Elsewhere Test Authority")
}

func newCA(seed, label, org string) (*PKI, error) {
	if seed == "" {
		return nil, errors.New("pki: empty seed; pass any non-empty string (pki.DefaultSeed for the demo)")
	}
	rootKey, err := deriveECKey(seed, label+"/root", elliptic.P384())
	if err != nil {
		return nil, err
	}
	issuingKey, err := deriveECKey(seed, label+"/issuing", elliptic.P256())
	if err != nil {
		return nil, err
	}
	root, err := issueCA(org, org+" Root CA", rootKey, nil, nil, 1)
	if err != nil {
		return nil, err
	}
	issuing, err := issueCA(org, org+" Issuing CA 1", issuingKey, root, rootKey, 0)
	if err != nil {
		return nil, err
	}
	return &PKI{seed: seed, org: org, root: root, issuing: issuing,
		rootKey: deterministicSigner{rootKey}, issuingKey: deterministicSigner{issuingKey}}, nil
}

// issueCA makes a CA certificate for key, self-signed when parent is nil.
func issueCA(org, cn string, key *ecdsa.PrivateKey, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, maxPath int) (*x509.Certificate, error) {
	pubDER, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, fmt.Errorf("pki: %s: %w", cn, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          deriveSerial([]byte("ca"), []byte(cn), pubDER),
		Subject:               pkix.Name{Organization: []string{org}, CommonName: cn},
		NotBefore:             caNotBefore,
		NotAfter:              caNotAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            maxPath,
		MaxPathLenZero:        maxPath == 0,
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), deterministicSigner{parentKey})
	if err != nil {
		return nil, fmt.Errorf("pki: issue %s: %w", cn, err)
	}
	return x509.ParseCertificate(der)
}

// Root returns the root CA certificate.
func (p *PKI) Root() *x509.Certificate { return p.root }

// Issuing returns the issuing CA certificate, which signs citizen and server certificates.
func (p *PKI) Issuing() *x509.Certificate { return p.issuing }

// Dir returns the directory the PKI's files are in, or "" for a PKI kept in memory.
func (p *PKI) Dir() string { return p.dir }

// Pool returns a new pool holding the root and the issuing CA, so that a leaf certificate
// sent without its chain still verifies (as a TLS client certificate from a PIV card often
// is).
func (p *PKI) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.root)
	pool.AddCert(p.issuing)
	return pool
}

// issue signs tmpl with the issuing CA.
func (p *PKI) issue(tmpl *x509.Certificate, pub crypto.PublicKey) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.issuing, pub, p.issuingKey)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}
