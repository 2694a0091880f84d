package kioskui

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"time"

	"smartpath/agent/shelllink"
)

// agentLink is the shell's own channel to the agent (package shelllink): it receives the
// agent's wipe orders and sends the shell's confirmations. No page takes part in it.
type agentLink struct {
	log      *slog.Logger
	startURL func() (string, error) // the current start URL (it holds the token)
	retryMin time.Duration
	retryMax time.Duration

	orders   chan uint64 // to the UI thread (through the supervisor)
	confirms chan uint64 // from the UI thread
}

func newAgentLink(log *slog.Logger, startURL func() (string, error), retryMin, retryMax time.Duration) *agentLink {
	return &agentLink{log: log, startURL: startURL, retryMin: retryMin, retryMax: retryMax,
		orders: make(chan uint64, 8), confirms: make(chan uint64, 8)}
}

// uiOriginAndToken splits a start URL http://127.0.0.1:PORT/#token=TOKEN. Errors never
// carry the token.
func uiOriginAndToken(start string) (string, string, error) {
	u, err := parseStartURL(start)
	if err != nil {
		return "", "", redactErr(err)
	}
	frag, err := url.ParseQuery(u.Fragment)
	if err != nil || len(frag["token"]) != 1 || frag.Get("token") == "" {
		return "", "", errors.New("the start URL has no #token=")
	}
	return u.Scheme + "://" + u.Host, frag.Get("token"), nil
}

// run keeps the link up until ctx ends, reconnecting with backoff.
func (l *agentLink) run(ctx context.Context) {
	for attempt := 0; ctx.Err() == nil; attempt++ {
		if l.session(ctx) {
			attempt = 0
		}
		if attempt%20 == 1 {
			l.log.Info("the agent's shell channel is down; retrying", "attempt", attempt)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff(attempt+1, l.retryMin, l.retryMax)):
		}
	}
}

// session connects once and serves the connection until it ends; it reports whether it
// connected.
func (l *agentLink) session(ctx context.Context) bool {
	start, err := l.startURL()
	if err != nil {
		return false
	}
	origin, token, err := uiOriginAndToken(start)
	if err != nil {
		l.log.Warn("shell channel", "err", err)
		return false
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c, err := shelllink.Dial(cctx, origin, token)
	if err != nil {
		l.log.Debug("shell channel", "err", err)
		return false
	}
	defer c.Close()
	l.log.Info("connected to the agent's shell channel")
	// Confirmations meant for an earlier connection mean nothing on this one.
	for drained := false; !drained; {
		select {
		case <-l.confirms:
		default:
			drained = true
		}
	}
	readErr := make(chan error, 1)
	go func() { // owned here: c.Close (deferred) ends it, and we wait for it below
		for {
			id, err := c.Next()
			if err != nil {
				readErr <- err
				return
			}
			select {
			case l.orders <- id:
			case <-cctx.Done():
				readErr <- cctx.Err()
				return
			}
		}
	}()
	defer func() {
		cancel()
		c.Close()
		<-readErr
	}()
	for {
		select {
		case id := <-l.confirms:
			if err := c.Confirm(id); err != nil {
				l.log.Warn("shell channel: confirm", "err", err)
				return true
			}
		case err := <-readErr:
			readErr <- err // for the deferred wait
			l.log.Info("the agent's shell channel closed", "err", err)
			return true
		case <-ctx.Done():
			return true
		}
	}
}

// confirm queues a confirmation; called on the UI thread, it never blocks.
func (l *agentLink) confirm(id uint64) {
	select {
	case l.confirms <- id:
	default:
		l.log.Warn("shell channel: confirmations are not going out; dropping one", "id", id)
	}
}
