package portal

import (
	"crypto/tls"
	"errors"
)

// tlsConfig builds the server config of one origin. GetConfigForClient hands every
// connection its own clone whose VerifyConnection knows the connection, so each handshake —
// full or resumed — is recorded against it. Session ticket keys stay those of the outer
// config, so resumption works across connections.
func (s *Server) tlsConfig(o origin) *tls.Config {
	protos := []string{"h2", "http/1.1"}
	if s.opts.DisableHTTP2 {
		protos = []string{"http/1.1"}
	}
	inner := &tls.Config{
		Certificates: []tls.Certificate{s.opts.ServerCert},
		MinVersion:   s.opts.MinTLS,
		MaxVersion:   s.opts.MaxTLS,
		NextProtos:   protos,
		ClientCAs:    s.opts.ClientCAs,
	}
	asksCert := o == originPortal || (o == originSSO && s.opts.SSORequiresClientCert)
	switch {
	case !asksCert:
		inner.ClientAuth = tls.NoClientCert
	case s.opts.RefuseInHandshake:
		// A missing certificate ends the handshake with certificate_required (TLS 1.3) or
		// handshake_failure (TLS 1.2); a foreign one with bad_certificate from VerifyConnection.
		inner.ClientAuth = tls.RequireAnyClientCert
	default:
		// Complete the handshake whatever the client sends; requests then get a 403 page.
		inner.ClientAuth = tls.RequestClientCert
	}
	outer := inner.Clone()
	outer.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		ci := connOf(hello.Conn)
		if ci == nil {
			return nil, nil
		}
		c := inner.Clone()
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			if asksCert && s.opts.RefuseInHandshake {
				if _, ref := s.citizenOf(ci, cs.PeerCertificates); ref != nil {
					s.reg.handshake(ci, cs, true)
					s.log.Warn("client certificate refused in handshake", "origin", o, "conn", ci.id,
						"refusal", ref.Code, "err", ref)
					return ref
				}
			}
			s.reg.handshake(ci, cs, false)
			return nil
		}
		return c, nil
	}
	return outer
}

// errNoTLS is returned for a request that did not arrive over TLS (never, in practice).
var errNoTLS = errors.New("portal: request without TLS")
