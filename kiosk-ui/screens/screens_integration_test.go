//go:build integration

package screens

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func tries(n int) *int { return &n }

func msFromNow(d time.Duration) int64 { return time.Now().Add(d).UnixMilli() }

var citizenNames = map[string]string{"en": "Jane Citizen", "el": "Ελένη Παπαδοπούλου", "pl": "Katarzyna Wiśniewska-Dąbrowska"}

// screenStep is one screen of the walk through every phase.
type screenStep struct {
	name    string // docs/screens/<name>-<lang>.png
	state   agentState
	heading string         // catalog key of the expected h1 (h2 of the warning dialog)
	vars    map[string]any // for heading
}

func screenSteps(a *testAgent, lang string) []screenStep {
	name := citizenNames[lang]
	pin := func(left int, wrong bool) *pinInfo {
		return &pinInfo{Min: 6, Max: 8, TriesLeft: tries(left), Wrong: wrong}
	}
	session := func() *sessionInfo {
		return &sessionInfo{PortalURL: a.portal.URL(), EndsAt: msFromNow(14*time.Minute + 32*time.Second), IdleTimeoutSec: 120}
	}
	steps := []screenStep{
		{name: "idle", state: agentState{Phase: "idle"}, heading: "idle.title"},
		{name: "reading", state: agentState{Phase: "reading"}, heading: "reading.title"},
		{name: "pin", state: agentState{Phase: "pin", Pin: pin(3, false)}, heading: "pin.title"},
		{name: "pin-wrong", state: agentState{Phase: "pin", Pin: pin(2, true)}, heading: "pin.title"},
		{name: "verifying", state: agentState{Phase: "verifying", Pin: pin(2, false)}, heading: "verifying.title"},
		{name: "connecting", state: agentState{Phase: "connecting", Citizen: &citizenInfo{name}}, heading: "connecting.title"},
		{name: "session", state: agentState{Phase: "session", Citizen: &citizenInfo{name}, Session: session()},
			heading: "session.title", vars: map[string]any{"name": name}},
		{name: "session-warning", state: agentState{Phase: "session", Citizen: &citizenInfo{name}, Session: session(),
			Warning: &warningInfo{EndsAt: msFromNow(30 * time.Second)}}, heading: "warning.title"},
		{name: "ending", state: agentState{Phase: "ending", Goodbye: &goodbyeInfo{"ended"}}, heading: "ending.title"},
		{name: "goodbye", state: agentState{Phase: "goodbye", Goodbye: &goodbyeInfo{"idle_timeout"}}, heading: "goodbye.title"},
	}
	for _, code := range protocolErrorCodes {
		if code == "out_of_order" {
			continue // the out_of_order phase below
		}
		steps = append(steps, screenStep{name: "error-" + code,
			state: agentState{Phase: "error", Error: &errorInfo{code}}, heading: "error." + code + ".title"})
	}
	return append(steps,
		screenStep{name: "out_of_order", state: agentState{Phase: "out_of_order", Error: &errorInfo{"out_of_order"}}, heading: "error.out_of_order.title"},
		screenStep{name: "starting", state: agentState{Phase: "starting"}, heading: "starting.title"},
	)
}

// kioskIn opens the kiosk page on a scripted agent in a fresh browser and has the citizen
// choose lang on the attract screen.
func kioskIn(t *testing.T, lang string) (*testAgent, *kiosk) {
	t.Helper()
	a := newTestAgent(t)
	k := openKiosk(t, newBrowser(t), a.URL(), a.Token())
	k.waitPhase("idle")
	if lang != "en" {
		k.click(fmt.Sprintf(`#prefs button[data-lang=%q]`, lang))
		if m := a.Expect("language"); m.Lang != lang || m.V != 1 {
			t.Fatalf("language message %s, want lang %q", m.Raw, lang)
		}
	}
	k.waitJS(fmt.Sprintf(`document.documentElement.lang === %q`, lang), "<html lang="+lang+">")
	return a, k
}

// show has the scripted agent send the step's state and waits until the page shows it with
// the step's heading (the idle warning's title when the warning is open).
func (k *kiosk) show(a *testAgent, cat map[string]message, step screenStep) {
	k.t.Helper()
	a.Set(step.state)
	k.waitPhase(step.state.Phase)
	want := msg(k.t, cat, step.heading, step.vars)
	if step.state.Warning != nil {
		k.waitJS(`document.getElementById("idle-warning").open`, "the idle warning")
		if got := k.str(`document.getElementById("warning-title").textContent`); got != want {
			k.t.Errorf("%s: warning title %q, want %q", step.name, got, want)
		}
		return
	}
	k.waitJS(fmt.Sprintf(`document.querySelector("main > .screen:not([hidden]) h1").textContent === %q`, want), step.name+" heading "+want)
}

