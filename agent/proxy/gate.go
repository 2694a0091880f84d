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
//   - A cached ticket is first tried alone, on a connection that offers no card (a trial):
//     a portal that resumes answers without asking for a certificate and the ticket is
//     proven; one that does not would ask for the card, so the trial connection is dropped
//     unsigned and the origin's tickets count as useless from then on (some servers hand
//     out tickets they never accept, e.g. nginx with ssl_session_cache off over TLS 1.3).
//   - With a proven ticket cached and no such anchor, dials go in parallel and resume.
//
// Dials for websocket upgrades (HTTP/1.1 only) ignore the anchor.
type gate struct {
	hasTicket func() bool // whether a session ticket is cached

	mu       sync.Mutex
	inflight chan struct{} // closed when the leading handshake or the trial settles
	timer    *time.Timer
	anchor   *anchor
	// proven: a trial resumed with a cached ticket; useless: one did not, so tickets of
	// this origin are never relied on again this session.
	proven, useless bool
}

type anchor struct {
	h2     bool
	closed chan struct{}
}

type admission int

const (
	dialFree  admission = iota // dial now
	dialLead                   // dial now, others wait; call led afterwards
	dialTrial                  // dial with the ticket and without the card, others wait; call tried afterwards
	dialWait                   // wait on the channel and ask again
)

// resumableLocked reports whether dials may count on resuming: a ticket is cached and the
// origin has not shown that its tickets are useless.
func (g *gate) resumableLocked() bool { return !g.useless && g.hasTicket() }

func (g *gate) enter(ignoreAnchor bool) (admission, <-chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.inflight != nil {
		return dialWait, g.inflight
	}
	resumable := g.resumableLocked()
	if a := g.anchor; a != nil && !ignoreAnchor && (a.h2 || !resumable) {
		return dialWait, a.closed
	}
	if resumable && g.proven {
		return dialFree, nil
	}
	g.inflight = make(chan struct{})
	if resumable {
		return dialTrial, nil
	}
	return dialLead, nil
}

// tried records a trial's outcome: resumed, or the portal would have needed the card
// (refused is false for a trial that failed for another reason, such as the network).
func (g *gate) tried(resumed, refused bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case resumed:
		g.proven = true
	case refused:
		g.useless = true
	}
	g.releaseLocked()
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
	case g.resumableLocked(), cs.Version < tls.VersionTLS13: // TLS 1.2 tickets come inside the handshake
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
