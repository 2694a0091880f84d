package portal

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Citizen is who a verified client certificate says the visitor is.
type Citizen struct {
	// Name is the certificate's subject common name, e.g. "Jane Citizen".
	Name string
	// Number is the citizen number: the subject's serialNumber attribute (2.5.4.5), else its
	// UID (0.9.2342.19200300.100.1.1). A certificate with neither is refused.
	Number string
	// SerialHash identifies the certificate (see [ConnStats.SerialHash]).
	SerialHash string
}

// RefusalCode says why a client certificate was not accepted. The portal sends it in the
// X-Portal-Refusal header of its 403 page (and logs it), so a kiosk can classify the refusal
// without parsing HTML.
type RefusalCode string

const (
	// RefusalMissing: no client certificate was presented.
	RefusalMissing RefusalCode = "client-cert-missing"
	// RefusalUntrusted: the certificate was not issued by this council's CA.
	RefusalUntrusted RefusalCode = "client-cert-untrusted"
	// RefusalExpired: the certificate is outside its validity period.
	RefusalExpired RefusalCode = "client-cert-expired"
	// RefusalInvalid: issued by the council but not usable to sign in (wrong key usage, no
	// citizen number, malformed).
	RefusalInvalid RefusalCode = "client-cert-invalid"
)

// RefusalHeader is the response header that carries a [RefusalCode] on a 403 for a client
// certificate. Other refusals use it too: "csrf" (a form posted without its session's
// token), "sso-ticket" (an unknown, used or expired sign-in ticket), "sso-service" (the SSO
// asked to sign in to another service) and "ws-origin" (a websocket from another origin).
const RefusalHeader = "X-Portal-Refusal"

// Refusal is the error for a client certificate the portal does not accept.
type Refusal struct {
	Code RefusalCode
	// Title and Advice are what the refusal page shows a person.
	Title, Advice string
	Err           error
}

func (r *Refusal) Error() string {
	if r.Err != nil {
		return fmt.Sprintf("portal: %s: %s: %v", r.Code, r.Title, r.Err)
	}
	return fmt.Sprintf("portal: %s: %s", r.Code, r.Title)
}

func (r *Refusal) Unwrap() error { return r.Err }

var (
	oidSerialNumber = asn1.ObjectIdentifier{2, 5, 4, 5}
	oidUID          = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
)

const maxNameLen = 200

func peerOf(c *x509.Certificate) peerCert {
	sum := sha256.Sum256(c.SerialNumber.Bytes())
	return peerCert{CN: c.Subject.CommonName, SerialHash: hex.EncodeToString(sum[:8])}
}

// verifyCitizen checks a presented chain against the council CA and extracts the citizen.
func verifyCitizen(chain []*x509.Certificate, roots *x509.CertPool, now time.Time) (*Citizen, *Refusal) {
	if len(chain) == 0 {
		return nil, &Refusal{Code: RefusalMissing,
			Title:  "No council card was presented",
			Advice: "This service needs your council card. Insert your card and sign in with your PIN, then try again."}
	}
	leaf := chain[0]
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		var unknown x509.UnknownAuthorityError
		var invalid x509.CertificateInvalidError
		switch {
		case errors.As(err, &unknown):
			return nil, &Refusal{Code: RefusalUntrusted, Err: err,
				Title:  "Your card was not issued by this council",
				Advice: "Only cards issued by this council can be used here. Take your card and ask the library staff, or contact the council that issued it."}
		case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
			return nil, &Refusal{Code: RefusalExpired, Err: err,
				Title:  "Your card has expired",
				Advice: "Your council card is no longer valid. Contact the council to renew it."}
		default:
			return nil, &Refusal{Code: RefusalInvalid, Err: err,
				Title:  "Your card cannot be used to sign in",
				Advice: "The council could not accept the certificate on your card. Contact the council with this message."}
		}
	}
	cz := &Citizen{Name: leaf.Subject.CommonName, SerialHash: peerOf(leaf).SerialHash}
	for _, atv := range leaf.Subject.Names {
		if s, ok := atv.Value.(string); ok && atv.Type.Equal(oidSerialNumber) && cz.Number == "" {
			cz.Number = s
		}
	}
	if cz.Number == "" {
		for _, atv := range leaf.Subject.Names {
			if s, ok := atv.Value.(string); ok && atv.Type.Equal(oidUID) {
				cz.Number = s
				break
			}
		}
	}
	if cz.Number == "" || len(cz.Number) > maxNameLen || len(cz.Name) > maxNameLen {
		return nil, &Refusal{Code: RefusalInvalid,
			Title:  "Your card cannot be used to sign in",
			Advice: "The certificate on your card carries no citizen number. Contact the council with this message."}
	}
	if cz.Name == "" {
		cz.Name = "Citizen " + cz.Number
	}
	return cz, nil
}

// citizenOf verifies the connection's client certificate once and caches the outcome.
func (s *Server) citizenOf(ci *connInfo, chain []*x509.Certificate) (*Citizen, *Refusal) {
	ci.verifyOnce.Do(func() {
		ci.citizen, ci.refusal = verifyCitizen(chain, s.opts.ClientCAs, s.opts.Now())
	})
	return ci.citizen, ci.refusal
}