// Every screen in every language: the right heading in the right language, focus on the
// heading, no untranslated key, no serious axe violation; screenshots with -update.
func TestEveryScreenInEveryLanguage(t *testing.T) {
	for _, lang := range Languages() {
		t.Run(lang, func(t *testing.T) {
			a, k := kioskIn(t, lang)
			cat := catalog(t, lang)

			prev := "idle"
			for _, step := range screenSteps(a, lang) {
				k.show(a, cat, step)
				if step.state.Warning == nil && step.state.Phase != prev {
					k.waitJS(`document.activeElement === document.querySelector("main > .screen:not([hidden]) h1")`, step.name+": focus on the heading")
				}
				prev = step.state.Phase
				if step.state.Phase == "session" {
					a.portal.WaitHit(t, "/attempted", 1)
				}
				k.noKeysShown(step.name)
				k.checkAxe(step.name + "-" + lang)
				k.screenshot(step.name + "-" + lang)
			}
			k.noErrors()
		})
	}
}

// The error screens are announced assertively, with what the citizen can do.
func TestErrorsAreAnnounced(t *testing.T) {
	a := newTestAgent(t)
	k := openKiosk(t, newBrowser(t), a.URL(), a.Token())
	cat := catalog(t, "en")
	k.waitPhase("idle")
	a.Set(agentState{Phase: "error", Error: &errorInfo{"pin_blocked"}})
	k.waitPhase("error")
	want := msg(t, cat, "error.pin_blocked.body", nil)
	k.waitJS(fmt.Sprintf(`document.getElementById("announce-assertive").textContent.includes(%q)`, want), "the assertive announcement")
	k.click("#error-finish")
	a.Expect("cancel")

	a.Set(agentState{Phase: "out_of_order", Error: &errorInfo{"out_of_order"}})
	k.waitPhase("out_of_order")
	if k.str(`String(document.getElementById("error-finish").checkVisibility())`) != "false" {
		t.Error("out of order: a Finish button is shown although there is nothing to finish")
	}
}

// The PIN can be entered by keyboard alone: Tab to the PIN field, type, Enter. Exactly one
// pin message; the PIN never reaches the DOM or storage.
func TestPINByKeyboardAlone(t *testing.T) {
	a := newTestAgent(t)
	k := openKiosk(t, newBrowser(t), a.URL(), a.Token())
	a.Set(agentState{Phase: "pin", Pin: &pinInfo{Min: 6, Max: 8, TriesLeft: tries(3)}})
	k.waitPhase("pin")
	k.waitJS(`document.activeElement.id === "pin-title"`, "focus on the PIN heading")
	k.keys(kb.Tab)
	k.waitJS(`document.activeElement.id === "pin-field"`, "Tab to reach the PIN field")
	k.keys("1234")
	k.keys(kb.Backspace)
	k.keys("456")
	k.waitJS(`document.querySelectorAll("#pin-dots .dot-filled").length === 6`, "six dots")
	leak := k.str(`(() => {
		const all = document.documentElement.outerHTML + [...document.querySelectorAll("*")].map(e => e.value ?? "").join("|");
		return ["123456", "123", "456"].filter(s => all.includes(s)).join(",") + "|" + localStorage.length + sessionStorage.length;
	})()`)
	if leak != "|00" {
		t.Errorf("PIN digits or storage visible in the page: %q", leak)
	}
	if got := k.str(`document.getElementById("pin-count").textContent`); got != "6 digits entered" {
		t.Errorf("screen reader text %q, want \"6 digits entered\"", got)
	}
	k.keys(kb.Enter)
	m := a.Expect("pin")
	if m.Raw != `{"v":1,"type":"pin","pin":"123456"}` {
		t.Errorf("pin message %s", m.Raw)
	}
	k.keys(kb.Enter) // a second Enter before the agent answers sends nothing
	k.waitJS(`document.querySelectorAll("#pin-dots .dot-filled").length === 0`, "the dots cleared after sending")

	// The agent answers: wrong, one try left (the singular form).
	a.Set(agentState{Phase: "pin", Pin: &pinInfo{Min: 6, Max: 8, TriesLeft: tries(1), Wrong: true}})
	want := msg(t, catalog(t, "en"), "pin.wrong", map[string]any{"n": 1})
	k.waitJS(fmt.Sprintf(`document.getElementById("pin-message").textContent === %q`, want), "the wrong PIN message")
	if !strings.Contains(want, "1 try left") {
		t.Errorf("singular message %q", want)
	}
	k.waitJS(fmt.Sprintf(`document.getElementById("announce-assertive").textContent === %q`, want), "the wrong PIN announced")

	// Keypad with the pointer, Delete, then Escape cancels.
	for _, d := range "9876543" {
		k.click(fmt.Sprintf(`[data-digit="%c"]`, d))
	}
	k.click("#pin-delete")
	k.click("#pin-ok")
	if m := a.Expect("pin"); m.Pin != "987654" {
		t.Errorf("keypad PIN %q, want 987654", m.Pin)
	}
	a.Set(agentState{Phase: "pin", Pin: &pinInfo{Min: 6, Max: 8, TriesLeft: tries(2), Wrong: true}})
	k.waitJS(`document.getElementById("pin-message").textContent === "Wrong PIN, 2 tries left."`, "the plural message")
	k.keys("12")
	k.keys(kb.Enter) // too short: told, not sent
	k.waitJS(`document.getElementById("announce-assertive").textContent === "Your PIN has at least 6 digits."`, "the too-short hint")
	k.keys(kb.Escape)
	a.Expect("cancel")
	a.Set(agentState{Phase: "goodbye", Goodbye: &goodbyeInfo{"cancelled"}})
	k.waitPhase("goodbye")
	if n := a.Count("pin"); n != 2 {
		t.Errorf("the page sent %d pin messages, want 2", n)
	}
}

