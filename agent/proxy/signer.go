package proxy

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// errSignerClosed is returned by a session's signer once the session has ended: the card key
// is used only inside the session the citizen opened.
var errSignerClosed = errors.New("portal proxy: the session has ended; the card is not used any more")

// cardSigner serialises and counts the signatures of the card key. A card does one operation
// at a time, and counting them is how tests and benchmarks check invariant 4.
type cardSigner struct {
	key    crypto.Signer
	mu     sync.Mutex
	n      atomic.Int64
	closed atomic.Bool
}

var _ crypto.Signer = (*cardSigner)(nil)

func (s *cardSigner) Public() crypto.PublicKey { return s.key.Public() }

func (s *cardSigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if s.closed.Load() {
		return nil, errSignerClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return nil, errSignerClosed
	}
	s.n.Add(1)
	return s.key.Sign(rand, digest, opts)
}

// close refuses further signatures without waiting for one in progress.
func (s *cardSigner) close() { s.closed.Store(true) }

// sessionCertificate checks the card's certificate chain against its signer and returns the
// certificate the TLS client presents: the signer wrapped in a cardSigner, the leaf parsed,
// and the signature schemes the card can make. Schemes already set by the caller (for a card
// that cannot do PSS, say) are kept.
func sessionCertificate(c tls.Certificate) (tls.Certificate, *cardSigner, error) {
	if len(c.Certificate) == 0 {
		return tls.Certificate{}, nil, errors.New("portal proxy: the card gave no certificate: the card cannot be used for the portal")
	}
	key, ok := c.PrivateKey.(crypto.Signer)
	if !ok || key == nil {
		return tls.Certificate{}, nil, errors.New("portal proxy: the card's key is not a signer")
	}
	leaf := c.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return tls.Certificate{}, nil, fmt.Errorf("portal proxy: the card's certificate does not parse: %w", err)
		}
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if pub, ok := leaf.PublicKey.(equaler); !ok || !pub.Equal(key.Public()) {
		return tls.Certificate{}, nil, errors.New("portal proxy: the card's certificate does not match its key")
	}
	schemes := c.SupportedSignatureAlgorithms
	if len(schemes) == 0 {
		switch pub := key.Public().(type) {
		case *rsa.PublicKey:
			schemes = []tls.SignatureScheme{
				tls.PSSWithSHA256, tls.PSSWithSHA384, tls.PSSWithSHA512,
				tls.PKCS1WithSHA256, tls.PKCS1WithSHA384, tls.PKCS1WithSHA512,
			}
		case *ecdsa.PublicKey:
			// A card signs the digest it is given; TLS 1.3 binds the hash to the curve.
			switch pub.Curve {
			case elliptic.P256():
				schemes = []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256}
			case elliptic.P384():
				schemes = []tls.SignatureScheme{tls.ECDSAWithP384AndSHA384}
			default:
				return tls.Certificate{}, nil, errors.New("portal proxy: the card's ECDSA curve is not supported (P-256 or P-384 only)")
			}
		default:
			return tls.Certificate{}, nil, fmt.Errorf("portal proxy: the card's key type %T is not supported (RSA or ECDSA only)", pub)
		}
	}
	signer := &cardSigner{key: key}
	return tls.Certificate{
		Certificate:                  c.Certificate,
		PrivateKey:                   signer,
		Leaf:                         leaf,
		SupportedSignatureAlgorithms: schemes,
	}, signer, nil
}
