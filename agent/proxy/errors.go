package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
)

// Errors of [Session.Probe], to be told apart with errors.Is. The wrapped error says more.
var (
	// ErrPortalUnavailable: the portal could not be reached, timed out, or answered with a
	// server error. Try again later; check the network and the portal address.
	ErrPortalUnavailable = errors.New("the council portal is not available")
	// ErrPortalUntrusted: the portal's certificate did not verify against the configured CA
	// bundle (or did not match its name). The kiosk will not talk to it.
	ErrPortalUntrusted = errors.New("the council portal's certificate is not trusted")
	// ErrClientCertRefused: the portal refused the citizen's card certificate (a TLS alert
	// such as bad_certificate, unknown_ca, certificate_required or access_denied, or an HTTP
	// 401/403 answer).
	ErrClientCertRefused = errors.New("the council portal refused the card's certificate")
)

// refusalAlerts are the TLS alerts with which a server refuses a client certificate.
var refusalAlerts = []tls.AlertError{
	42,  // bad_certificate
	43,  // unsupported_certificate
	44,  // certificate_revoked
	45,  // certificate_expired
	46,  // certificate_unknown
	48,  // unknown_ca
	49,  // access_denied
	116, // certificate_required
}

// classify wraps a failed upstream round trip in the sentinel that says what went wrong.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL may carry a query: keep it out of errors and logs
	}
	var (
		verr *tls.CertificateVerificationError
		uerr x509.UnknownAuthorityError
		herr x509.HostnameError
		cerr x509.CertificateInvalidError
	)
	if errors.As(err, &verr) || errors.As(err, &uerr) || errors.As(err, &herr) || errors.As(err, &cerr) {
		return fmt.Errorf("%w: %w", ErrPortalUntrusted, err)
	}
	if a, ok := remoteAlert(err); ok {
		for _, r := range refusalAlerts {
			if a == r {
				return fmt.Errorf("%w: %w", ErrClientCertRefused, err)
			}
		}
	}
	return fmt.Errorf("%w: %w", ErrPortalUnavailable, err)
}

// remoteAlert finds a TLS alert the portal sent. crypto/tls reports a received alert as a
// net.OpError "remote error" around an unexported type whose text is that of tls.AlertError.
func remoteAlert(err error) (tls.AlertError, bool) {
	var ae tls.AlertError
	if errors.As(err, &ae) {
		return ae, true
	}
	for e := err; e != nil; {
		var oe *net.OpError
		if !errors.As(e, &oe) {
			break
		}
		if oe.Op == "remote error" && oe.Err != nil {
			for _, r := range refusalAlerts {
				if oe.Err.Error() == r.Error() {
					return r, true
				}
			}
			return 0, false
		}
		e = oe.Err
	}
	return 0, false
}