// Digits and Enter typed anywhere on the PIN screen go to the PIN: after the citizen chose a
// language with a tap (the focus is on that button) and after tapping keypad keys, a
// keyboard's digits and Enter submit the PIN; nothing else is pressed.
func TestPINTypedAfterTappingElsewhere(t *testing.T) {
	a := newTestAgent(t)
	k := openKiosk(t, newBrowser(t), a.URL(), a.Token())
	a.Set(agentState{Phase: "pin", Pin: &pinInfo{Min: 6, Max: 8, TriesLeft: tries(3)}})
	k.waitPhase("pin")
	k.click(`#prefs button[data-lang="el"]`)
	if m := a.Expect("language"); m.Lang != "el" {
		t.Fatalf("language message %s", m.Raw)
	}
	k.waitJS(`document.documentElement.lang === "el"`, "the page in Greek")
	k.waitJS(`document.activeElement.dataset.lang === "el"`, "the focus on the language button just tapped")
	k.keys("123456")
	k.keys(kb.Enter)
	if m := a.Expect("pin"); m.Pin != "123456" {
		t.Errorf("PIN typed after choosing a language: %s, want 123456", m.Raw)
	}
	if n := a.Count("language"); n != 1 {
		t.Errorf("Enter pressed the language button: %d language messages, want 1", n)
	}

	a.Set(agentState{Phase: "pin", Lang: "el", Pin: &pinInfo{Min: 6, Max: 8, TriesLeft: tries(2), Wrong: true}})
	k.waitJS(`document.getElementById("pin-message").hidden === false`, "the wrong PIN message")
	for _, d := range "654321" {
		k.click(fmt.Sprintf(`[data-digit="%c"]`, d))
	}
	k.keys(kb.Enter)
	if m := a.Expect("pin"); m.Pin != "654321" {
		t.Errorf("keypad taps then Enter: %s, want 654321 (Enter must not press the last key again)", m.Raw)
	}
	if n := a.Count("pin"); n != 2 {
		t.Errorf("%d pin messages, want 2", n)
	}
}

// After keyboard PIN entry the session bar's title, which takes the focus only for screen
// readers, shows no focus box; the control the citizen then Tabs to shows a deliberate ring
// (WCAG 2.4.7 and 2.4.11: at least 2 px, a solid outline).
func TestFocusIndicator(t *testing.T) {
	a := newTestAgent(t)
	k := openKiosk(t, newBrowser(t), a.URL(), a.Token())
	a.Set(agentState{Phase: "pin", Pin: &pinInfo{Min: 6, Max: 8, TriesLeft: tries(3)}})
	k.waitPhase("pin")
	k.keys("123456")
	k.keys(kb.Enter)
	a.Expect("pin")
	a.Set(agentState{Phase: "session", Citizen: &citizenInfo{"Jane Citizen"},
		Session: &sessionInfo{PortalURL: a.portal.URL(), EndsAt: msFromNow(10 * time.Minute)}})
	k.waitPhase("session")
	k.waitJS(`document.activeElement.id === "session-title"`, "the focus on the bar's title")
	if got := k.str(`(() => { const s = getComputedStyle(document.activeElement); return s.outlineStyle + "|" + s.boxShadow; })()`); got != "none|none" {
		t.Errorf("the bar's title after keyboard entry shows a focus box: outline|box-shadow %q", got)
	}
	k.keys(kb.Tab)
	ring := k.str(`(() => { const e = document.activeElement; const s = getComputedStyle(e);
		return e.tagName + "|" + s.outlineStyle + "|" + parseFloat(s.outlineWidth); })()`)
	parts := strings.Split(ring, "|")
	if len(parts) != 3 || parts[0] != "BUTTON" || parts[1] != "solid" {
		t.Fatalf("after Tab: %q, want a button with a solid outline", ring)
	}
	if w, _ := strconv.ParseFloat(parts[2], 64); w < 2 {
		t.Errorf("focus ring %s px wide, want at least 2", parts[2])
	}
}

