//go:build integration

package agent_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"smartpath/testing/kiosktest"
	"smartpath/testing/vcard"
)

// A blocked PIN through the real pcscd (docs/security.md, invariant 1: no VERIFY on any path but one
// per submission): a double tap sends one VERIFY; three wrong PINs end in error pin_blocked;
// PINs the UI keeps sending after that reach no card; the blocked card inserted again shows
// pin_blocked at once without a PIN pad; taking it out returns the kiosk to idle, and the
// next card works.
func TestBlockedCard(t *testing.T) {
	env := kiosktest.Start(t, kiosktest.Options{})
	ui := env.DialUI(t)
	ui.WaitPhase("idle", wait)

	card := env.NewCard(t, "Blocked Citizen", "C-3003", vcard.AlgP256)
	remove := env.Insert(t, card)
	st := ui.WaitPhase("pin", wait)
	if st.PIN.TriesLeft == nil || *st.PIN.TriesLeft != vcard.DefaultRetries {
		t.Fatalf("tries left at insertion = %v, want %d", st.PIN.TriesLeft, vcard.DefaultRetries)
	}
	// A double tap while the card is still checking the first PIN sends one VERIFY: the
	// second submission is dropped, never queued for later.
	ignored := strings.Count(env.AgentLog(), ignoredPIN)
	card.SetEmulation(vcard.Emulation{APDULatency: time.Second})
	ui.SendPIN("000000")
	ui.WaitPhase("verifying", wait)
	ui.SendPIN("000000")
	waitLogCount(t, env, ignoredPIN, ignored+1)
	card.SetEmulation(vcard.Emulation{})
	for left := vcard.DefaultRetries - 1; left > 0; left-- {
		if left != vcard.DefaultRetries-1 {
			ui.SendPIN("000000")
		}
		st = ui.WaitState("wrong PIN", wait, func(s kiosktest.State) bool {
			return s.Phase == "pin" && s.PIN != nil && s.PIN.Wrong && s.PIN.TriesLeft != nil && *s.PIN.TriesLeft == left
		})
	}
	ui.SendPIN("000000")
	st = ui.WaitPhase("error", wait)
	if st.Error == nil || st.Error.Code != "pin_blocked" {
		t.Fatalf("error after the last wrong PIN = %+v, want pin_blocked", st.Error)
	}
	if st.PIN != nil || st.Citizen != nil || st.Session != nil {
		t.Fatalf("the blocked screen still carries citizen data: %+v", st)
	}
	if got := card.VerifyCount(); got != vcard.DefaultRetries {
		t.Fatalf("VERIFY commands with a PIN = %d, want %d (one per submission)", got, vcard.DefaultRetries)
	}
	if got := card.PINTriesLeft(); got != 0 {
		t.Fatalf("card PIN tries left = %d, want 0 (blocked)", got)
	}

	// The UI keeps sending PINs, the right one among them: none reaches the card. The agent
	// logs each ignored submission, which tells the test the machine has handled them.
	ignored = countIgnoredPINs(env)
	for _, pin := range []string{"111111", vcard.DefaultPIN, "22222222"} {
		ui.SendPIN(pin)
	}
	waitLogCount(t, env, ignoredPIN, ignored+3)
	if got := card.VerifyCount(); got != vcard.DefaultRetries {
		t.Fatalf("VERIFY commands after the PIN blocked = %d, want still %d", got, vcard.DefaultRetries)
	}
	if ui.Last().Phase != "error" {
		t.Fatalf("phase after PINs sent to a blocked card = %s, want error", ui.Last().Phase)
	}

	// Taking the card out returns to idle, with a wipe of the visit.
	wipes := ui.Wipes()
	remove()
	ui.WaitPhase("idle", wait)
	if ui.Wipes() <= wipes {
		t.Fatal("no wipe message when the blocked card was taken out")
	}

	// The card inserted already blocked: pin_blocked at once, never a PIN pad.
	remove = env.Insert(t, card)
	seen := phasesUntil(ui, "error")
	if slices.Contains(seen, "pin") {
		t.Fatalf("a blocked card showed the PIN pad: phases %v", seen)
	}
	if st := ui.Last(); st.Error == nil || st.Error.Code != "pin_blocked" {
		t.Fatalf("error for a card inserted blocked = %+v, want pin_blocked", st.Error)
	}
	ui.SendPIN(vcard.DefaultPIN)
	waitLogCount(t, env, ignoredPIN, ignored+4)
	if got := card.VerifyCount(); got != vcard.DefaultRetries {
		t.Fatalf("VERIFY commands to a card inserted blocked = %d, want still %d", got, vcard.DefaultRetries)
	}
	remove()
	ui.WaitPhase("idle", wait)

	// The next citizen is served as usual.
	next := env.NewCard(t, "Next Citizen", "C-3004", vcard.AlgP256)
	remove = env.Insert(t, next)
	signIn(t, ui, vcard.DefaultPIN)
	remove()
	ui.WaitPhase("idle", wait)
}

// ignoredPIN is what the session machine logs for a PIN submission it does not send.
const ignoredPIN = "PIN submission ignored"

func countIgnoredPINs(env *kiosktest.Env) int {
	return strings.Count(env.AgentLog(), ignoredPIN)
}
