//go:build integration

package screens_test

// End-to-end tests of the screens through the REAL kiosk-agent: the virtual citizen card
// behind the real pcscd (vpcd), the demo council portal over mutual TLS, the agent in
// process (testing/kiosktest), and a real Chromium driving the page the agent serves. They
// live in package screens_test because they import the agent, which imports package
// screens; the browser helpers come from export_integration_test.go.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"smartpath/agent/config"
	"smartpath/kiosk-ui/screens"
	"smartpath/testing/kiosktest"
	"smartpath/testing/vcard"
)

const (
	citizen  = "Jane Citizen"
	wrongPIN = "000000"
	// realWait bounds every wait on the real agent (card, pcscd, portal).
	realWait = 15 * time.Second
)

// startReal starts a kiosk and a browser showing its UI at the attract screen.
func startReal(t *testing.T, opts kiosktest.Options) (*kiosktest.Env, screens.Kiosk) {
	t.Helper()
	env := kiosktest.Start(t, opts)
	k := screens.OpenKiosk(t, screens.NewBrowser(t), env.Agent.UIOrigin(), env.Token(t))
	k.WaitPhase("idle")
	return env, k
}

// idleConfig sets the session's idle timeout and the length of its warning.
func idleConfig(timeout, warning time.Duration) func(*config.Config) {
	return func(c *config.Config) {
		c.Session.IdleTimeout = timeout
		c.Session.IdleWarning = warning
	}
}

// check runs the checks every screen gets and saves docs/screens/real-<name>-<lang>.png.
func check(k screens.Kiosk, name, lang string) {
	k.NoKeysShown(name + "-" + lang)
	k.CheckAxe("real " + name + "-" + lang)
	k.Screenshot("real-" + name + "-" + lang)
	k.FitsEveryResolution(name + "-" + lang)
}

// checkBrief checks a screen the agent shows only while the card or the portal works (the
// card's emulated latency keeps it up): screenshot first, then the rest, and it fails if the
// screen went away before its checks were done.
func checkBrief(t *testing.T, k screens.Kiosk, phase, lang string) {
	t.Helper()
	k.WaitPhase(phase)
	k.Screenshot("real-" + phase + "-" + lang)
	k.NoKeysShown(phase + "-" + lang)
	k.CheckAxe("real " + phase + "-" + lang)
	if got := k.Str(`document.body.dataset.phase`); got != phase {
		t.Errorf("%s-%s: the screen changed to %q before its checks were done: raise the card's emulated latency", phase, lang, got)
	}
}

// chooseLanguage presses the language button on the attract screen and waits for the agent
// to switch the page.
func chooseLanguage(t *testing.T, k screens.Kiosk, lang string) {
	t.Helper()
	if k.Str(`document.documentElement.lang`) != lang {
		k.Click(fmt.Sprintf(`#prefs button[data-lang=%q]`, lang))
	}
	k.WaitJS(fmt.Sprintf(`document.documentElement.lang === %q && document.body.dataset.lang === %q`, lang, lang), "the page in "+lang)
}

// tapPIN enters a PIN on the on-screen keypad and presses OK.
func tapPIN(k screens.Kiosk, pin string) {
	for _, d := range pin {
		k.Click(fmt.Sprintf(`[data-digit="%c"]`, d))
	}
	k.WaitJS(fmt.Sprintf(`document.querySelectorAll("#pin-dots .dot-filled").length === %d`, len(pin)), "the PIN dots")
	k.Click("#pin-ok")
}

// waitText waits until the element's text is want.
func waitText(k screens.Kiosk, id, want string) {
	k.WaitJS(fmt.Sprintf(`document.getElementById(%q)?.textContent === %q`, id, want), fmt.Sprintf("#%s to read %q", id, want))
}

// portalText is the text of the portal frame's document. The frame is another origin, so
// neither the UI's script nor a script evaluated in the UI can read it: it is read in an
// isolated world of that frame, through the browser's debugging protocol.
func portalText(ctx context.Context) (string, error) {
	return evalInPortal[string](ctx, `document.body ? document.body.innerText : ""`)
}

// portalGreeting is how the demo portal greets a citizen in each language (it follows the
// kiosk's language through Accept-Language).
var portalGreeting = map[string]string{"en": "Welcome, ", "el": "Καλώς ήρθατε, "}