// The idle warning shows a countdown; "I'm still here" sends activity; when the time runs
// out the agent ends the session and the page wipes.
func TestIdleWarning(t *testing.T) {
	a := newTestAgent(t)
	k := openKiosk(t, newBrowser(t), a.URL(), a.Token())
	sess := &sessionInfo{PortalURL: a.portal.URL(), EndsAt: msFromNow(10 * time.Minute), IdleTimeoutSec: 120}
	a.Set(agentState{Phase: "session", Citizen: &citizenInfo{"Jane Citizen"}, Session: sess})
	k.waitPhase("session")
	a.Set(agentState{Phase: "session", Citizen: &citizenInfo{"Jane Citizen"}, Session: sess,
		Warning: &warningInfo{EndsAt: msFromNow(20 * time.Second)}})
	k.waitJS(`document.getElementById("idle-warning").open`, "the idle warning")
	k.waitJS(`document.activeElement.id === "warning-stay"`, "focus on I'm still here")
	first := k.str(`document.getElementById("warning-count").textContent`)
	k.waitJS(fmt.Sprintf(`document.getElementById("warning-count").textContent !== %q`, first), "the countdown to move")
	if body := k.str(`document.getElementById("warning-body").textContent`); !strings.Contains(body, "seconds unless") {
		t.Errorf("warning text %q", body)
	}
	before := a.Count("activity")
	k.click("#warning-stay")
	a.wait(func() bool { return countLocked(a, "activity") > before }, "an activity message")
	k.waitJS(`!document.getElementById("idle-warning").open`, "the warning to close") // the agent cleared it

	// This time nobody answers: the agent ends the session.
	a.Set(agentState{Phase: "session", Citizen: &citizenInfo{"Jane Citizen"}, Session: sess,
		Warning: &warningInfo{EndsAt: msFromNow(1 * time.Second)}})
	k.waitJS(`document.getElementById("idle-warning").open`, "the idle warning again")
	k.waitJS(`document.getElementById("warning-count").textContent === "0"`, "the countdown to reach 0")
	a.Set(agentState{Phase: "ending", Goodbye: &goodbyeInfo{"idle_timeout"}})
	a.Wipe()
	a.Set(agentState{Phase: "goodbye", Goodbye: &goodbyeInfo{"idle_timeout"}})
	k.waitPhase("goodbye")
	k.waitJS(forgotten, "the page to forget the citizen")
}

// countTones makes the page count the oscillators it starts (two per tone).
const countTones = `(() => { window.tones = 0; const make = AudioContext.prototype.createOscillator;
	AudioContext.prototype.createOscillator = function () { window.tones++; return make.call(this); }; return ""; })()`

// With ui.warning_sound the idle warning sounds when it opens and again in its last 10
// seconds; without it, never.
func TestWarningSound(t *testing.T) {
	for _, sound := range []bool{false, true} {
		a := newTestAgentWith(t, Options{DefaultLanguage: "en", WarningSound: sound})
		k := openKiosk(t, newBrowser(t), a.URL(), a.Token())
		sess := &sessionInfo{PortalURL: a.portal.URL(), EndsAt: msFromNow(10 * time.Minute), IdleTimeoutSec: 120}
		a.Set(agentState{Phase: "session", Citizen: &citizenInfo{"Jane Citizen"}, Session: sess})
		k.waitPhase("session")
		k.str(countTones)
		a.Set(agentState{Phase: "session", Citizen: &citizenInfo{"Jane Citizen"}, Session: sess,
			Warning: &warningInfo{EndsAt: msFromNow(12 * time.Second)}})
		k.waitJS(`document.getElementById("idle-warning").open`, "the idle warning")
		k.waitJS(`Number(document.getElementById("warning-count").textContent) <= 8`, "the warning's last seconds")
		got := k.str(`String(window.tones)`)
		if want := map[bool]string{false: "0", true: "4"}[sound]; got != want {
			t.Errorf("warning_sound %v: %s oscillators started, want %s (two tones of two notes, or none)", sound, got, want)
		}
	}
}

func countLocked(a *testAgent, typ string) int {
	n := 0
	for _, m := range a.log {
		if m.Type == typ {
			n++
		}
	}
	return n
}

