//go:build integration

package screens_test

// The rest of the error screens through the REAL kiosk-agent (TestRealAgentErrorScreens in
// agent_integration_test.go has portal_unavailable, pin_blocked and out_of_order): cards
// the agent cannot use, and portal sessions that cannot open. Each in every language, with
// its checks and screenshot (docs/screens/real-error-<code>-<lang>.png), and each gives way
// to the attract screen when the card comes out.

import (
	"testing"
	"time"

	"smartpath/agent/config"
	"smartpath/kiosk-ui/screens"
	"smartpath/testing/kiosktest"
	"smartpath/testing/pki"
	"smartpath/testing/vcard"
)

// realErrorScreen waits for the error screen of code in lang and checks it
// (real-error-<code>-<lang>.png).
func realErrorScreen(t *testing.T, k screens.Kiosk, code, lang string) {
	t.Helper()
	k.WaitPhase("error")
	waitText(k, "error-title", screens.Msg(t, lang, "error."+code+".title", nil))
	waitText(k, "error-body", screens.Msg(t, lang, "error."+code+".body", nil))
	k.WaitJS(`document.activeElement.id === "error-title"`, "focus on the error heading")
	check(k, "error-"+code, lang)
}

// errorVisit inserts card at the attract screen in lang, enters the PIN if pin, expects the
// error screen of code, takes the card out and waits for the attract screen.
func errorVisit(t *testing.T, env *kiosktest.Env, k screens.Kiosk, card *vcard.Card, pin bool, code, lang string) {
	t.Helper()
	k.WaitPhase("idle")
	chooseLanguage(t, k, lang)
	remove := env.Insert(t, card)
	if pin {
		k.WaitPhase("pin")
		tapPIN(k, vcard.DefaultPIN)
	}
	realErrorScreen(t, k, code, lang)
	remove()
	k.WaitPhase("idle")
}

// Cards the kiosk cannot use, and a card the portal refuses, in every language on one
// kiosk: a citizen card whose certificate has expired (card_expired), a blank PIV card with
// no certificate in 9A (card_unsupported), a card that answers garbage (card_unreadable),
// and a card issued by another CA, which the demo portal refuses after the right PIN
// (client_cert_refused).
func TestRealAgentCardErrorScreens(t *testing.T) {
	env, k := startReal(t, kiosktest.Options{})
	now := time.Now()
	expired, err := vcard.NewCitizenCard(env.PKI, vcard.Citizen{Name: citizen, Number: "C-1001", Alg: vcard.AlgP256,
		NotBefore: now.AddDate(-5, 0, 0), NotAfter: now.AddDate(0, 0, -1)})
	if err != nil {
		t.Fatal(err)
	}
	blank, err := vcard.New(vcard.Options{})
	if err != nil {
		t.Fatal(err)
	}
	garbled := env.NewCard(t, citizen, "C-1001", vcard.AlgP256)
	garbled.SetEmulation(vcard.Emulation{Garbage: true})
	other, err := pki.NewOther("screens-other")
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := vcard.NewCitizenCard(other, vcard.Citizen{Name: "Foreign Citizen", Number: "X-9009", Alg: vcard.AlgP256})
	if err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		code string
		card *vcard.Card
		pin  bool // the error comes after the PIN
	}{
		{"card_expired", expired, false},
		{"card_unsupported", blank, false},
		{"card_unreadable", garbled, false},
		{"client_cert_refused", foreign, true},
	} {
		for _, lang := range screens.Languages() {
			errorVisit(t, env, k, c.card, c.pin, c.code, lang)
		}
	}
	if n := expired.VerifyCount() + blank.VerifyCount() + garbled.VerifyCount(); n != 0 {
		t.Errorf("the unusable cards saw %d VERIFY commands: no PIN should be asked for them", n)
	}
	if env.Portal.Requests() == 0 {
		t.Error("the portal never answered the foreign card with its refusal page")
	}
	k.NoErrors()
}

// The kiosk trusts another CA than the one that issued the portal's certificate
// (portal.ca_file is another CA's bundle): after the right PIN, portal_untrusted, in every
// language, and the portal never sees a request.
func TestRealAgentPortalUntrustedScreen(t *testing.T) {
	other, err := pki.NewOther("screens-other")
	if err != nil {
		t.Fatal(err)
	}
	env, k := startReal(t, kiosktest.Options{Config: func(c *config.Config) {
		c.Portal.CAFile = kiosktest.CAFile(t, other)
	}})
	card := env.NewCard(t, citizen, "C-1001", vcard.AlgP256)
	for _, lang := range screens.Languages() {
		errorVisit(t, env, k, card, true, "portal_untrusted", lang)
	}
	if got := env.Portal.Requests(); got != 0 {
		t.Errorf("the untrusted portal received %d requests", got)
	}
	k.NoErrors()
}