// waitPortalGreets waits until the portal shown in the frame greets the citizen, in the
// kiosk's language.
func waitPortalGreets(t *testing.T, k screens.Kiosk, name string) {
	t.Helper()
	want := portalGreeting[k.Str(`document.documentElement.lang`)] + name
	deadline := time.Now().Add(realWait)
	var last string
	var err error
	for time.Now().Before(deadline) {
		if last, err = portalText(k.Context()); err == nil && strings.Contains(last, want) {
			return
		}
		time.Sleep(50 * time.Millisecond) // polling the frame with a deadline
	}
	t.Fatalf("the portal frame does not show %q within %v (last error %v); it shows:\n%.600s", want, realWait, err, last)
}

// Every screen the real agent shows a citizen, in every language: attract, reading, PIN,
// wrong PIN with tries left, verifying, connecting, the session with the portal greeting the
// citizen in its frame, the idle warning, ending, goodbye. Each gets the right heading in the right
// language, no untranslated key and no serious axe-core violation; screenshots with
// SCREENS_UPDATE=1.
func TestRealAgentEveryScreen(t *testing.T) {
	env, k := startReal(t, kiosktest.Options{Config: idleConfig(8*time.Second, 5*time.Second)})
	card := env.NewCard(t, citizen, "C-1001", vcard.AlgP256)
	for _, lang := range screens.Languages() {
		k.WaitPhase("idle")
		chooseLanguage(t, k, lang)
		waitText(k, "idle-title", screens.Msg(t, lang, "idle.title", nil))
		check(k, "idle", lang)

		// Reading takes a few APDUs: at 250 ms each the screen stays up for its checks (which
		// take about 50 ms, 250 ms with screenshots).
		card.SetEmulation(vcard.Emulation{APDULatency: 250 * time.Millisecond})
		remove := env.Insert(t, card)
		checkBrief(t, k, "reading", lang)
		k.WaitPhase("pin")
		if got := k.Str(`document.documentElement.lang`); got != lang {
			t.Fatalf("%s: the PIN screen is in %q: the language chosen at the attract screen was lost", lang, got)
		}
		waitText(k, "pin-tries", screens.Msg(t, lang, "pin.triesLeft", map[string]any{"n": 3}))
		check(k, "pin", lang)

		// A wrong PIN: verifying (one slow VERIFY), then the PIN screen again with tries left.
		card.SetEmulation(vcard.Emulation{APDULatency: time.Second})
		tapPIN(k, wrongPIN)
		checkBrief(t, k, "verifying", lang)
		card.SetEmulation(vcard.Emulation{})
		k.WaitPhase("pin")
		waitText(k, "pin-message", screens.Msg(t, lang, "pin.wrong", map[string]any{"n": 2}))
		check(k, "pin-wrong", lang)

		// The right PIN: connecting lasts the TLS handshake and its one slow card signature.
		card.SetEmulation(vcard.Emulation{ECLatency: time.Second})
		tapPIN(k, vcard.DefaultPIN)
		checkBrief(t, k, "connecting", lang)
		k.WaitPhase("session")
		card.SetEmulation(vcard.Emulation{})
		k.Click("#session-title") // activity: the idle timer starts again, the warning stays away while checked
		waitText(k, "session-title", screens.Msg(t, lang, "session.title", map[string]any{"name": citizen}))
		waitPortalGreets(t, k, citizen)
		if k.Str(`String(document.getElementById("idle-warning").open)`) != "false" {
			t.Fatalf("%s: the idle warning is up before the session screen was checked", lang)
		}
		check(k, "session", lang)

		// Nobody touches the kiosk: the warning comes with its countdown.
		k.WaitJS(`document.getElementById("idle-warning").open`, "the idle warning")
		waitText(k, "warning-title", screens.Msg(t, lang, "warning.title", nil))
		if n := k.Str(`document.getElementById("warning-count").textContent`); n == "" || n == "0" {
			t.Errorf("%s: warning countdown %q", lang, n)
		}
		check(k, "session-warning", lang)
		k.Click("#warning-stay")
		k.WaitJS(`!document.getElementById("idle-warning").open`, "the warning to close")

		// Ending wipes the session and logs the card out: one slow APDU keeps it up.
		card.SetEmulation(vcard.Emulation{APDULatency: time.Second})
		k.Click("#session-end")
		checkBrief(t, k, "ending", lang)
		waitText(k, "ending-reason", screens.Msg(t, lang, "goodbye.reason.ended", nil))
		k.WaitPhase("goodbye")
		card.SetEmulation(vcard.Emulation{})
		waitText(k, "goodbye-title", screens.Msg(t, lang, "goodbye.title", nil))
		waitText(k, "goodbye-reason", screens.Msg(t, lang, "goodbye.reason.ended", nil))
		check(k, "goodbye", lang)
		remove()
		k.WaitPhase("idle")
	}
	if got := card.Signatures(); got != len(screens.Languages()) {
		t.Errorf("card signatures %d for %d sessions", got, len(screens.Languages()))
	}
	k.NoErrors()
}

