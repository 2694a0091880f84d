//go:build integration

package agent_test

import (
	"strings"
	"testing"

	"go.uber.org/goleak"

	"smartpath/testing/kiosktest"
	"smartpath/testing/vcard"
	"smartpath/testing/waitfor"
)

// Every goroutine the agent starts has an owner that waits for it: after a busy life —
// sessions with parallel page loads, a wrong PIN, a refused and an oversized UI connection,
// pcscd killed during a session and started again, and a session still open at shutdown —
// stopping the agent leaves none of its goroutines behind. The baseline is taken once
// pcscd and the portal run, just before the agent starts.
func TestAgentLeavesNoGoroutines(t *testing.T) {
	var baseline goleak.Option
	env := kiosktest.Start(t, kiosktest.Options{BeforeAgent: func() { baseline = goleak.IgnoreCurrent() }})
	ui := env.DialUI(t)
	ui.WaitPhase("idle", wait)
	card := env.NewCard(t, "Jane Citizen", "C-1001", vcard.AlgP256)

	// A session with a wrong PIN first and many parallel requests.
	remove := env.Insert(t, card)
	ui.WaitPhase("pin", wait)
	ui.SendPIN("000000")
	ui.WaitState("wrong PIN", wait, func(s kiosktest.State) bool { return s.Phase == "pin" && s.PIN != nil && s.PIN.Wrong })
	ui.SendPIN(vcard.DefaultPIN)
	st := ui.WaitPhase("session", wait)
	c, base := openPortal(t, st)
	loadPages(t, c, base, 3)

	// UI connections that are refused or dropped.
	if conn, _, err := env.DialUIRaw("http://evil.example", env.Token(t)); err == nil {
		conn.Close()
		t.Fatal("the UI channel accepted another origin")
	}
	if conn, _, err := env.DialUIRaw(env.Agent.UIOrigin(), env.Token(t)); err != nil {
		t.Fatal(err)
	} else {
		conn.WriteMessage(1, []byte(strings.Repeat("x", 8000)))
		conn.Close()
	}

	// pcscd dies during the session and comes back.
	env.PCSCD.Kill(t)
	ui.WaitPhase("out_of_order", wait)
	remove()
	env.PCSCD.Start(t)
	ui.WaitPhase("idle", wait)

	// A session still open when the agent stops.
	remove = env.Insert(t, card)
	st = signIn(t, ui, vcard.DefaultPIN)
	get(t, c, st.Session.PortalURL)

	if err := env.Stop(); err != nil {
		t.Fatal(err)
	}
	ui.Close()
	remove()
	c.CloseIdleConnections()
	waitfor.Until(t, waitfor.Timeout, "the portal's connections closed", func() bool { return env.Portal.ConnsOpen() == 0 })
	goleak.VerifyNone(t, baseline,
		// The private pcscd started again above: its process waiter belongs to the harness.
		goleak.IgnoreAnyFunction("smartpath/testing/pcscdtest.(*Daemon).Start.func1"))
}
