//go:build integration

package portal

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A real browser through the kiosk's portal proxy: the pages render, their script runs
// under the portal's CSP, every picture of a gallery page loads, server-sent events and the
// websocket work, the repair form works, and axe finds no serious accessibility problem.

const (
	chromiumPath = "/usr/bin/chromium"
	// axePath is the axe-core the kiosk UI's browser tests install (make deps).
	axePath = "../../kiosk-ui/screens/testdata/node_modules/axe-core/axe.min.js"
)

func newChromium(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("this test needs Chromium at %s: install it with `apt-get install chromium` (make deps does)", chromiumPath)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true))
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

func do(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, expr string, opts ...chromedp.EvaluateOption) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		t.Fatalf("evaluating %.80q: %v", expr, err)
	}
	return v
}

// waitJS polls a predicate until it is true; a navigation in between (a form submitted)
// interrupts a poll, so it starts again until the deadline.
func waitJS(t *testing.T, ctx context.Context, expr, what string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		tctx, cancel := context.WithTimeout(ctx, time.Until(deadline))
		_, err := chromedp.Run(tctx, chromedp.Poll[chromedp.Void](expr,
			chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(time.Until(deadline))))
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
			t.Fatalf("waiting for %s: %v; the page says:\n%s", what, err, body)
		}
	}
}

func checkAxe(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	src, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatalf("axe-core is missing (%v): run `npm install --prefix kiosk-ui/screens/testdata axe-core@4.14.1` (make deps does)", err)
	}
	eval[chromedp.Void](t, ctx, string(src))
	raw := eval[[]byte](t, ctx, `axe.run(document, {resultTypes: ["violations"]}).then(r =>
		r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))})))`,
		chromedp.EvalAwaitPromise)
	var vs []struct {
		ID, Impact, Help string
		Nodes            []string
	}
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatalf("axe result: %v", err)
	}
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Errorf("%s: axe %s violation %s: %s at %q", name, v.Impact, v.ID, v.Help, v.Nodes)
		} else {
			t.Logf("%s: axe %s: %s at %q", name, v.ID, v.Help, v.Nodes)
		}
	}
}

func TestBrowserThroughKioskProxy(t *testing.T) {
	w := newWorld(t, func(o *Options) { o.Hostname = "localhost"; o.EventInterval = 50 * time.Millisecond })
	ps, _ := w.proxied(t, card(t, w.pki, "Jane Citizen", "C-1001"))
	local := func(path string) string {
		u, _ := url.Parse(w.urls.Portal + path)
		return ps.LocalURL(u)
	}
	ctx := newChromium(t)

	do(t, ctx, chromedp.Navigate(ps.HomeURL()))
	waitJS(t, ctx, `document.querySelector("h1")?.textContent === "Welcome, Jane Citizen"`, "the greeting")
	if js := eval[string](t, ctx, `document.documentElement.dataset.js || ""`); js != "ok" {
		t.Errorf("the static origin's script did not run through the proxy (CSP or rewriting)")
	}
	checkAxe(t, ctx, "home")

	do(t, ctx, chromedp.Navigate(local("/load/3")))
	waitJS(t, ctx, `document.documentElement.dataset.images === "loaded"`, "every picture of /load/3")

	do(t, ctx, chromedp.Navigate(local("/repairs")))
	waitJS(t, ctx, `document.querySelectorAll(".repair").length >= 2`, "the repairs list")
	checkAxe(t, ctx, "repairs")

	do(t, ctx, chromedp.Navigate(local("/repairs/new")))
	waitJS(t, ctx, `!!document.querySelector("form[action='/repairs/new']")`, "the repair form")
	eval[chromedp.Void](t, ctx, `document.querySelector("form[action='/repairs/new']").submit()`)
	waitJS(t, ctx, `!!document.querySelector(".error-summary")`, "the error summary")
	if f := eval[string](t, ctx, `document.activeElement.className`); f != "error-summary" {
		t.Errorf("focus is on %q after a failed submission, want the error summary", f)
	}
	checkAxe(t, ctx, "repair form with errors")
	eval[chromedp.Void](t, ctx, `(() => {
		document.getElementById("category").value = "heating";
		document.getElementById("room").value = "bedroom";
		document.getElementById("description").value = "The bedroom radiator has been cold for a week.";
		document.querySelector("form[action='/repairs/new']").submit();
	})()`)
	waitJS(t, ctx, `document.querySelector(".notice h2")?.textContent === "Repair reported"`, "the confirmation")

	do(t, ctx, chromedp.Navigate(local("/live")))
	waitJS(t, ctx, `document.querySelectorAll("#events li").length >= 2`, "server-sent events")
	waitJS(t, ctx, `document.documentElement.dataset.ws === "open"`, "the websocket")
	eval[chromedp.Void](t, ctx, `document.getElementById("chat-text").value = "hello desk";
		document.getElementById("chat").requestSubmit()`)
	waitJS(t, ctx, `[...document.querySelectorAll("#chat-log li")].some(li => li.textContent === "Desk: hello desk")`, "the websocket echo")
	checkAxe(t, ctx, "live")

	if got := ps.Signatures(); got != 1 {
		t.Errorf("card signatures %d for the whole browsing session, want 1", got)
	}
}
