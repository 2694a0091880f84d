package agent

import (
	"context"
	"errors"
	"fmt"

	"smartpath/agent/proxy"
	"smartpath/agent/session"
)

// portalOpener opens the citizen's portal session (session.Portal): a fresh proxy session
// whose TLS client signs with the card, probed once so that the one card signature and any
// failure happen before the portal is shown.
type portalOpener struct {
	cfg  proxy.Config
	card *pivCard
	// signed counts card signatures for the metrics.
	signed func(n int)
}

type portalSession struct {
	*proxy.Session
	signed func(n int)
}

// Close ends the proxy session and reports how many card signatures it cost.
func (s portalSession) Close() error {
	err := s.Session.Close()
	if s.signed != nil {
		s.signed(s.Session.Signatures())
	}
	return err
}

func (p *portalOpener) Open(ctx context.Context) (session.PortalSession, error) {
	cert, err := p.card.clientCertificate()
	if err != nil {
		return nil, err
	}
	s, err := proxy.Start(ctx, p.cfg, cert)
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

func classifyPortalError(err error) error {
	switch {
	case errors.Is(err, proxy.ErrPortalUntrusted):
		return fmt.Errorf("%w: %w", session.ErrPortalUntrusted, err)
	case errors.Is(err, proxy.ErrClientCertRefused):
		return fmt.Errorf("%w: %w", session.ErrClientCertRefused, err)
	default:
		return fmt.Errorf("%w: %w", session.ErrPortalUnavailable, err)
	}
}
