//go:build integration

package agent_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"smartpath/agent/config"
	"smartpath/testing/kiosktest"
	"smartpath/testing/vcard"
	"smartpath/testing/waitfor"
)

// Short session timers for the session-end tests: the warning shows 0.5 s after the last
// activity, the session ends 1.5 s later, and no session lasts more than 3.5 s.
const (
	testIdleTimeout = 2 * time.Second
	testIdleWarning = 1500 * time.Millisecond
	testMaxLength   = 3500 * time.Millisecond
	// "Take your card" shows this long before the attract screen returns.
	testGoodbyeAfter = time.Second
)

// Every way a session ends with the card still in — idle timeout after a visible warning,
// End session, maximum length — wipes it the same way (docs/security.md, invariant 5): a wipe message,
// ending and goodbye with the reason, the proxy gone, every upstream connection closed, the
// card logged out; the next insertion asks for the PIN again. Activity during the warning
// keeps the session.
func TestSessionEnd(t *testing.T) {
	env := kiosktest.Start(t, kiosktest.Options{Config: func(c *config.Config) {
		c.Session.IdleTimeout = testIdleTimeout
		c.Session.IdleWarning = testIdleWarning
		c.Session.MaxLength = testMaxLength
		c.Session.GoodbyeAfter = testGoodbyeAfter
	}})
	ui := env.DialUI(t)
	ui.WaitPhase("idle", wait)
	card := env.NewCard(t, "Jane Citizen", "C-1001", vcard.AlgP256)

	t.Run("idle timeout", func(t *testing.T) {
		remove := env.Insert(t, card)
		st := signIn(t, ui, vcard.DefaultPIN)
		if got := st.Session.IdleTimeoutSec; got != int(testIdleTimeout/time.Second) {
			t.Fatalf("session.idleTimeoutSec = %d, want %d", got, int(testIdleTimeout/time.Second))
		}
		home := st.Session.PortalURL
		c := browser()
		get(t, c, home)
		if !pinVerified(t, card) {
			t.Fatal("the card is not logged in during the session")
		}
		wipes := ui.Wipes()

		st = ui.WaitState("the idle warning", wait, func(s kiosktest.State) bool {
			return s.Phase == "session" && s.Warning != nil
		})
		left := time.Until(time.UnixMilli(st.Warning.EndsAt))
		if left <= 0 || left > testIdleWarning+500*time.Millisecond {
			t.Fatalf("warning.endsAt is %v from now, want about %v", left, testIdleWarning)
		}
		checkEnded(t, env, ui, card, home, c, "idle_timeout", wipes)
		remove()
		ui.WaitPhase("idle", wait)
	})

	t.Run("end session", func(t *testing.T) {
		remove := env.Insert(t, card)
		st := signIn(t, ui, vcard.DefaultPIN) // the PIN pad again: the last session logged out
		home := st.Session.PortalURL
		c := browser()
		get(t, c, home)
		wipes := ui.Wipes()
		ui.Send("end_session", nil)
		checkEnded(t, env, ui, card, home, c, "ended", wipes)

		// The card left in: after goodbye_after the screen still asks for it (without the
		// visit's reason), never the attract screen; the same card does not start a visit
		// again until it is taken out and put back.
		ui.WaitState("take your card, without the reason", wait, func(st kiosktest.State) bool {
			return st.Phase == "goodbye" && st.Goodbye == nil
		})
		removals := strings.Count(env.AgentLog(), `"kind":"card removed"`)
		remove()
		waitLogCount(t, env, `"kind":"card removed"`, removals+1)
		remove = env.Insert(t, card)
		ui.WaitPhase("pin", wait)
		msgs := ui.Received()
		i := len(msgs) - 1 // the last goodbye
		for i > 0 && !strings.Contains(msgs[i], `"phase":"goodbye"`) {
			i--
		}
		var phases []string
		for _, m := range msgs[i+1:] {
			if _, rest, ok := strings.Cut(m, `"phase":"`); ok {
				phases = append(phases, rest[:strings.IndexByte(rest, '"')])
			}
		}
		if !slices.Equal(phases, []string{"idle", "reading", "pin"}) {
			t.Fatalf("phases from goodbye to the PIN pad of the card put back: %v, want [idle reading pin]", phases)
		}
		remove()
		ui.WaitPhase("idle", wait)
	})

	t.Run("activity keeps the session until max length", func(t *testing.T) {
		remove := env.Insert(t, card)
		st := signIn(t, ui, vcard.DefaultPIN)
		home := st.Session.PortalURL
		started := time.Now()
		if ends := time.Until(time.UnixMilli(st.Session.EndsAt)); ends <= 0 || ends > testMaxLength {
			t.Fatalf("session.endsAt is %v from now, want at most %v", ends, testMaxLength)
		}
		c := browser()
		wipes := ui.Wipes()
		warnings := 0
		// Answer every warning with activity, as a citizen touching the screen does; the
		// warning goes away and the session goes on, until its maximum length ends it.
		for {
			st := ui.WaitState("a warning or the end", wait, func(s kiosktest.State) bool {
				return s.Phase != "session" || s.Warning != nil
			})
			if st.Phase != "session" {
				break
			}
			warnings++
			ui.Send("activity", nil)
			st = ui.WaitState("the warning dismissed", wait, func(s kiosktest.State) bool {
				return s.Phase != "session" || s.Warning == nil
			})
			if st.Phase != "session" {
				break
			}
			get(t, c, home) // the portal still works after the warning
		}
		if warnings < 2 {
			t.Fatalf("%d idle warnings before the maximum length, want at least 2", warnings)
		}
		if d := time.Since(started); d < testMaxLength-500*time.Millisecond {
			t.Fatalf("the session ended after %v, before its maximum length %v", d, testMaxLength)
		}
		checkEnded(t, env, ui, card, home, c, "max_length", wipes)
		remove()
		ui.WaitPhase("idle", wait)
	})

	// Last, as it stops the kiosk: the agent stopping with a session open wipes it too, and
	// the UI hears of it before its connection closes.
	t.Run("agent shutdown", func(t *testing.T) {
		remove := env.Insert(t, card)
		st := signIn(t, ui, vcard.DefaultPIN)
		home := st.Session.PortalURL
		c := browser()
		get(t, c, home)
		before := len(ui.Received())
		if err := env.Stop(); err != nil {
			t.Fatal(err)
		}
		ui.Close()
		after := ui.Received()[before:]
		if !slices.ContainsFunc(after, func(m string) bool { return strings.Contains(m, `"type":"wipe"`) }) {
			t.Errorf("the UI got no wipe message when the agent stopped during a session; it got %q", after)
		}
		if !slices.ContainsFunc(after, func(m string) bool { return strings.Contains(m, `"reason":"shutdown"`) }) {
			t.Errorf("the UI was not told the session ended for shutdown; it got %q", after)
		}
		c.CloseIdleConnections()
		proxyGone(t, home)
		waitfor.Until(t, waitfor.Timeout, "upstream connections closed", func() bool { return env.Portal.ConnsOpen() == 0 })
		if pinVerified(t, card) {
			t.Fatal("the card is still logged in after the agent stopped")
		}
		remove()
	})
}

