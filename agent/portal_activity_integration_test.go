//go:build integration

package agent_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"testing"
	"time"

	"smartpath/agent/config"
	"smartpath/agent/session"
	"smartpath/testing/kiosktest"
	"smartpath/testing/vcard"
)

// Browsing the portal keeps the session: the kiosk UI cannot see taps inside the portal's
// frame (another origin), so the agent counts the frame's navigations through the proxy as
// activity. A session in which only portal navigations happen, for longer than the idle
// timeout, never shows the idle warning; once they stop, the warning comes.
func TestPortalRequestsAreActivity(t *testing.T) {
	const idle, warning = 3 * time.Second, time.Second
	env := kiosktest.Start(t, kiosktest.Options{Config: func(c *config.Config) {
		c.Session.IdleTimeout, c.Session.IdleWarning = idle, warning
	}})
	ui := env.DialUI(t) // sends nothing: no UI activity at all
	ui.WaitPhase("idle", wait)
	env.Insert(t, env.NewCard(t, "Jane Citizen", "C-1001", vcard.AlgP256))
	ui.WaitPhase("pin", wait)
	ui.SendPIN(vcard.DefaultPIN)
	home := ui.WaitPhase("session", wait).Session.PortalURL

	states, unsubscribe := env.Agent.Machine().Subscribe()
	defer unsubscribe()
	// The subscription starts from the machine's latest snapshot, which may still be the
	// step before the session the UI was already sent.
	for inSession := false; !inSession; {
		select {
		case st := <-states:
			inSession = st.Phase == session.PhaseSession
		case <-time.After(wait):
			t.Fatal("the machine's state never reached the session the UI shows")
		}
	}
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	portal := &http.Client{Jar: jar, Transport: tr, Timeout: 10 * time.Second}

	// A citizen reading and clicking in the portal: a page every 300 ms for idle+1s.
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	until := time.After(idle + time.Second)
	for browsing := true; browsing; {
		select {
		case st := <-states:
			if st.Phase != session.PhaseSession || !st.WarningEndsAt.IsZero() {
				t.Fatalf("while the citizen browses the portal: phase %s, warning until %v; want the session without a warning",
					st.Phase, st.WarningEndsAt)
			}
		case <-tick.C:
			resp, err := portal.Do(frameNavigation(t, home))
			if err != nil {
				t.Fatalf("portal page: %v", err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("portal page: %s", resp.Status)
			}
		case <-until:
			browsing = false
		}
	}

	// The citizen walks away: the warning comes (how soon: BenchmarkPortalActivityToWarning).
	ui.WaitState("the idle warning", idle+wait, func(s kiosktest.State) bool { return s.Phase == "session" && s.Warning != nil })
}

// frameNavigation is a link followed inside the portal's frame, as the webview sends it.
func frameNavigation(t testing.TB, u string) *http.Request {
	t.Helper()
	r, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Sec-Fetch-Mode", "navigate")
	r.Header.Set("Sec-Fetch-Dest", "iframe")
	r.Header.Set("Accept", "text/html")
	return r
}

// A portal page that polls (script requests, no person involved) does not keep an abandoned
// session open: the idle warning comes and the session ends while the polling goes on.
func TestPortalPollingIsNotActivity(t *testing.T) {
	const idle, warning = 2 * time.Second, time.Second
	env := kiosktest.Start(t, kiosktest.Options{Config: func(c *config.Config) {
		c.Session.IdleTimeout, c.Session.IdleWarning = idle, warning
	}})
	ui := env.DialUI(t)
	ui.WaitPhase("idle", wait)
	env.Insert(t, env.NewCard(t, "Jane Citizen", "C-1001", vcard.AlgP256))
	ui.WaitPhase("pin", wait)
	ui.SendPIN(vcard.DefaultPIN)
	home := ui.WaitPhase("session", wait).Session.PortalURL

	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	portal := &http.Client{Jar: jar, Transport: tr, Timeout: 5 * time.Second}
	if resp, err := portal.Do(frameNavigation(t, home)); err == nil { // enter: sets the proxy cookie
		resp.Body.Close()
	}
	ended := make(chan struct{})
	polled := make(chan int, 1)
	go func() {
		n := 0
		defer func() { polled <- n }()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ended:
				return
			case <-tick.C:
				r, _ := http.NewRequest("GET", home, nil)
				r.Header.Set("Sec-Fetch-Mode", "cors")
				r.Header.Set("Sec-Fetch-Dest", "empty")
				if resp, err := portal.Do(r); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					n++
				}
			}
		}
	}()
	ui.WaitState("the idle warning while the page polls", idle+wait, func(s kiosktest.State) bool {
		return s.Phase == "session" && s.Warning != nil
	})
	st := ui.WaitState("the session ended by the idle timeout", idle+wait, func(s kiosktest.State) bool {
		return s.Goodbye != nil && s.Goodbye.Reason == "idle_timeout"
	})
	close(ended)
	if n := <-polled; n < 3 {
		t.Fatalf("only %d polling requests went through before the session ended (state %s); the test proves nothing", n, st.Phase)
	}
}