// The trusted bar stays outside the portal frame; the frame is sandboxed so the portal
// cannot navigate the kiosk or open windows; End session is sent.
func TestSessionFrame(t *testing.T) {
	a := newTestAgent(t)
	k := openKiosk(t, newBrowser(t), a.URL(), a.Token())
	if got := k.str(`location.href`); got != a.URL()+"/" {
		t.Errorf("address after start %q: the token must be removed from the address bar", got)
	}
	a.Set(agentState{Phase: "session", Citizen: &citizenInfo{"Jane Citizen"},
		Session: &sessionInfo{PortalURL: a.portal.URL(), EndsAt: msFromNow(61 * time.Minute), IdleTimeoutSec: 120}})
	k.waitPhase("session")
	a.portal.WaitHit(t, "/attempted", 1)
	if got := k.str(`document.getElementById("portal-frame").getAttribute("sandbox")`); got != "allow-scripts allow-same-origin allow-forms" {
		t.Errorf("sandbox %q", got)
	}
	if got := k.str(`document.getElementById("portal-frame").src`); got != a.portal.URL() {
		t.Errorf("frame src %q, want %q", got, a.portal.URL())
	}
	if got := k.str(`location.href`); got != a.URL()+"/" {
		t.Errorf("the portal navigated the kiosk to %q", got)
	}
	if a.portal.Hits("/escaped") != 0 || a.portal.Hits("/popup") != 0 {
		t.Errorf("the portal escaped its frame: top navigations %d, popups %d", a.portal.Hits("/escaped"), a.portal.Hits("/popup"))
	}
	// One clock, and only when it matters: the session's time shows in its last 5 minutes.
	if got := k.str(`document.getElementById("session-time").hidden + "|" + document.getElementById("session-time-value").textContent`); got != "true|" {
		t.Errorf("an hour before the end the bar shows the session's time: hidden|text %q", got)
	}
	a.Update(func(s *agentState) { s.Session.EndsAt = msFromNow(4*time.Minute + 30*time.Second) })
	k.waitJS(`!document.getElementById("session-time").hidden && document.getElementById("session-time-value").textContent.startsWith("4:")`, "the session's time in its last 5 minutes")
	k.waitJS(`document.getElementById("announce-polite").textContent.includes("Time left 4:")`, "the time left announced when it appears")
	if h, err := strconv.ParseFloat(k.str(`String(document.querySelector(".session-bar").getBoundingClientRect().height)`), 64); err != nil || h > 64 {
		t.Errorf("the bar is %v px high at 1280 x 800 (%v), want at most 64", h, err)
	}
	if got := k.str(`document.querySelector(".session-bar").contains(document.getElementById("portal-frame")) ? "inside" : "outside"`); got != "outside" {
		t.Error("the portal frame is inside the trusted bar")
	}

	// A portal URL on the UI's own origin would let the frame lift its sandbox: refused.
	a.Update(func(s *agentState) { s.Session = &sessionInfo{PortalURL: a.URL() + "/", EndsAt: s.Session.EndsAt} })
	k.waitJS(`!document.getElementById("portal-frame")`, "the same-origin portal refused")

	// Larger text and high contrast (in the bar's panel), then End session.
	k.click("#session-prefs")
	k.waitJS(`!document.getElementById("session-prefs-panel").hidden && document.getElementById("session-prefs-panel").contains(document.getElementById("pref-large-text"))`, "the display panel")
	k.click("#pref-large-text")
	k.click("#pref-high-contrast")
	k.waitJS(`document.documentElement.classList.contains("large-text") && document.documentElement.classList.contains("high-contrast")`, "the display toggles")
	// The open panel covers none of the bar's controls.
	if over := k.str(`(() => { const p = document.getElementById("session-prefs-panel").getBoundingClientRect();
		return [...document.querySelectorAll(".session-bar > button, .session-nav button")].filter(b => {
			const r = b.getBoundingClientRect();
			return r.left < p.right && r.right > p.left && r.top < p.bottom && r.bottom > p.top; }).map(b => b.id).join(","); })()`); over != "" {
		t.Errorf("the display panel covers the bar's %s", over)
	}
	k.checkAxe("session high contrast")
	k.click("#session-end")
	a.Expect("end_session")
	a.Wipe()
	k.waitJS(forgotten, "the page to forget the citizen and reset the display")
}

