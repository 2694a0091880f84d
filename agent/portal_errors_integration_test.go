//go:build integration

package agent_test

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"smartpath/agent/config"
	"smartpath/testing/kiosktest"
	"smartpath/testing/pki"
	"smartpath/testing/portal"
	"smartpath/testing/vcard"
	"smartpath/testing/waitfor"
)

// When the portal session cannot open, the citizen sees a clear error — portal_unavailable,
// portal_untrusted or client_cert_refused — after a wipe that logs the card out; taking the
// card out returns the kiosk to idle, and once the portal is right the next card works
// (docs/security.md, invariant 8).
func TestPortalErrors(t *testing.T) {
	t.Run("portal down at start", func(t *testing.T) {
		env := kiosktest.Start(t, kiosktest.Options{NoPortal: true})
		ui := env.DialUI(t)
		ui.WaitPhase("idle", wait)
		for _, name := range []string{"First Citizen", "Second Citizen"} {
			card := env.NewCard(t, name, "C-4001", vcard.AlgP256)
			expectPortalError(t, env, ui, card, "portal_unavailable")
		}
	})

	t.Run("portal silent", func(t *testing.T) {
		// A portal that accepts connections and never answers: the connect timeout ends the
		// wait with portal_unavailable, and the kiosk is not stuck in connecting (one that
		// waited on the portal would fail expectPortalError's hang guard, wait: 15 s against
		// the 1 s timeout). The kiosk reached the silent portal and hung up on it: the error
		// came from the silence, not from a refused connection.
		silent := silentListener(t)
		env := kiosktest.Start(t, kiosktest.Options{NoPortal: true, Config: func(c *config.Config) {
			c.Portal.Home = "https://localhost:" + silent.port + "/"
			c.Portal.ConnectTimeout = time.Second
		}})
		ui := env.DialUI(t)
		ui.WaitPhase("idle", wait)
		expectPortalError(t, env, ui, env.NewCard(t, "Jane Citizen", "C-1001", vcard.AlgP256), "portal_unavailable")
		if silent.accepted() == 0 {
			t.Fatal("portal_unavailable without a connection to the silent portal")
		}
		waitfor.Until(t, waitfor.Timeout, "the kiosk hanging up on the silent portal", func() bool {
			return silent.open() == 0
		})
	})

	t.Run("portal certificate from another CA", func(t *testing.T) {
		other, err := pki.NewOther("kiosktest-other")
		if err != nil {
			t.Fatal(err)
		}
		env := kiosktest.Start(t, kiosktest.Options{Config: func(c *config.Config) {
			c.Portal.CAFile = kiosktest.CAFile(t, other)
		}})
		ui := env.DialUI(t)
		ui.WaitPhase("idle", wait)
		expectPortalError(t, env, ui, env.NewCard(t, "Jane Citizen", "C-1001", vcard.AlgP256), "portal_untrusted")
		if got := env.Portal.Requests(); got != 0 {
			t.Fatalf("the untrusted portal received %d requests", got)
		}
	})

	// One kiosk through a series of portal faults, each healed before the next card.
	t.Run("faults one after another", func(t *testing.T) {
		env := kiosktest.Start(t, kiosktest.Options{})
		ui := env.DialUI(t)
		ui.WaitPhase("idle", wait)
		other, err := pki.NewOther("kiosktest-other")
		if err != nil {
			t.Fatal(err)
		}
		foreign, err := vcard.NewCitizenCard(other, vcard.Citizen{Name: "Foreign Citizen", Number: "X-9009", Alg: vcard.AlgP256})
		if err != nil {
			t.Fatal(err)
		}

		// A card from another CA: the portal answers with its 403 page, or refuses the
		// certificate in the TLS handshake.
		for _, inHandshake := range []bool{false, true} {
			env.StartPortal(t, func(o *portal.Options) { o.RefuseInHandshake = inHandshake })
			expectPortalError(t, env, ui, foreign, "client_cert_refused")
			ps := env.Portal.Stats().Origins["portal"]
			switch {
			case inHandshake && (ps.RefusedHandshakes == 0 || ps.Requests != 0):
				t.Fatalf("RefuseInHandshake: %d refused handshakes, %d requests; want the refusal in the handshake", ps.RefusedHandshakes, ps.Requests)
			case !inHandshake && ps.Requests == 0:
				t.Fatal("the portal never answered a request with its refusal page")
			}
		}

		// The portal down, then back.
		env.StopPortal(t)
		expectPortalError(t, env, ui, env.NewCard(t, "Jane Citizen", "C-1001", vcard.AlgP256), "portal_unavailable")

		// The portal with a certificate the kiosk does not trust.
		untrusted, err := other.IssueServer("localhost")
		if err != nil {
			t.Fatal(err)
		}
		env.StartPortal(t, func(o *portal.Options) { o.ServerCert = untrusted })
		expectPortalError(t, env, ui, env.NewCard(t, "Jane Citizen", "C-1001", vcard.AlgRSA2048), "portal_untrusted")

		// Healed: the next citizen's session opens.
		env.StartPortal(t, nil)
		card := env.NewCard(t, "Nikos Papadopoulos", "C-2002", vcard.AlgP256)
		remove := env.Insert(t, card)
		st := signIn(t, ui, vcard.DefaultPIN)
		get(t, browser(), st.Session.PortalURL)
		ui.Send("end_session", nil)
		ui.WaitPhase("goodbye", wait)
		remove()
		ui.WaitPhase("idle", wait)
	})
}

