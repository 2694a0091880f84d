package proxy

import (
	"crypto/tls"
	"sync"
	"time"
)

// ticketWait bounds how long dials wait for the first connection of an origin to receive its
// TLS 1.3 session ticket before they go on without one.
const ticketWait = 500 * time.Millisecond

// gate decides, for one origin, when a dial may make a TLS handshake, so that a session costs
// one card signature however many requests race for the first connection:
//
//   - A handshake without a cached session ticket (a full one: the card signs) runs alone;
//     other dials wait until it has settled (its ticket stored, or none coming).
//   - While the first connection of the main transport (the anchor) is open, dials wait for
//     it to close if it speaks HTTP/2 (the transport hands it to every waiting request, and
//     queues requests beyond the stream limit on it, so dials would only make spare
//     connections) or if the origin gives no tickets (each new connection would cost a
//     signature; the requests queue for the one keep-alive connection instead).
//   - With a ticket cached and no such anchor, dials go in parallel and resume the session.
//
// Dials for websocket upgrades (HTTP/1.1 only) ignore the anchor.
type gate struct {
	resumable func() bool // whether a session ticket is cached

	mu       sync.Mutex
	inflight chan struct{} // closed when the leading handshake settles
	timer    *time.Timer
	anchor   *anchor
}

type anchor struct {
	h2     bool
	closed chan struct{}
}

type admission int

const (
	dialFree admission = iota // dial now
	dialLead                  // dial now, others wait; call led afterwards
	dialWait                  // wait on the channel and ask again
)

func (g *gate) enter(ignoreAnchor bool) (admission, <-chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.inflight != nil {
		return dialWait, g.inflight
	}
	resumable := g.resumable()
	if a := g.anchor; a != nil && !ignoreAnchor && (a.h2 || !resumable) {
		return dialWait, a.closed
	}
	if resumable {
		return dialFree, nil
	}
	g.inflight = make(chan struct{})
	return dialLead, nil
}

// led records the outcome of a leading handshake. tc is the connection under conn; main says
// whether the dial was for the main transport (which may anchor).
func (g *gate) led(conn *tls.Conn, tc *trackedConn, err error, main bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err != nil {
		g.releaseLocked()
		return
	}
	cs := conn.ConnectionState()
	if main && g.anchor == nil {
		a := &anchor{h2: cs.NegotiatedProtocol == "h2", closed: make(chan struct{})}
		g.anchor = a
		tc.onClose = func() {
			g.mu.Lock()
			if g.anchor == a {
				g.anchor = nil
			}
			g.mu.Unlock()
			close(a.closed)
		}
	}
	switch {
	case g.resumable(), cs.Version < tls.VersionTLS13: // TLS 1.2 tickets come inside the handshake
		g.releaseLocked()
	case g.timer == nil:
		g.timer = time.AfterFunc(ticketWait, g.release)
	}
}

// release lets the waiting dials go on (a ticket arrived, or the wait for one ended).
func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.releaseLocked()
}

func (g *gate) releaseLocked() {
	if g.timer != nil {
		g.timer.Stop()
		g.timer = nil
	}
	if g.inflight != nil {
		close(g.inflight)
		g.inflight = nil
	}
}

// stop ends the gate's timer at session end; dials waiting on it see the session context.
func (g *gate) stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.timer != nil {
		g.timer.Stop()
		g.timer = nil
	}
}
