//go:build integration

package agent_test

import (
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"

	"smartpath/testing/kiosktest"
	"smartpath/testing/vcard"
	"smartpath/testing/waitfor"
)

// The PIN never leaves the card path (docs/security.md, invariant 1): a whole visit — a wrong PIN, a
// malformed one, one of the wrong length, the right one, a session, End session — with the
// agent at debug level and pcscd at --debug --apdu, and neither PIN appears in the agent's
// log, in any message the UI got back, or on /metrics and /healthz: not as text, not as the
// hex or base64 of the VERIFY data. pcscd's own APDU log does show the VERIFY, which proves
// the debug run really carried the PIN through the stack; that log is not the agent's.
func TestPINNeverPrinted(t *testing.T) {
	t.Setenv("SMARTPATH_PCSCD_DEBUG", "1")
	// Eight digits, so that the timestamps and durations in the log cannot match by chance.
	const (
		rightPIN = "58392017"
		wrongPIN = "73194628"
		longPIN  = "4680135792"
	)
	env := kiosktest.Start(t, kiosktest.Options{})
	if env.Config.Log.Level != "debug" {
		t.Fatalf("the agent runs at log level %q, want debug", env.Config.Log.Level)
	}
	ui := env.DialUI(t)
	ui.WaitPhase("idle", wait)
	card, err := vcard.NewCitizenCard(env.PKI, vcard.Citizen{Name: "Jane Citizen", Number: "C-1001",
		Alg: vcard.AlgP256, Options: vcard.Options{PIN: rightPIN}})
	if err != nil {
		t.Fatal(err)
	}
	remove := env.Insert(t, card)
	ui.WaitPhase("pin", wait)

	ui.SendPIN(wrongPIN)
	ui.WaitState("wrong PIN", wait, func(s kiosktest.State) bool { return s.Phase == "pin" && s.PIN != nil && s.PIN.Wrong })
	// Refused shapes: too long for the pad (dropped), and not digits (an error message back).
	ignored := strings.Count(env.AgentLog(), ignoredPIN)
	ui.SendPIN(longPIN)
	waitLogCount(t, env, ignoredPIN, ignored+1)
	ui.SendPIN(rightPIN[:7] + "x")
	waitfor.Until(t, waitfor.Timeout, "an error message for a PIN that is not digits", func() bool {
		return strings.Contains(strings.Join(ui.Received(), "\n"), `"bad_message"`)
	})
	ui.SendPIN(rightPIN)
	st := ui.WaitPhase("session", wait)
	get(t, browser(), st.Session.PortalURL)
	ui.Send("end_session", nil)
	ui.WaitPhase("goodbye", wait)
	remove()
	ui.WaitPhase("idle", wait)
	if got := card.VerifyCount(); got != 2 {
		t.Fatalf("VERIFY commands = %d, want 2 (the wrong and the right PIN)", got)
	}

	texts := map[string]string{
		"the agent's log":        env.AgentLog(),
		"the messages to the UI": strings.Join(ui.Received(), "\n"),
		"/metrics":               adminGet(t, env, "/metrics"),
		"/healthz":               adminGet(t, env, "/healthz"),
	}
	if !strings.Contains(texts["the agent's log"], `"level":"DEBUG"`) {
		t.Fatal("the agent's log has no debug records: the test would prove nothing")
	}
	for _, pin := range []string{rightPIN, wrongPIN, longPIN} {
		for where, text := range texts {
			for _, form := range pinForms(pin) {
				if strings.Contains(strings.ToLower(text), strings.ToLower(form)) {
					t.Errorf("%s contains a PIN as %q", where, form)
				}
			}
		}
	}

	// The positive control: pcscd's APDU log carries the VERIFY data, in the spaced hex the
	// check above looks for.
	if spaced := spacedHex([]byte(rightPIN)); !strings.Contains(strings.ToUpper(env.PCSCD.Log()), spaced) {
		t.Fatalf("pcscd's debug log does not show the VERIFY data %s: is SMARTPATH_PCSCD_DEBUG honoured?", spaced)
	}
}

// pinForms are the ways a PIN could show in a text: as typed, as the hex of the VERIFY data
// (plain, spaced, padded with FF as PIV pads it), and in base64.
func pinForms(pin string) []string {
	padded := []byte(pin)
	for len(padded) < 8 {
		padded = append(padded, 0xFF)
	}
	forms := []string{pin}
	for _, b := range [][]byte{[]byte(pin), padded} {
		forms = append(forms, hex.EncodeToString(b), spacedHex(b),
			base64.StdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b))
	}
	return forms
}

func spacedHex(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = strings.ToUpper(hex.EncodeToString([]byte{c}))
	}
	return strings.Join(parts, " ")
}

func adminGet(t *testing.T, env *kiosktest.Env, path string) string {
	t.Helper()
	resp, err := http.Get("http://" + env.Agent.AdminAddr() + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return string(b)
}