// The PIN by keyboard alone opens the session: focus moves to the PIN field with Tab, the
// digits and Enter send it; the session bar shows whose session it is; End session is
// reached with Tab (past Home) and pressed with Enter; after the card comes out the attract screen is
// back with nothing of the citizen left in the page.
func TestRealAgentKeyboardOnly(t *testing.T) {
	env, k := startReal(t, kiosktest.Options{})
	card := env.NewCard(t, citizen, "C-1001", vcard.AlgP256)
	remove := env.Insert(t, card)
	k.WaitPhase("pin")
	k.WaitJS(`document.activeElement.id === "pin-title"`, "focus on the PIN heading")
	k.Keys(kb.Tab)
	k.WaitJS(`document.activeElement.id === "pin-field"`, "Tab to reach the PIN field")
	k.Keys(vcard.DefaultPIN)
	k.WaitJS(`document.querySelectorAll("#pin-dots .dot-filled").length === 6`, "six dots")
	k.Keys(kb.Enter)
	k.WaitPhase("session")
	if got := card.VerifyCount(); got != 1 {
		t.Errorf("the card saw %d VERIFY commands for one Enter, want 1", got)
	}
	waitText(k, "session-title", "Signed in: "+citizen)
	waitPortalGreets(t, k, citizen)

	k.WaitJS(`document.activeElement.id === "session-title"`, "focus on the session bar's heading")
	k.Keys(kb.Tab) // Back is disabled on the first page
	k.WaitJS(`document.activeElement.id === "session-home"`, "Tab to reach Home")
	k.Keys(kb.Tab)
	k.WaitJS(`document.activeElement.id === "session-prefs"`, "Tab to reach Display and language")
	k.Keys(kb.Tab)
	k.WaitJS(`document.activeElement.id === "session-end"`, "Tab to reach End session")
	k.Keys(kb.Enter)
	k.WaitPhase("goodbye")
	waitText(k, "goodbye-reason", screens.Msg(t, "en", "goodbye.reason.ended", nil))
	k.WaitJS(screens.Forgotten, "the page to forget the citizen")
	remove()
	k.WaitPhase("idle")
	waitText(k, "idle-title", screens.Msg(t, "en", "idle.title", nil))
	if got := k.Str(`document.getElementById("session-title").textContent`); got != "" {
		t.Errorf("the citizen's name is still in the page: %q", got)
	}
	k.NoErrors()
}

// The idle warning appears with a moving countdown; "I'm still here" keeps the session;
// when nobody answers, the session ends with the reason idle_timeout.
func TestRealAgentIdleWarning(t *testing.T) {
	env, k := startReal(t, kiosktest.Options{Config: idleConfig(4*time.Second, 3*time.Second)})
	ui := env.DialUI(t) // a second UI client, to read the reason the agent gives
	card := env.NewCard(t, citizen, "C-1001", vcard.AlgP256)
	env.Insert(t, card)
	k.WaitPhase("pin")
	tapPIN(k, vcard.DefaultPIN)
	k.WaitPhase("session")

	k.WaitJS(`document.getElementById("idle-warning").open`, "the idle warning")
	k.WaitJS(`document.activeElement.id === "warning-stay"`, "focus on I'm still here")
	first := k.Str(`document.getElementById("warning-count").textContent`)
	k.WaitJS(fmt.Sprintf(`document.getElementById("warning-count").textContent !== %q`, first), "the countdown to move")
	st := ui.WaitState("the warning", realWait, func(s kiosktest.State) bool { return s.Phase == "session" && s.Warning != nil })
	if left := time.Until(time.UnixMilli(st.Warning.EndsAt)); left <= 0 || left > 3*time.Second {
		t.Errorf("warning ends in %v, want within the 3s warning", left)
	}

	k.Click("#warning-stay")
	ui.WaitState("the warning cleared", realWait, func(s kiosktest.State) bool { return s.Phase == "session" && s.Warning == nil })
	k.WaitJS(`!document.getElementById("idle-warning").open`, "the warning to close")
	if got := k.Str(`document.body.dataset.phase`); got != "session" {
		t.Fatalf("after I'm still here the page shows %q", got)
	}

	// Nobody answers this time.
	k.WaitJS(`document.getElementById("idle-warning").open`, "the idle warning again")
	k.WaitPhase("goodbye")
	st = ui.WaitPhase("goodbye", realWait)
	if st.Goodbye == nil || st.Goodbye.Reason != "idle_timeout" {
		t.Errorf("goodbye %+v, want reason idle_timeout", st.Goodbye)
	}
	waitText(k, "goodbye-reason", screens.Msg(t, "en", "goodbye.reason.idle_timeout", nil))
	k.WaitJS(screens.Forgotten, "the page to forget the citizen")
	check(k, "goodbye-idle_timeout", "en")
	k.NoErrors()
}