// At 200% text and in high contrast the PIN and attract screens still fit without
// horizontal scrolling, and keep targets of at least 44 px.
func TestLargeTextAndContrast(t *testing.T) {
	a := newTestAgent(t)
	k := openKiosk(t, newBrowser(t), a.URL(), a.Token())
	k.waitPhase("idle")
	k.click("#pref-high-contrast")
	k.waitJS(`document.documentElement.classList.contains("high-contrast")`, "high contrast")
	k.checkAxe("idle high contrast")
	k.screenshot("idle-contrast-en")
	a.Set(agentState{Phase: "pin", Pin: &pinInfo{Min: 6, Max: 8, TriesLeft: tries(3)}})
	k.waitPhase("pin")
	k.checkAxe("pin high contrast")
	k.screenshot("pin-contrast-en")
	k.click("#pref-high-contrast")
	for _, phase := range []string{"idle", "pin", "session"} {
		st := agentState{Phase: phase, Pin: &pinInfo{Min: 6, Max: 8, TriesLeft: tries(3)}}
		if phase == "session" {
			st = agentState{Phase: phase, Citizen: &citizenInfo{"Jane Citizen"},
				Session: &sessionInfo{PortalURL: a.portal.URL(), EndsAt: msFromNow(10 * time.Minute)}}
		}
		a.Set(st)
		k.waitPhase(phase)
		evalJSVoid(t, k, `document.documentElement.style.fontSize = "200%"`)
		k.waitJS(`document.documentElement.scrollWidth <= document.documentElement.clientWidth`, phase+" at 200% without horizontal scrolling")
		small := k.str(`[...document.querySelectorAll("button")].filter(b => b.checkVisibility())
			.filter(b => { const r = b.getBoundingClientRect(); return r.width < 44 || r.height < 44; })
			.map(b => b.textContent.trim()).join(", ")`)
		if small != "" {
			t.Errorf("%s at 200%%: targets under 44 px: %s", phase, small)
		}
		k.checkAxe(phase + " at 200%")
		if phase == "pin" {
			k.screenshot("pin-200-en")
		}
		evalJSVoid(t, k, `document.documentElement.style.fontSize = ""`)
	}
	// Reduced motion (the browser emulates it) stops the progress animation.
	a.Set(agentState{Phase: "reading"})
	k.waitPhase("reading")
	if got := k.str(`getComputedStyle(document.querySelector("#screen-reading .progress span")).animationName`); got != "none" {
		t.Errorf("progress animation %q with prefers-reduced-motion", got)
	}
}

func evalJSVoid(t *testing.T, k *kiosk, expr string) {
	t.Helper()
	k.str(`(() => { ` + expr + `; return ""; })()`)
}

// Activity is reported at most once a second however busy the citizen is.
func TestActivityIsThrottled(t *testing.T) {
	a := newTestAgent(t)
	k := openKiosk(t, newBrowser(t), a.URL(), a.Token())
	a.Set(agentState{Phase: "session", Citizen: &citizenInfo{"Jane Citizen"},
		Session: &sessionInfo{PortalURL: a.portal.URL(), EndsAt: msFromNow(10 * time.Minute)}})
	k.waitPhase("session")
	// One burst of real input on the bar's heading, sent to the browser in one round trip.
	xy := evalJS[[]float64](t, k.ctx, `(() => { const r = document.getElementById("session-title").getBoundingClientRect();
		return [r.x + r.width / 2, r.y + r.height / 2]; })()`)
	var burst []chromedp.Action[chromedp.Void]
	for range 20 {
		burst = append(burst, chromedp.MouseClickXY(xy[0], xy[1]), chromedp.KeyEvent("a"))
	}
	start := time.Now()
	run(t, k.ctx, burst...)
	took := time.Since(start)
	k.click("#session-end")
	a.Expect("end_session")
	// At most one message per started second of the burst, and one more for its edge.
	n, most := a.Count("activity"), int(took/time.Second)+2
	if n < 1 || n > most {
		t.Errorf("40 inputs in %v sent %d activity messages, want 1 to %d", took, n, most)
	}
}

