//go:build integration

package screens

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Browser helpers for the screens. They need only the UI's base URL and token, so an
// end-to-end test can drive the real agent with them: openKiosk(t, newBrowser(t), url, token).

const chromiumPath = "/usr/bin/chromium"

// axePath is where `npm install --prefix kiosk-ui/screens/testdata axe-core@4.14.1` puts axe.
const axePath = "testdata/node_modules/axe-core/axe.min.js"

// screenshotDir receives docs/screens/<name>.png with -update or SCREENS_UPDATE=1.
const screenshotDir = "../../docs/screens"

var updateScreens = flag.Bool("update", false, "write screenshots of every screen to docs/screens")

func updating() bool { return *updateScreens || os.Getenv("SCREENS_UPDATE") == "1" }

// errorCollector collects the page's uncaught errors (noErrors checks them).
const errorCollector = `window.__errors = [];
window.addEventListener("error", e => window.__errors.push(String(e.message)));
window.addEventListener("unhandledrejection", e => window.__errors.push(String(e.reason)));`

// forgotten is true when the page shows and holds nothing of a citizen: no portal frame,
// name, time or PIN digit, no open warning, and the display preferences back to default.
const forgotten = `(!document.getElementById("portal-frame") &&
	document.getElementById("session-title").textContent === "" &&
	document.getElementById("session-time-value").textContent === "" &&
	document.querySelectorAll("#pin-dots .dot-filled").length === 0 &&
	!document.getElementById("idle-warning").open &&
	!document.documentElement.classList.contains("high-contrast") &&
	!document.documentElement.classList.contains("large-text"))`

// newBrowser starts a headless Chromium with a fresh profile for this test and returns its
// chromedp context, with a 1280×800 viewport and reduced motion (stable screenshots).
func newBrowser(t testing.TB) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("this test needs Chromium at %s: install it with `apt-get install chromium` (make deps does)", chromiumPath)
	}
	dir, err := os.MkdirTemp("", "screens-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1280, 800),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		removeProfile(t, dir)
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser, bound to ctx
		t.Fatalf("starting Chromium: %v", err)
	}
	run(t, ctx,
		chromedp.EmulateViewport(1280, 800),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}},
			})
			return err
		}),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: errorCollector})
			return err
		}),
	)
	return ctx
}

// removeProfile deletes the profile; Chromium's children may still write for a moment
// after the browser has gone, so it retries until a deadline.
func removeProfile(t testing.TB, dir string) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := os.RemoveAll(dir)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("removing the Chromium profile: %v", err)
			return
		}
		time.Sleep(50 * time.Millisecond) // polling a directory with a deadline, not synchronisation
	}
}

// run runs actions with a per-call timeout.
func run(t testing.TB, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// evalJS evaluates a script expression and decodes its value.
func evalJS[T any](t testing.TB, ctx context.Context, expr string, opts ...chromedp.EvaluateOption) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		t.Fatalf("evaluating %.80q: %v", expr, err)
	}
	return v
}

// kiosk is one page of the kiosk UI in the browser.
type kiosk struct {
	t   testing.TB
	ctx context.Context
}

// openKiosk loads the UI at baseURL with the token in the fragment, as the shell does,
// and waits until the page has loaded its catalogs.
func openKiosk(t testing.TB, ctx context.Context, baseURL, token string) *kiosk {
	t.Helper()
	k := &kiosk{t: t, ctx: ctx}
	// From about:blank, so that reopening the same page is a load and not a fragment change.
	run(t, ctx, chromedp.Navigate("about:blank"), chromedp.Navigate(baseURL+"/#token="+token))
	// A selector wait, not a script poll: right after a navigation chromedp may still hold
	// the old document's execution context, and evaluating in it fails with "Cannot find
	// context with specified id" (seen on a busy machine); a selector wait follows the
	// document the frame shows.
	run(t, ctx, chromedp.WaitReady(chromedp.CSS(`body[data-ready="true"]`)))
	return k
}

// waitJS polls a predicate in the page until it is true.
func (k *kiosk) waitJS(expr, what string) {
	k.t.Helper()
	tctx, cancel := context.WithTimeout(k.ctx, 20*time.Second)
	defer cancel()
	_, err := chromedp.Run(tctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second)))
	if err != nil {
		k.t.Fatalf("waiting for %s (%s): %v; page shows phase %q: %q", what, expr, err,
			k.str(`document.body.dataset.phase`), k.str(`document.querySelector("main > .screen:not([hidden]) h1")?.textContent ?? ""`))
	}
}

func (k *kiosk) str(expr string) string {
	tctx, cancel := context.WithTimeout(k.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(tctx, chromedp.Evaluate[string](expr))
	return s
}

// waitPhase waits until the page shows the screen of phase.
func (k *kiosk) waitPhase(phase string) {
	k.t.Helper()
	k.waitJS(fmt.Sprintf(`document.body.dataset.phase === %q`, phase), "phase "+phase)
}

// heading is the text of the visible screen's h1.
func (k *kiosk) heading() string {
	return k.str(`document.querySelector("main > .screen:not([hidden]) h1")?.textContent ?? ""`)
}

func (k *kiosk) click(selector string) {
	k.t.Helper()
	run(k.t, k.ctx, chromedp.Click(chromedp.CSS(selector), chromedp.NodeVisible))
}

func (k *kiosk) keys(keys string) {
	k.t.Helper()
	run(k.t, k.ctx, chromedp.KeyEvent(keys))
}

type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
	// Why is axe's explanation for the first node, e.g. the colours it measured.
	Why string `json:"why"`
}

