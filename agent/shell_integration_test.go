//go:build integration

package agent_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"smartpath/agent/config"
	"smartpath/agent/shelllink"
	"smartpath/testing/kiosktest"
	"smartpath/testing/vcard"
)

// healthz reads the agent's /healthz.
func healthJSON(t *testing.T, env *kiosktest.Env) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get("http://" + env.Agent.AdminAddr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h map[string]any
	json.NewDecoder(resp.Body).Decode(&h)
	return resp.StatusCode, h
}

// A kiosk shell that takes the agent's wipe order and never confirms it (a stuck web
// process, say) leaves the kiosk out of order, never in a new citizen's session: the next
// card is not read, /healthz says so, and only a shell that connects anew and confirms
// brings the kiosk back (docs/security.md, invariant 5). Real agent, real pcscd, a virtual
// card, and the shell's real channel client.
func TestStuckShellPutsKioskOutOfOrder(t *testing.T) {
	env := kiosktest.Start(t, kiosktest.Options{Config: func(c *config.Config) {
		kiosktest.WithShell(c)
		c.UI.ShellConfirmTimeout = time.Second
	}})
	ui := env.DialUI(t)
	origin, token := env.Agent.UIOrigin(), env.Token(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// No shell yet: the kiosk does not serve.
	ui.WaitPhase("starting", wait)
	card := env.NewCard(t, "Jane Citizen", "C-1001", vcard.AlgP256)

	// A good shell: confirms every order.
	good, err := shelllink.Dial(ctx, origin, token)
	if err != nil {
		t.Fatal(err)
	}
	confirmOne := func(c *shelllink.Client) {
		t.Helper()
		id, err := c.Next()
		if err != nil {
			t.Fatalf("the shell got no wipe order: %v", err)
		}
		if err := c.Confirm(id); err != nil {
			t.Fatal(err)
		}
	}
	confirmOne(good)
	ui.WaitPhase("idle", wait)

	// Citizen A's session ends with the card pulled; the shell gets the order and is stuck.
	removeA := env.Insert(t, card)
	signIn(t, ui, vcard.DefaultPIN)
	removeA()
	if _, err := good.Next(); err != nil {
		t.Fatalf("no wipe order at the end of the session: %v", err)
	}
	stuck := good // never confirms from here on

	// Citizen B comes at once: the card is not read while the shell has not confirmed, and
	// after the bound the kiosk is out of order.
	removeB := env.Insert(t, card)
	defer removeB()
	st := ui.WaitState("out of order", wait, func(s kiosktest.State) bool {
		if s.Phase == "reading" || s.Phase == "pin" {
			t.Fatalf("B's card was read while the shell had not confirmed: phase %s", s.Phase)
		}
		return s.Phase == "out_of_order"
	})
	if st.Error == nil || st.Error.Code != "out_of_order" {
		t.Fatalf("out of order with error %+v, want out_of_order", st.Error)
	}
	if code, h := healthJSON(t, env); code != http.StatusServiceUnavailable || h["shellFailed"] != true || h["status"] != "out_of_order" {
		t.Fatalf("/healthz %d %v; want 503, out_of_order, shellFailed", code, h)
	}
	if !strings.Contains(metrics(t, env), "kiosk_shell_failures_total 1") {
		t.Fatal("kiosk_shell_failures_total is not 1")
	}
	// The stuck shell's connection was dropped: a late confirmation cannot count.
	if _, err := stuck.Next(); err == nil {
		t.Fatal("the stuck shell's connection is still open")
	}

	// A new shell connects and confirms: B's card, still in, is read.
	fresh, err := shelllink.Dial(ctx, origin, token)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	confirmOne(fresh)
	ui.WaitPhase("pin", wait)
	if code, h := healthJSON(t, env); code != http.StatusOK || h["shellReady"] != true {
		t.Fatalf("/healthz %d %v after a new shell confirmed", code, h)
	}
}

func metrics(t *testing.T, env *kiosktest.Env) string {
	t.Helper()
	resp, err := http.Get("http://" + env.Agent.AdminAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}