// expectPortalError inserts card, enters its PIN, and expects the error code after a wipe
// that logged the card out; it takes the card out and waits for idle.
func expectPortalError(t *testing.T, env *kiosktest.Env, ui *kiosktest.UI, card *vcard.Card, code string) {
	t.Helper()
	remove := env.Insert(t, card)
	ui.WaitPhase("pin", wait)
	wipes := ui.Wipes()
	ui.SendPIN(vcard.DefaultPIN)
	st := ui.WaitState("an error or a session", wait, func(s kiosktest.State) bool {
		return s.Phase == "error" || s.Phase == "session"
	})
	if st.Phase != "error" || st.Error == nil || st.Error.Code != code {
		t.Fatalf("phase %s error %+v, want error %s", st.Phase, st.Error, code)
	}
	if st.Citizen != nil || st.Session != nil {
		t.Fatalf("the error state carries the citizen or a session: %+v", st)
	}
	if ui.Wipes() == wipes {
		t.Fatal("no wipe before the portal error")
	}
	if pinVerified(t, card) {
		t.Fatal("the card is still logged in on the portal error screen")
	}
	if env.Portal != nil {
		waitfor.Until(t, waitfor.Timeout, "upstream connections closed", func() bool { return env.Portal.ConnsOpen() == 0 })
	}
	remove()
	ui.WaitPhase("idle", wait)
}

// A silentPortal accepts TCP connections on loopback and never answers them.
type silentPortal struct {
	port   string
	mu     sync.Mutex
	n      int  // connections accepted
	live   int  // of which the peer has not closed
	closed bool // the test has ended
}

func (s *silentPortal) accepted() int { s.mu.Lock(); defer s.mu.Unlock(); return s.n }
func (s *silentPortal) open() int     { s.mu.Lock(); defer s.mu.Unlock(); return s.live }

// silentListener starts a silentPortal. Everything is closed when the test ends.
func silentListener(t *testing.T) *silentPortal {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &silentPortal{}
	var wg sync.WaitGroup
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			if s.closed {
				c.Close()
			}
			conns = append(conns, c)
			s.n++
			s.live++
			s.mu.Unlock()
			wg.Go(func() {
				_, _ = io.Copy(io.Discard, c) // what the kiosk sends, until it hangs up
				s.mu.Lock()
				s.live--
				s.mu.Unlock()
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		s.closed = true
		for _, c := range conns {
			c.Close()
		}
		s.mu.Unlock()
		wg.Wait()
	})
	_, s.port, _ = net.SplitHostPort(ln.Addr().String())
	return s
}