// checkAxe runs axe-core on the page (not inside the portal frame, which is the council's)
// and fails on any serious or critical violation.
func (k *kiosk) checkAxe(name string) {
	k.t.Helper()
	if !evalJS[bool](k.t, k.ctx, `typeof window.axe === "object"`) {
		src, err := os.ReadFile(axePath)
		if err != nil {
			k.t.Fatalf("axe-core is missing (%v): run `npm install --prefix kiosk-ui/screens/testdata axe-core@4.14.1` (make deps does)", err)
		}
		evalJS[chromedp.Void](k.t, k.ctx, string(src))
	}
	raw := evalJS[[]byte](k.t, k.ctx, `axe.run(document, {iframes: false, resultTypes: ["violations"]}).then(r =>
		r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
			why: v.nodes.length ? String(v.nodes[0].failureSummary ?? "") : ""})))`, chromedp.EvalAwaitPromise)
	var vs []axeViolation
	if err := json.Unmarshal(raw, &vs); err != nil {
		k.t.Fatalf("axe result: %v", err)
	}
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			k.t.Errorf("%s: axe %s violation %s: %s at %q: %s", name, v.Impact, v.ID, v.Help, v.Nodes, v.Why)
		} else {
			k.t.Logf("%s: axe %s: %s (%s) at %q", name, v.Impact, v.ID, v.Help, v.Nodes)
		}
	}
}

// screenshot saves docs/screens/<name>.png when updating.
func (k *kiosk) screenshot(name string) {
	k.t.Helper()
	if !updating() {
		return
	}
	// Two animation frames: the last render is painted.
	evalJS[chromedp.Void](k.t, k.ctx, `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))`, chromedp.EvalAwaitPromise)
	tctx, cancel := context.WithTimeout(k.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(tctx, chromedp.CaptureScreenshot())
	if err != nil {
		k.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		k.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), shrinkPNG(k.t, png), 0o644); err != nil {
		k.t.Fatal(err)
	}
}

// catalog reads a message catalog so tests can compare the page's text with it.
func catalog(t testing.TB, lang string) map[string]message {
	t.Helper()
	b, err := fs.ReadFile(assets, "assets/i18n/"+lang+".json")
	if err != nil {
		t.Fatal(err)
	}
	var cat map[string]message
	if err := json.Unmarshal(b, &cat); err != nil {
		t.Fatal(err)
	}
	return cat
}

// msg renders a catalog string as the page does (plural "one" for n == 1 in en and el).
func msg(t testing.TB, cat map[string]message, key string, vars map[string]any) string {
	t.Helper()
	m, ok := cat[key]
	if !ok {
		t.Fatalf("catalog lacks %q", key)
	}
	s := m.text
	if m.forms != nil {
		n, _ := vars["n"].(int)
		s = m.forms[pluralCategory(m.forms, n)]
	}
	return regexp.MustCompile(`\{(\w+)\}`).ReplaceAllStringFunc(s, func(p string) string {
		if v, ok := vars[p[1:len(p)-1]]; ok {
			return fmt.Sprint(v)
		}
		return p
	})
}

// pluralCategory is the CLDR plural category of a whole number n, as Intl.PluralRules gives
// it for the catalogs' languages: one/other (English, Greek), or one/few/many (Polish, the
// catalogs with "few" forms).
func pluralCategory(forms map[string]string, n int) string {
	if _, slavic := forms["few"]; slavic {
		switch {
		case n == 1:
			return "one"
		case n%10 >= 2 && n%10 <= 4 && (n%100 < 12 || n%100 > 14):
			return "few"
		default:
			return "many"
		}
	}
	if n == 1 && forms["one"] != "" {
		return "one"
	}
	return "other"
}

// noKeysShown fails if any visible text looks like an untranslated catalog key.
func (k *kiosk) noKeysShown(name string) {
	k.t.Helper()
	leaked := k.str(`(() => {
		const re = /^(?:[a-z]+\.)+[a-zA-Z_]+$/;
		const texts = [...document.querySelectorAll("body *")]
			.filter(e => e.children.length === 0 && e.checkVisibility && e.checkVisibility())
			.map(e => e.textContent.trim())
			.concat([...document.querySelectorAll("[aria-label]")].map(e => e.getAttribute("aria-label")));
		return texts.filter(s => re.test(s)).join(", ");
	})()`)
	if leaked != "" {
		k.t.Errorf("%s: untranslated keys on screen: %s", name, strings.TrimSpace(leaked))
	}
}

// noErrors fails if the page threw anything it did not catch.
func (k *kiosk) noErrors() {
	k.t.Helper()
	if errs := k.str(`window.__errors.join("; ")`); errs != "" {
		k.t.Errorf("the page threw: %s", errs)
	}
}
