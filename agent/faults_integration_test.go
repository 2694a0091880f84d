//go:build integration

package agent_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"smartpath/testing/kiosktest"
	"smartpath/testing/vcard"
	"smartpath/testing/waitfor"
)

// Faults heal without a hand on the kiosk (docs/security.md, invariant 8): pcscd killed while idle shows
// out_of_order and the kiosk comes back when pcscd does; pcscd killed during a session wipes
// the session at once; a card pulled during PIN entry returns to idle. After each, the next
// card opens a session.
func TestFaultsHeal(t *testing.T) {
	env := kiosktest.Start(t, kiosktest.Options{})
	ui := env.DialUI(t)
	ui.WaitPhase("idle", wait)
	card := env.NewCard(t, "Jane Citizen", "C-1001", vcard.AlgP256)

	t.Run("pcscd killed while idle", func(t *testing.T) {
		env.PCSCD.Kill(t)
		st := ui.WaitPhase("out_of_order", wait)
		if st.Error == nil || st.Error.Code != "out_of_order" {
			t.Fatalf("out_of_order error = %+v, want out_of_order", st.Error)
		}
		// The technician's view agrees: /healthz answers 503 out_of_order.
		if code, h := health(t, env); code != http.StatusServiceUnavailable || h.Status != "out_of_order" || h.PCSCDUp {
			t.Fatalf("/healthz with pcscd down: %d %+v", code, h)
		}
		env.PCSCD.Start(t)
		ui.WaitPhase("idle", wait)
		if code, h := health(t, env); code != http.StatusOK || h.Status != "ok" || !h.PCSCDUp || !h.ReaderPresent {
			t.Fatalf("/healthz with pcscd back: %d %+v", code, h)
		}
		if m := adminGet(t, env, "/metrics"); !strings.Contains(m, "kiosk_pcscd_restarts_total 1") {
			t.Errorf("/metrics does not count the pcscd restart:\n%s", grepLines(m, "kiosk_pcscd"))
		}
		ordinaryVisit(t, env, ui, card)
	})

	t.Run("pcscd killed during a session", func(t *testing.T) {
		remove := env.Insert(t, card)
		st := signIn(t, ui, vcard.DefaultPIN)
		home := st.Session.PortalURL
		c := browser()
		get(t, c, home)
		wipes := ui.Wipes()

		env.PCSCD.Kill(t)
		st = ui.WaitPhase("out_of_order", wait)
		if ui.Wipes() != wipes+1 {
			t.Fatalf("%d wipe messages when pcscd died during the session, want 1", ui.Wipes()-wipes)
		}
		if st.Session != nil || st.Citizen != nil {
			t.Fatalf("the out_of_order state carries the session: %+v", st)
		}
		c.CloseIdleConnections()
		proxyGone(t, home)
		waitfor.Until(t, waitfor.Timeout, "upstream connections closed", func() bool { return env.Portal.ConnsOpen() == 0 })
		remove() // the virtual card lost its reader with pcscd

		env.PCSCD.Start(t)
		ui.WaitPhase("idle", wait)
		ordinaryVisit(t, env, ui, card)
	})

	t.Run("pcscd restarted with the card left in", func(t *testing.T) {
		remove := env.InsertToStay(t, card)
		st := signIn(t, ui, vcard.DefaultPIN)
		home := st.Session.PortalURL
		env.PCSCD.Kill(t)
		ui.WaitPhase("out_of_order", wait)
		env.PCSCD.Start(t)
		// The card still in is read afresh and asks for the PIN again: nothing of the
		// session survived the restart.
		st = ui.WaitPhase("pin", wait)
		if st.PIN == nil || st.PIN.Wrong {
			t.Fatalf("PIN state after the restart: %+v", st.PIN)
		}
		if pinVerified(t, card) {
			t.Fatal("the card is still logged in after pcscd restarted")
		}
		proxyGone(t, home)
		ui.SendPIN(vcard.DefaultPIN)
		st = ui.WaitPhase("session", wait)
		openPortal(t, st)
		ui.Send("end_session", nil)
		ui.WaitPhase("goodbye", wait)
		remove()
		ui.WaitPhase("idle", wait)
	})

	t.Run("card pulled during PIN entry", func(t *testing.T) {
		remove := env.Insert(t, card)
		ui.WaitPhase("pin", wait)
		wipes, verifies := ui.Wipes(), card.VerifyCount()
		remove()
		ui.WaitPhase("idle", wait)
		if ui.Wipes() != wipes+1 {
			t.Fatalf("%d wipe messages when the card was pulled at the PIN pad, want 1", ui.Wipes()-wipes)
		}
		if got := card.VerifyCount(); got != verifies {
			t.Fatalf("%d VERIFY commands when the card was pulled at the PIN pad, want none", got-verifies)
		}
		ordinaryVisit(t, env, ui, card)
	})

	t.Run("card pulled by the VERIFY", func(t *testing.T) {
		remove := env.Insert(t, card)
		ui.WaitPhase("pin", wait)
		wipes, verifies := ui.Wipes(), card.VerifyCount()
		card.SetEmulation(vcard.Emulation{DropAtAPDU: 1}) // the VERIFY pulls the card
		ui.SendPIN(vcard.DefaultPIN)
		ui.WaitPhase("idle", wait)
		remove()
		card.SetEmulation(vcard.Emulation{})
		if ui.Wipes() == wipes {
			t.Fatal("no wipe message when the card was pulled during VERIFY")
		}
		if got := ui.Last(); got.Phase != "idle" {
			t.Fatalf("phase %s after the card was pulled during VERIFY", got.Phase)
		}
		ordinaryVisit(t, env, ui, card)
		if got := card.VerifyCount() - verifies; got != 1 {
			t.Fatalf("%d VERIFY commands reached the card, want 1 (the next visit's; none retried)", got)
		}
	})

	t.Run("card pulled while the portal opens", func(t *testing.T) {
		remove := env.Insert(t, card)
		ui.WaitPhase("pin", wait)
		sigs := card.Signatures()
		started := strings.Count(env.AgentLog(), proxyStarted)
		card.SetEmulation(vcard.Emulation{ECLatency: 3 * time.Second}) // a slow TLS signature
		ui.SendPIN(vcard.DefaultPIN)
		ui.WaitPhase("connecting", wait)
		waitLogCount(t, env, proxyStarted, started+1) // the probe's handshake is under way
		remove()
		seen := phasesUntil(ui, "idle")
		card.SetEmulation(vcard.Emulation{})
		if slices.Contains(seen, "session") {
			t.Fatalf("a session opened for a card that was pulled: phases %v", seen)
		}
		waitfor.Until(t, waitfor.Timeout, "upstream connections closed", func() bool { return env.Portal.ConnsOpen() == 0 })
		if got := card.Signatures() - sigs; got > 1 {
			t.Fatalf("%d card signatures for one aborted session", got)
		}
		ordinaryVisit(t, env, ui, card)
	})
}

// proxyStarted is what the portal proxy logs when a session's proxy starts, just before
// its probe's TLS handshake asks the card for a signature.
const proxyStarted = "portal proxy session started"

// ordinaryVisit is a whole ordinary visit: insert, PIN, a page, End session, card out.
func ordinaryVisit(t *testing.T, env *kiosktest.Env, ui *kiosktest.UI, card *vcard.Card) {
	t.Helper()
	remove := env.Insert(t, card)
	st := signIn(t, ui, vcard.DefaultPIN)
	get(t, browser(), st.Session.PortalURL)
	ui.Send("end_session", nil)
	ui.WaitPhase("goodbye", wait)
	remove()
	ui.WaitPhase("idle", wait)
}

// healthz is the body of the agent's /healthz.
type healthz struct {
	Status        string `json:"status"`
	PCSCDUp       bool   `json:"pcscdUp"`
	ReaderPresent bool   `json:"readerPresent"`
}

func health(t *testing.T, env *kiosktest.Env) (int, healthz) {
	t.Helper()
	resp, err := http.Get("http://" + env.Agent.AdminAddr() + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	defer resp.Body.Close()
	var h healthz
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	return resp.StatusCode, h
}

func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
