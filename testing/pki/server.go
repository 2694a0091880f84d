package pki

import (
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"slices"
	"strings"
)

// defaultServerNames are in every server certificate: the demo portal runs on loopback.
var defaultServerNames = []string{"localhost", "127.0.0.1", "::1"}

// IssueServer returns a server certificate (extended key usage serverAuth) for localhost,
// 127.0.0.1, ::1 and names (DNS names or IP addresses), with its key, and the issuing CA in
// the chain. The key is derived from the seed and the names, so the result is the same every
// time.
func (p *PKI) IssueServer(names ...string) (tls.Certificate, error) {
	all := serverNames(names)
	key, err := deriveECKey(p.seed, "server/"+strings.Join(all, ","), elliptic.P256())
	if err != nil {
		return tls.Certificate{}, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: server key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          deriveSerial([]byte("server"), []byte(strings.Join(all, ",")), pubDER),
		Subject:               pkix.Name{Organization: []string{p.org}, CommonName: all[0]},
		NotBefore:             leafNotBefore,
		NotAfter:              leafNotAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, n := range all {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	leaf, err := p.issue(tmpl, key.Public())
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: issue server certificate for %v: %w", all, err)
	}
	return tls.Certificate{
		Certificate: [][]byte{leaf.Raw, p.issuing.Raw},
		PrivateKey:  key,
		Leaf:        leaf,
	}, nil
}

// serverNames returns the default names followed by the extra ones, without duplicates or
// empty names; the extra names sorted, so their order does not matter.
func serverNames(extra []string) []string {
	var more []string
	for _, n := range extra {
		n = strings.TrimSpace(n)
		if n != "" && !slices.Contains(defaultServerNames, n) && !slices.Contains(more, n) {
			more = append(more, n)
		}
	}
	slices.Sort(more)
	return append(slices.Clone(defaultServerNames), more...)
}