// A script cannot act for the citizen: synthetic events and element.click() on every
// control of the trusted chrome and the PIN pad do nothing (docs/security.md, invariant 1).
func TestUntrustedInputIgnored(t *testing.T) {
	a := newTestAgent(t)
	k := openKiosk(t, newBrowser(t), a.URL(), a.Token())
	a.Set(agentState{Phase: "pin", Pin: &pinInfo{Min: 6, Max: 8, TriesLeft: tries(3)}})
	k.waitPhase("pin")
	evalJSVoid(t, k, `for (const d of "123456") {
		document.querySelector('[data-digit="' + d + '"]').click();
		document.dispatchEvent(new KeyboardEvent("keydown", {key: d, bubbles: true}));
	}
	document.getElementById("pin-ok").click();
	document.dispatchEvent(new KeyboardEvent("keydown", {key: "Enter", bubbles: true}));
	document.getElementById("pin-cancel").click();
	document.dispatchEvent(new KeyboardEvent("keydown", {key: "Escape", bubbles: true}));
	for (const b of document.querySelectorAll("#prefs button")) b.click();`)
	if n := k.str(`String(document.querySelectorAll("#pin-dots .dot-filled").length)`); n != "0" {
		t.Errorf("script clicks and keys entered %s PIN digits", n)
	}
	if got := k.str(`document.documentElement.className`); got != "" {
		t.Errorf("script clicks changed the display preferences: %q", got)
	}

	a.Set(agentState{Phase: "session", Citizen: &citizenInfo{"Jane Citizen"},
		Session: &sessionInfo{PortalURL: a.portal.URL(), EndsAt: msFromNow(10 * time.Minute)},
		Warning: &warningInfo{EndsAt: msFromNow(time.Minute)}})
	k.waitJS(`document.getElementById("idle-warning").open`, "the idle warning")
	evalJSVoid(t, k, `for (let i = 0; i < 5; i++) {
		document.dispatchEvent(new PointerEvent("pointerdown", {bubbles: true}));
		document.dispatchEvent(new KeyboardEvent("keydown", {key: "a", bubbles: true}));
		document.dispatchEvent(new Event("touchstart", {bubbles: true}));
	}
	document.getElementById("warning-stay").click();
	document.getElementById("idle-warning").dispatchEvent(new Event("cancel", {cancelable: true}));
	document.getElementById("session-end").click();`)
	if k.str(`String(document.getElementById("idle-warning").open)`) != "true" {
		t.Error("a script closed the idle warning")
	}
	// The citizen's own input still works, and is the first thing the agent hears.
	k.click("#warning-stay")
	a.Expect("activity")
	for _, m := range a.Messages() {
		if m.Type != "activity" {
			t.Errorf("a script's input reached the agent as %q", m.Type)
		}
	}
	if n := a.Count("activity"); n != 1 {
		t.Errorf("the agent heard %d activity messages, want only the citizen's 1", n)
	}
}

// The page survives the agent going away, another protocol version and bad messages.
func TestReconnectAndBadMessages(t *testing.T) {
	a := newTestAgent(t)
	k := openKiosk(t, newBrowser(t), a.URL(), a.Token())
	k.waitPhase("idle")
	a.Set(agentState{Phase: "session", Citizen: &citizenInfo{"Jane Citizen"},
		Session: &sessionInfo{PortalURL: a.portal.URL(), EndsAt: msFromNow(10 * time.Minute)}})
	k.waitPhase("session")

	// The agent restarts: Starting…, the session's traces gone, then back.
	a.mu.Lock()
	a.state = agentState{Phase: "idle", Lang: "en", Seq: 0}
	a.mu.Unlock()
	a.SetDown(true)
	a.Drop()
	k.waitPhase("starting")
	k.waitJS(forgotten, "the page to forget the citizen when the agent went away")
	k.checkAxe("starting while the agent is away")
	a.SetDown(false)
	a.WaitAccepted(2)
	k.waitPhase("idle")

	// Garbage, unknown types, oversized frames and bad fields are ignored.
	a.SendRaw(`not json`)
	a.SendRaw(`[1,2,3]`)
	a.SendRaw(`{"v":1,"type":"surprise"}`)
	a.SendRaw(`{"v":1,"type":"state","seq":"x","phase":"pin"}`)
	a.SendRaw(`{"v":1,"type":"state","seq":0,"phase":"pin"}`) // not newer than the last
	a.SendRaw(`{"v":1,"type":"state","seq":99,"phase":"idle","pad":"` + strings.Repeat("x", 5000) + `"}`)
	a.Update(func(s *agentState) { s.Phase = "reading" })
	k.waitPhase("reading")
	a.Update(func(s *agentState) { s.Phase = "warp_drive" })
	k.waitPhase("error")
	if got := k.heading(); got != "Something went wrong" {
		t.Errorf("unknown phase shows %q", got)
	}
	a.Update(func(s *agentState) {
		s.Phase, s.Citizen = "session", &citizenInfo{`<img src=x onerror=alert(1)>` + strings.Repeat("n", 500)}
		s.Session = &sessionInfo{PortalURL: "javascript:alert(1)", EndsAt: msFromNow(time.Minute)}
	})
	k.waitPhase("session")
	if k.str(`String(document.querySelectorAll("#screen-session img, #portal-frame").length)`) != "0" {
		t.Error("a hostile name or portal URL made it into the page")
	}

	// Another protocol version: the page reloads itself, keeps its token and reconnects.
	n := a.Accepted()
	a.mu.Lock()
	a.state = agentState{Phase: "idle", Lang: "en", Seq: 0}
	a.mu.Unlock()
	a.SendRaw(`{"v":2,"type":"state","seq":1000,"phase":"idle"}`)
	a.WaitAccepted(n + 1)
	k.waitPhase("idle")
	if got := k.str(`location.href`); got != a.URL()+"/" {
		t.Errorf("address after the reload %q", got)
	}
	k.noErrors()
}

