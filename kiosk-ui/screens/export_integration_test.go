//go:build integration

package screens

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
)

// The browser helpers, exported for the end-to-end tests through the real agent
// (agent_integration_test.go). Those live in package screens_test because they import the
// agent (through testing/kiosktest), which imports this package: an internal test file
// importing it would be an import cycle.

// Kiosk is one page of the kiosk UI in the browser.
type Kiosk struct{ k *kiosk }

// NewBrowser starts a headless Chromium for the test (see newBrowser).
func NewBrowser(t testing.TB) context.Context { return newBrowser(t) }

// OpenKiosk loads the UI at baseURL with the token in the fragment, as the shell does.
func OpenKiosk(t testing.TB, ctx context.Context, baseURL, token string) Kiosk {
	t.Helper()
	return Kiosk{openKiosk(t, ctx, baseURL, token)}
}

// Context is the browser tab's chromedp context.
func (k Kiosk) Context() context.Context { return k.k.ctx }

// WaitPhase waits until the page shows the screen of phase.
func (k Kiosk) WaitPhase(phase string) { k.k.t.Helper(); k.k.waitPhase(phase) }

// WaitJS polls a predicate in the page until it is true (bounded).
func (k Kiosk) WaitJS(expr, what string) { k.k.t.Helper(); k.k.waitJS(expr, what) }

// Str evaluates a string expression in the page ("" on failure).
func (k Kiosk) Str(expr string) string { return k.k.str(expr) }

// Heading is the text of the visible screen's h1.
func (k Kiosk) Heading() string { return k.k.heading() }

// Click clicks the visible element matching selector.
func (k Kiosk) Click(selector string) { k.k.t.Helper(); k.k.click(selector) }

// Keys types keys (chromedp/kb names for special keys).
func (k Kiosk) Keys(keys string) { k.k.t.Helper(); k.k.keys(keys) }

// CheckAxe fails the test on any serious or critical axe-core violation in the UI document.
func (k Kiosk) CheckAxe(name string) { k.k.t.Helper(); k.k.checkAxe(name) }

// Screenshot saves docs/screens/<name>.png with -update or SCREENS_UPDATE=1.
func (k Kiosk) Screenshot(name string) { k.k.t.Helper(); k.k.screenshot(name) }

// NoKeysShown fails if visible text looks like an untranslated catalog key.
func (k Kiosk) NoKeysShown(name string) { k.k.t.Helper(); k.k.noKeysShown(name) }

// NoErrors fails if the page threw anything it did not catch.
func (k Kiosk) NoErrors() { k.k.t.Helper(); k.k.noErrors() }

// Run runs chromedp actions with a bounded timeout.
func (k Kiosk) Run(actions ...chromedp.Action[chromedp.Void]) {
	k.k.t.Helper()
	run(k.k.t, k.k.ctx, actions...)
}

// Updating reports whether screenshots are being written.
func Updating() bool { return updating() }

// Msg renders a catalog string of lang as the page does.
func Msg(t testing.TB, lang, key string, vars map[string]any) string {
	t.Helper()
	return msg(t, catalog(t, lang), key, vars)
}

// Forgotten is a script expression, true when the page shows and holds nothing of a citizen.
const Forgotten = forgotten

// FitsEveryResolution fails the test for each kiosk resolution at which the screen shown
// scrolls, puts a control off screen or makes one too small (the matrix's layout checks),
// then goes back to 1280×800.
func (k Kiosk) FitsEveryResolution(name string) {
	k.k.t.Helper()
	for _, res := range resolutions {
		run(k.k.t, k.k.ctx, chromedp.EmulateViewport(res.w, res.h))
		evalJS[chromedp.Void](k.k.t, k.k.ctx, `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))`, chromedp.EvalAwaitPromise)
		if p := k.k.str(layoutProblems); p != "" {
			k.k.t.Errorf("real %s at %s:\n%s", name, res.name, p)
		}
	}
	run(k.k.t, k.k.ctx, chromedp.EmulateViewport(1280, 800))
}
