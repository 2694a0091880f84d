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
// frame (another origin), so the agent counts proxied portal requests as activity. A session
// in which only portal requests happen, for longer than the idle timeout, never shows the
// idle warning; once they stop, the warning comes.
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
			resp, err := portal.Get(home)
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

	// The citizen walks away: the warning comes after idle-warning.
	stopped := time.Now()
	ui.WaitState("the idle warning", idle+wait, func(s kiosktest.State) bool { return s.Phase == "session" && s.Warning != nil })
	if d := time.Since(stopped); d > idle {
		t.Errorf("the warning came %v after the last portal request, want about %v", d, idle-warning)
	}
}
