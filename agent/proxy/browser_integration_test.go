//go:build integration

package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// frameReport is what the framed test page posts to the kiosk page.
type frameReport struct {
	Href, Cookie, Fetch, WS string
	Anon                    any
}

// The kiosk's layout in a real browser: a kiosk page on its own loopback origin frames
// HomeURL in the sandboxed frame the kiosk UI uses. The enter redirect's SameSite=Strict
// cookie reaches every local origin from the frame: stylesheets and pictures from the static
// host, same-origin fetches and the websocket upgrade are served, the frame's URL is the
// plain page and a reload works. A cookieless (anonymous CORS) request to another local
// origin is refused like any other request without the cookie.
func TestBrowserFrameCarriesCookie(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("this test needs Chromium at %s: install it with `apt-get install chromium` (make deps does)", chromiumPath)
	}
	c := newCouncil(t, serverOpts{h2: true})
	cd := c.ca.card(t, "p256", "Jane Citizen")

	var frameSrc string
	ui := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>kiosk</title>
<script>window.reports = []; addEventListener("message", e => reports.push(e.data));</script>
<iframe id="f" title="portal" sandbox="allow-scripts allow-same-origin allow-forms" referrerpolicy="no-referrer" src="%s"></iframe>`,
			html.EscapeString(frameSrc))
	}))
	t.Cleanup(ui.Close)
	cfg := c.config()
	cfg.UIOrigin = ui.URL
	cfg.Home.Path = "/app"
	s := startSession(t, cfg, cd.cert)
	frameSrc = s.HomeURL()

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true))
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	tctx, tcancel := context.WithTimeout(ctx, 30*time.Second)
	defer tcancel()
	if err := chromedp.Do(tctx, chromedp.Navigate(ui.URL)); err != nil {
		t.Fatalf("Chromium: %v", err)
	}
	report := func(n int) frameReport {
		t.Helper()
		if _, err := chromedp.Run(tctx, chromedp.Poll[chromedp.Void](fmt.Sprintf("window.reports.length >= %d", n),
			chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
			t.Fatalf("waiting for the frame's report %d: %v", n, err)
		}
		raw, err := chromedp.Run(tctx, chromedp.Evaluate[[]byte](fmt.Sprintf("window.reports[%d]", n-1)))
		if err != nil {
			t.Fatal(err)
		}
		var r frameReport
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("report %s: %v", raw, err)
		}
		return r
	}
	portal := s.LocalURL(c.portal.url)
	check := func(what string, r frameReport) {
		t.Helper()
		if r.Href != portal+"/app" {
			t.Errorf("%s: the frame's URL is %s, want the plain page %s/app", what, r.Href, portal)
		}
		if r.Cookie != "" {
			t.Errorf("%s: the portal's script can read cookies %q; the access cookie must be HttpOnly", what, r.Cookie)
		}
		if r.Fetch != "ok /page/1" {
			t.Errorf("%s: same-origin fetch = %q", what, r.Fetch)
		}
		if r.WS != "echo:hi" {
			t.Errorf("%s: websocket = %q, want echo:hi", what, r.WS)
		}
		if r.Anon != "error" {
			t.Errorf("%s: anonymous CORS fetch to the static origin = %v, want refused (no cookie)", what, r.Anon)
		}
	}
	check("first load", report(1))
	if _, err := chromedp.Run(tctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("f").contentWindow.postMessage("reload", "*")`)); err != nil {
		t.Fatal(err)
	}
	check("reload", report(2))

	var static []string
	for _, r := range c.static.requests() {
		static = append(static, r.uri)
	}
	for _, want := range []string{"/app.css", "/pic.png", "/img/bg.png"} {
		if !slices.Contains(static, want) {
			t.Errorf("the static host did not get %s from the frame (it got %q)", want, static)
		}
	}
	if slices.Contains(static, "/anon") {
		t.Error("a cookieless request from the frame reached the static host")
	}
	for _, r := range c.portal.requests() {
		if strings.Contains(r.uri, "__smartpath") || strings.Contains(r.header.Get("Cookie"), "smartpath") {
			t.Errorf("the portal saw the proxy's path or cookie: %s %q", r.uri, r.header.Get("Cookie"))
		}
	}
	if got := s.Signatures(); got != 2 { // the test council's static host asks for the card too
		t.Errorf("card signatures = %d, want 2 (portal and static host, each once)", got)
	}
}