// The error screens a citizen can really meet, in every language: the portal down
// (portal_unavailable), a card blocked by three wrong PINs (pin_blocked: typed here in the
// first language, then the blocked card is inserted again), and pcscd gone (out_of_order,
// healed when it is back).
func TestRealAgentErrorScreens(t *testing.T) {
	env, k := startReal(t, kiosktest.Options{NoPortal: true})
	jane := env.NewCard(t, citizen, "C-1001", vcard.AlgP256)
	nikos := env.NewCard(t, "Nikos Papadopoulos", "C-2002", vcard.AlgP256)
	errorScreen := func(code, lang string) {
		t.Helper()
		k.WaitPhase("error")
		waitText(k, "error-title", screens.Msg(t, lang, "error."+code+".title", nil))
		waitText(k, "error-body", screens.Msg(t, lang, "error."+code+".body", nil))
		k.WaitJS(`document.activeElement.id === "error-title"`, "focus on the error heading")
		check(k, "error-"+code, lang)
	}
	langs := screens.Languages()
	for i, lang := range langs {
		k.WaitPhase("idle")
		chooseLanguage(t, k, lang)

		// The right PIN, but the council's portal does not answer.
		remove := env.Insert(t, jane)
		k.WaitPhase("pin")
		tapPIN(k, vcard.DefaultPIN)
		errorScreen("portal_unavailable", lang)
		k.Click("#error-finish")
		k.WaitPhase("goodbye")
		waitText(k, "goodbye-reason", screens.Msg(t, lang, "goodbye.reason.cancelled", nil))
		remove()
		k.WaitPhase("idle")

		chooseLanguage(t, k, lang)
		remove = env.Insert(t, nikos)
		if i == 0 {
			for n := 2; n >= 1; n-- {
				k.WaitPhase("pin")
				tapPIN(k, wrongPIN)
				waitText(k, "pin-message", screens.Msg(t, lang, "pin.wrong", map[string]any{"n": n}))
			}
			tapPIN(k, wrongPIN)
		}
		errorScreen("pin_blocked", lang)
		if left := nikos.PINTriesLeft(); left != 0 {
			t.Fatalf("the blocked card has %d tries left", left)
		}
		remove()
		k.WaitPhase("idle")
	}

	// pcscd dies: out of order; the citizen's language buttons still work there.
	env.PCSCD.Kill(t)
	k.WaitPhase("out_of_order")
	for _, lang := range langs {
		k.Click(fmt.Sprintf(`#prefs button[data-lang=%q]`, lang))
		k.WaitJS(fmt.Sprintf(`document.documentElement.lang === %q`, lang), "the page in "+lang)
		waitText(k, "error-title", screens.Msg(t, lang, "error.out_of_order.title", nil))
		if k.Str(`String(document.getElementById("error-finish").checkVisibility())`) != "false" {
			t.Errorf("out of order (%s): a Finish button is shown although there is no card to take", lang)
		}
		check(k, "out_of_order", lang)
	}
	env.PCSCD.Start(t)
	k.WaitPhase("idle")

	// The kiosk healed: a citizen can sign in again (as far as the portal, which is down).
	remove := env.Insert(t, jane)
	k.WaitPhase("pin")
	remove()
	k.WaitPhase("idle")
	k.NoErrors()
}