// checkEnded waits for the session to end with reason while the card stays in, and checks
// that everything of it is gone.
func checkEnded(t *testing.T, env *kiosktest.Env, ui *kiosktest.UI, card *vcard.Card, home string,
	c *http.Client, reason string, wipesBefore int) {
	t.Helper()
	ending := ui.WaitPhase("ending", wait)
	if ending.Goodbye == nil || ending.Goodbye.Reason != reason {
		t.Fatalf("ending reason = %+v, want %s", ending.Goodbye, reason)
	}
	if ending.Session != nil || ending.Citizen != nil || ending.Warning != nil {
		t.Fatalf("the ending state still carries the session: %+v", ending)
	}
	st := ui.WaitPhase("goodbye", wait)
	if st.Goodbye == nil || st.Goodbye.Reason != reason {
		t.Fatalf("goodbye reason = %+v, want %s", st.Goodbye, reason)
	}
	if got := ui.Wipes() - wipesBefore; got != 1 {
		t.Fatalf("%d wipe messages before goodbye, want 1", got)
	}
	c.CloseIdleConnections()
	proxyGone(t, home)
	waitfor.Until(t, waitfor.Timeout, "upstream connections closed", func() bool { return env.Portal.ConnsOpen() == 0 })
	if pinVerified(t, card) {
		t.Fatal("the card is still logged in after the session ended")
	}
	if st.Citizen != nil || st.Session != nil {
		t.Fatalf("the goodbye state still carries the session: %+v", st)
	}
}