// Random, often malformed states (a seeded, bounded run) never break the page: no uncaught
// error, and the next good state is shown.
func TestRandomStates(t *testing.T) {
	a := newTestAgent(t)
	k := openKiosk(t, newBrowser(t), a.URL(), a.Token())
	k.waitPhase("idle")
	r := rand.New(rand.NewPCG(1, 2))
	pick := func(vs ...any) any { return vs[r.IntN(len(vs))] }
	phases := append(slices.Clone(protocolPhases), "", "PIN", "__proto__")
	for i := range 300 {
		st := map[string]any{
			"v": 1, "type": "state", "seq": 1000 + i,
			"phase": pick(toAny(phases)...),
			"lang":  pick("en", "el", "xx", "", nil, 7),
			"pin": pick(nil, map[string]any{"min": pick(6, -1, 99, "6", nil), "max": pick(8, 0, 1e9, nil),
				"triesLeft": pick(nil, 0, 1, 3, -5, "x"), "wrong": pick(true, false, "yes", nil)}, "x", []int{1}),
			"citizen": pick(nil, map[string]any{"name": pick("Jane", "", 5, nil, strings.Repeat("é", 300))}, "x"),
			"session": pick(nil, map[string]any{"portalURL": pick(a.portal.URL(), a.URL()+"/", "file:///etc/passwd", "http://127.0.0.1:1/", nil, 3),
				"endsAt": pick(msFromNow(time.Minute), -1, "soon", nil, 1e300)}, "x"),
			"warning": pick(nil, nil, map[string]any{"endsAt": pick(msFromNow(10*time.Second), "x", nil)}, 4),
			"error":   pick(nil, map[string]any{"code": pick(toAny(protocolErrorCodes)...)}, map[string]any{"code": pick("nope", nil, 1)}),
			"goodbye": pick(nil, map[string]any{"reason": pick(toAny(protocolGoodbyeReasons)...)}, map[string]any{"reason": "x"}),
		}
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		a.SendRaw(string(b))
	}
	a.mu.Lock()
	a.state = agentState{Phase: "reading", Lang: "en", Seq: 5000}
	a.broadcastLocked()
	a.mu.Unlock()
	k.waitPhase("reading")
	k.waitJS(`document.documentElement.lang === "en" && !document.getElementById("idle-warning").open`, "a calm reading screen")
	k.noErrors()
}

func toAny[T any](vs []T) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// BenchmarkAttractScreen measures loading the page until the attract screen is shown,
// catalogs and websocket included, in a warm browser.
func BenchmarkAttractScreen(b *testing.B) {
	a := newTestAgent(b)
	ctx := newBrowser(b)
	var total time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		k := openKiosk(b, ctx, a.URL(), a.Token())
		k.waitPhase("idle")
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/attract")
}

// Every button keeps its contrast under the pointer: after a tap the pointer (or a touch
// screen's sticky hover) stays on the button, and the OK key is drawn as the primary action.
// The real-agent walk found OK unreadable when hovered (dark text on dark blue).
func TestButtonsHovered(t *testing.T) {
	a := newTestAgent(t)
	k := openKiosk(t, newBrowser(t), a.URL(), a.Token())
	a.Set(agentState{Phase: "pin", Pin: &pinInfo{Min: 6, Max: 8, TriesLeft: tries(2), Wrong: true}})
	k.waitPhase("pin")
	primary := k.str(`getComputedStyle(document.getElementById("pin-cancel")).borderTopColor`)
	if got := k.str(`getComputedStyle(document.getElementById("pin-ok")).backgroundColor`); got != primary {
		t.Errorf("the OK key's background is %s, want the primary colour %s", got, primary)
	}
	for _, contrast := range []bool{false, true} {
		if contrast {
			k.click("#pref-high-contrast")
			k.waitJS(`document.documentElement.classList.contains("high-contrast")`, "high contrast")
		}
		ids := evalJS[[]string](t, k.ctx, `[...document.querySelectorAll("#screen-pin button, #prefs button")]
			.filter(b => b.checkVisibility()).map((b, i) => b.id || (b.id = "hover-test-" + i))`)
		for _, id := range ids {
			box := evalJS[[]float64](t, k.ctx, fmt.Sprintf(`(() => { const r = document.getElementById(%q).getBoundingClientRect();
				return [r.x + r.width / 2, r.y + r.height / 2]; })()`, id))
			run(t, k.ctx, chromedp.MouseEvent(chromedp.MouseMoved, box[0], box[1]))
			k.waitJS(fmt.Sprintf(`document.getElementById(%q).matches(":hover")`, id), id+" hovered")
			k.checkAxe(fmt.Sprintf("pin screen, %s hovered (high contrast %v)", id, contrast))
		}
	}
}