// evalInPortal evaluates a script expression in an isolated world of the portal frame.
func evalInPortal[T any](ctx context.Context, expr string) (T, error) {
	var zero T
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	tree, err := chromedp.Call(tctx, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		return zero, err
	}
	if len(tree.FrameTree.ChildFrames) != 1 {
		return zero, fmt.Errorf("%d frames in the page, want the portal's one", len(tree.FrameTree.ChildFrames))
	}
	world, err := chromedp.Call(tctx, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{
		FrameID: tree.FrameTree.ChildFrames[0].Frame.ID, WorldName: "screens-test"})
	if err != nil {
		return zero, err
	}
	return chromedp.Run(tctx, chromedp.Evaluate[T](expr, func(p *runtime.EvaluateParams) { p.ContextID = world.ExecutionContextID }))
}

// inPortal is evalInPortal that fails the test on error.
func inPortal[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := evalInPortal[T](ctx, expr)
	if err != nil {
		t.Fatalf("in the portal frame, %.80q: %v", expr, err)
	}
	return v
}

// waitPortalLeaves waits until the portal frame's document is not at url.
func waitPortalLeaves(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	deadline := time.Now().Add(realWait)
	for time.Now().Before(deadline) {
		if u, err := evalInPortal[string](ctx, `document.readyState === "complete" ? location.href : ""`); err == nil && u != "" && u != url {
			return
		}
		time.Sleep(20 * time.Millisecond) // polling the frame with a deadline
	}
	t.Fatalf("the portal frame stayed at %s after a click on a link", url)
}

// A citizen clicking links inside the portal is using the kiosk, though the UI cannot see
// those clicks (the frame is another origin): the agent counts the portal's requests, and no
// idle warning comes for longer than the idle timeout. When the clicking stops, it comes.
func TestRealAgentBrowsingThePortalIsActivity(t *testing.T) {
	const idle = 3 * time.Second
	env, k := startReal(t, kiosktest.Options{Config: idleConfig(idle, time.Second)})
	env.Insert(t, env.NewCard(t, citizen, "C-1001", vcard.AlgP256))
	k.WaitPhase("pin")
	tapPIN(k, vcard.DefaultPIN)
	k.WaitPhase("session")
	waitPortalGreets(t, k, citizen)
	uiActivity := strings.Count(env.AgentLog(), `"type":"activity"`)

	// Real mouse clicks on the portal's own navigation, alternating two pages, for idle+1s.
	links := []string{"My repairs", "Home"}
	deadline := time.Now().Add(idle + time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		link := links[i%len(links)]
		xy := inPortal[[]float64](t, k.Context(), fmt.Sprintf(`(() => {
			const a = [...document.querySelectorAll("a")].find(a => a.textContent.trim() === %q);
			if (!a) return [];
			const r = a.getBoundingClientRect();
			return [r.x + r.width / 2, r.y + r.height / 2];
		})()`, link))
		if len(xy) != 2 {
			t.Fatalf("the portal page has no %q link: %.300s", link, inPortal[string](t, k.Context(), `document.body.innerText`))
		}
		if k.Str(`String(document.body.dataset.phase === "session" && !document.getElementById("idle-warning").open)`) != "true" {
			t.Fatalf("the idle warning came while the citizen was clicking in the portal (before click %d)", i+1)
		}
		frame := screensRect(t, k, "portal-frame")
		before := inPortal[string](t, k.Context(), `location.href`)
		k.Run(chromedp.MouseClickXY(frame[0]+xy[0], frame[1]+xy[1]))
		waitPortalLeaves(t, k.Context(), before)
		time.Sleep(400 * time.Millisecond) // the citizen reads the page: pacing, not synchronisation
	}
	if n := strings.Count(env.AgentLog(), `"type":"activity"`) - uiActivity; n != 0 {
		t.Errorf("the UI reported %d activities for clicks inside the portal frame: it should not see them", n)
	}
	// The citizen walks away: the warning comes.
	k.WaitJS(`document.getElementById("idle-warning").open`, "the idle warning once the clicking stopped")
	k.NoErrors()
}

