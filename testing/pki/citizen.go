package pki

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"time"
)

// Citizen describes a citizen certificate to issue.
type Citizen struct {
	Name   string           // subject common name, e.g. "Jane Citizen"
	Number string           // subject serialNumber, the citizen number, e.g. "C-1001"
	Public crypto.PublicKey // the card's key (*rsa.PublicKey or *ecdsa.PublicKey)
	// NotBefore and NotAfter override the default validity (2025-01-01 to 2045-01-01), for
	// example to make an expired card.
	NotBefore, NotAfter time.Time
}

// IssueCitizen issues a citizen certificate for pub: subject CN = name, serialNumber =
// number, key usage digitalSignature, extended key usage clientAuth, signed by the issuing
// CA. The same PKI, name, number and key always give the same certificate.
func (p *PKI) IssueCitizen(name, number string, pub crypto.PublicKey) (*x509.Certificate, error) {
	return p.IssueCitizenCert(Citizen{Name: name, Number: number, Public: pub})
}

// IssueCitizenCert issues the citizen certificate c describes.
func (p *PKI) IssueCitizenCert(c Citizen) (*x509.Certificate, error) {
	if c.Name == "" || c.Number == "" {
		return nil, errors.New("pki: a citizen certificate needs a name and a citizen number")
	}
	if c.Public == nil {
		return nil, errors.New("pki: a citizen certificate needs the card's public key")
	}
	pubDER, err := x509.MarshalPKIXPublicKey(c.Public)
	if err != nil {
		return nil, fmt.Errorf("pki: citizen %s: unsupported public key: %w", c.Number, err)
	}
	notBefore, notAfter := leafNotBefore, leafNotAfter
	if !c.NotBefore.IsZero() {
		notBefore = c.NotBefore.UTC().Truncate(time.Second)
	}
	if !c.NotAfter.IsZero() {
		notAfter = c.NotAfter.UTC().Truncate(time.Second)
	}
	if !notAfter.After(notBefore) {
		return nil, fmt.Errorf("pki: citizen %s: NotAfter %s is not after NotBefore %s", c.Number, notAfter, notBefore)
	}
	tmpl := &x509.Certificate{
		SerialNumber: deriveSerial([]byte("citizen"), []byte(c.Name), []byte(c.Number), pubDER,
			[]byte(notBefore.String()), []byte(notAfter.String())),
		Subject: pkix.Name{
			Organization: []string{p.org},
			CommonName:   c.Name,
			SerialNumber: c.Number,
		},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	cert, err := p.issue(tmpl, c.Public)
	if err != nil {
		return nil, fmt.Errorf("pki: issue citizen certificate for %s: %w", c.Number, err)
	}
	return cert, nil
}
