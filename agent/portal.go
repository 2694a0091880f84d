package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"

	"smartpath/agent/config"
	"smartpath/agent/proxy"
	"smartpath/agent/session"
	"smartpath/agent/telemetry"
)

// portalOpener opens the citizen's portal session (session.Portal): a fresh proxy session
// whose TLS client signs with the card, probed once so that the one card signature and any
// failure happen before the portal is shown.
type portalOpener struct {
	cfg proxy.Config // OnRequest and OnResponse are set per session
	// signOut is portal.end_session_urls as compared (config.Portal.EndSessionTargets).
	signOut []string
	// signed counts card signatures for the metrics.
	signed func(n int)
}

func newPortalOpener(cfg *config.Config, roots *x509.CertPool, uiOrigin string, logger *slog.Logger,
	tel *telemetry.Telemetry) *portalOpener {
	home, _ := url.Parse(cfg.Portal.Home) // checked by config.Load
	var origins []*url.URL
	for _, o := range cfg.Portal.Origins {
		u, _ := url.Parse(o)
		origins = append(origins, u)
	}
	return &portalOpener{
		cfg: proxy.Config{
			Home:                  home,
			Origins:               origins,
			RootCAs:               roots,
			ListenHost:            cfg.Portal.ListenHost,
			FirstPort:             cfg.Portal.FirstPort,
			UIOrigin:              uiOrigin,
			ConnectTimeout:        cfg.Portal.ConnectTimeout,
			ResponseHeaderTimeout: cfg.Portal.ResponseHeaderTimeout,
			Logger:                logger.With("component", "proxy"),
		},
		signOut: cfg.Portal.EndSessionTargets(),
		signed: func(n int) {
			for range n {
				tel.CardSignature()
			}
		},
	}
}

type portalSession struct {
	*proxy.Session
	signed func(n int)
}

// SetDisplay passes the citizen's display choice to the proxy: the language for
// Accept-Language and high contrast for the portal's pages (larger text is the UI's zoom of
// the frame).
func (s portalSession) SetDisplay(d session.Display) {
	s.Session.SetDisplay(proxy.Display{Lang: d.Lang, HighContrast: d.HighContrast})
}

// Close ends the proxy session and reports how many card signatures it cost.
func (s portalSession) Close() error {
	err := s.Session.Close()
	if s.signed != nil {
		s.signed(s.Session.Signatures())
	}
	return err
}

// Open starts a proxy session whose TLS client presents cred, the card key the citizen's
// PIN unlocked. Browsing the portal is activity the UI cannot see (input in another
// origin's frame): the citizen's navigations are reported, at most every
// portalActivityEvery, and their sign-out in the portal ends the session.
func (p *portalOpener) Open(ctx context.Context, cred session.Credential, events session.PortalEvents) (session.PortalSession, error) {
	cert := tls.Certificate{Certificate: [][]byte{cred.Certificate.Raw}, PrivateKey: cred.Signer, Leaf: cred.Certificate}
	cfg := p.cfg
	cfg.OnRequest = newActivityThrottle(portalActivityEvery, events.Activity).request
	cfg.OnResponse = newSignOutWatch(p.signOut, events.EndSession).response
	s, err := proxy.Start(ctx, cfg, cert)
	if err != nil {
		return nil, fmt.Errorf("start the portal proxy: %w", err)
	}
	ps := portalSession{Session: s, signed: p.signed}
	if err := s.Probe(ctx); err != nil {
		_ = ps.Close()
		return nil, classifyPortalError(err)
	}
	return ps, nil
}

// classifyPortalError is the one place the proxy's failures become the citizen's error
// screens; anything else is portal_unavailable.
func classifyPortalError(err error) error {
	switch {
	case errors.Is(err, proxy.ErrPortalUntrusted):
		return session.Fail(session.ErrCodePortalUntrusted, err)
	case errors.Is(err, proxy.ErrClientCertRefused):
		return session.Fail(session.ErrCodeClientCertRefused, err)
	default:
		return err
	}
}