// screensRect is the page position (x, y) of the element with id in the UI document.
func screensRect(t *testing.T, k screens.Kiosk, id string) []float64 {
	t.Helper()
	s := k.Str(fmt.Sprintf(`(() => { const r = document.getElementById(%q).getBoundingClientRect(); return r.x + " " + r.y; })()`, id))
	var x, y float64
	if _, err := fmt.Sscanf(s, "%g %g", &x, &y); err != nil {
		t.Fatalf("position of #%s: %q", id, s)
	}
	return []float64{x, y}
}

// The screens offer exactly the configured languages and open in the configured default:
// with ui.languages [el] the kiosk shows Greek and no language choice at all.
func TestRealAgentConfiguredLanguages(t *testing.T) {
	_, k := startReal(t, kiosktest.Options{Config: func(c *config.Config) {
		c.UI.Languages = []string{"el"}
		c.UI.DefaultLanguage = "el"
	}})
	waitText(k, "idle-title", screens.Msg(t, "el", "idle.title", nil))
	if got := k.Str(`[...document.querySelectorAll("#prefs-languages button")].map(b => b.lang).join() + " " + document.getElementById("prefs-languages").hidden`); got != "el true" {
		t.Errorf("language buttons, hidden = %s, want only el, and no choice shown", got)
	}
	if got := k.Str(`document.documentElement.lang`); got != "el" {
		t.Errorf("the page's language is %q, want el (what a screen reader speaks it in)", got)
	}
}

// The citizen's display choice reaches the portal: chosen on the PIN screen (Greek, larger
// text, high contrast), the portal's pages come in Greek, with the forced high-contrast
// style sheet, in a frame zoomed like the kiosk's text; changed during the session, the next
// page follows.
func TestRealAgentPortalFollowsTheDisplay(t *testing.T) {
	env, k := startReal(t, kiosktest.Options{})
	env.Insert(t, env.NewCard(t, citizen, "C-1001", vcard.AlgP256))
	k.WaitPhase("pin")
	chooseLanguage(t, k, "el")
	k.Click("#pref-large-text")
	k.Click("#pref-high-contrast")
	k.WaitJS(`document.documentElement.classList.contains("large-text") && document.documentElement.classList.contains("high-contrast")`, "the display choice")
	tapPIN(k, vcard.DefaultPIN)
	k.WaitPhase("session")
	waitPortalGreets(t, k, citizen)
	if lang := inPortal[string](t, k.Context(), `document.documentElement.lang`); lang != "el" {
		t.Errorf("the portal's page is in %q, want el (Accept-Language)", lang)
	}
	if bg := inPortal[string](t, k.Context(), `[getComputedStyle(document.body).backgroundColor, getComputedStyle(document.querySelector("h1")).color,
		getComputedStyle(document.querySelector("nav a")).color].join("|")`); bg != "rgb(0, 0, 0)|rgb(255, 255, 255)|rgb(255, 255, 0)" {
		t.Errorf("the portal's page in high contrast: body background | heading | link colour %q, want black | white | yellow", bg)
	}
	var holder float64
	fmt.Sscanf(k.Str(`String(document.getElementById("portal-holder").getBoundingClientRect().width)`), "%g", &holder)
	if w := inPortal[float64](t, k.Context(), `window.innerWidth`); w < holder/1.375-2 || w > holder/1.375+2 {
		t.Errorf("the portal's viewport is %.0f CSS px in a %.0f px frame, want it zoomed by 1.375 (%.0f)", w, holder, holder/1.375)
	}
	k.Screenshot("real-session-el-large-contrast")

	// During the session: English and normal contrast from the next page on.
	k.Click("#session-prefs")
	k.Click(`#prefs button[data-lang="en"]`)
	k.Click("#pref-high-contrast")
	k.WaitJS(`document.documentElement.lang === "en" && !document.documentElement.classList.contains("high-contrast")`, "English, normal contrast")
	k.Keys(kb.Escape)
	clickPortalLink(t, k, "Έγγραφα") // the page shown is still the Greek one
	waitPortal(t, k, `document.documentElement.lang === "en" && document.body.innerText.includes("Documents")`, "the next page in English")
	if bg := inPortal[string](t, k.Context(), `getComputedStyle(document.body).backgroundColor`); bg == "rgb(0, 0, 0)" {
		t.Error("high contrast turned off, but the next page still has the contrast sheet")
	}
	k.NoErrors()
}
