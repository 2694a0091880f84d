//go:build integration && linux

package kioskui

import (
	"encoding/json"
	"image"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"smartpath/agent/config"
	"smartpath/testing/kiosktest"
	"smartpath/testing/portal"
	"smartpath/testing/vcard"
)

// hostilePortal is a portal page that attacks the kiosk from inside the portal frame in
// citizen A's session, then probes, in citizen B's, for anything A's page left. Its script
// reports to the portal (through the kiosk's real proxy), where the test reads the reports.
type hostilePortal struct {
	mu      sync.Mutex
	mode    string // "A" or "B": which citizen's session the page is in
	reports []hostileReport
	pwned   int // requests that only code run in the UI origin would make
	changed chan struct{}
}

type hostileReport struct {
	Who  string         `json:"who"`
	Kind string         `json:"kind"`
	Data map[string]any `json:"data"`
	Raw  string         `json:"-"`
	At   time.Time      `json:"-"`
}

func newHostilePortal() *hostilePortal {
	return &hostilePortal{mode: "A", changed: make(chan struct{})}
}

func (h *hostilePortal) setMode(m string) {
	h.mu.Lock()
	h.mode = m
	h.mu.Unlock()
}

func (h *hostilePortal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	switch r.URL.Path {
	case "/_extra/hostile":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, hostilePage)
	case "/_extra/visited-target":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// Back to the attacking page, replacing this entry: the visit is now in A's history.
		io.WriteString(w, `<p>visited</p><script>location.replace("/_extra/hostile?back")</script>`)
	case "/_extra/mode":
		h.mu.Lock()
		m := h.mode
		h.mu.Unlock()
		io.WriteString(w, m)
	case "/_extra/pwned":
		h.mu.Lock()
		h.pwned++
		h.mu.Unlock()
	case "/_extra/report":
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		var rep hostileReport
		json.Unmarshal(b, &rep)
		rep.Raw, rep.At = string(b), time.Now()
		h.mu.Lock()
		h.reports = append(h.reports, rep)
		close(h.changed)
		h.changed = make(chan struct{})
		h.mu.Unlock()
	default:
		http.NotFound(w, r)
	}
}

func (h *hostilePortal) wait(t *testing.T, what string, match func(hostileReport) bool) hostileReport {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		h.mu.Lock()
		for _, r := range h.reports {
			if match(r) {
				h.mu.Unlock()
				return r
			}
		}
		ch := h.changed
		h.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("the hostile page did not report %s within 60 s; reports: %v", what, h.all())
		}
	}
}

func (h *hostilePortal) all() []hostileReport {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hostileReport(nil), h.reports...)
}

// TestHostilePortalPage: a portal page in citizen A's session tries every way into the
// trusted UI and to leave something behind; citizen B's session then finds nothing, and
// nothing A's page started sees B (docs/security.md, invariants 1, 2 and 5).
func TestHostilePortalPage(t *testing.T) {
	requireTools(t)
	hp := newHostilePortal()
	env := kiosktest.Start(t, extraPortal(hp, "/_extra/hostile"))
	display := startXvfb(t)
	sh := startShell(t, display, nil, "-url-file", env.Config.UI.URLFile)
	sh.waitLog(t, 0, `msg="kiosk UI loaded"`, 30*time.Second)
	waitScreen(t, display, "the attract screen", func(img image.Image) bool { return colours(img) > 20 })

	signIn := func(who, number string, n int) func() { return shellSignIn(t, env, display, who, number, n) }

	// Citizen A: the page attacks and plants.
	removeA := signIn("Jane Citizen", "C-1001", 0)
	planted := hp.wait(t, "A's traces planted", func(r hostileReport) bool { return r.Who == "A" && r.Kind == "planted" })
	bridge := hp.wait(t, "A's bridge attempt", func(r hostileReport) bool { return r.Who == "A" && r.Kind == "bridge" })
	t.Run("no native bridge in the portal frame", func(t *testing.T) {
		if res, _ := bridge.Data["result"].(string); !strings.HasPrefix(res, "no handler") {
			t.Fatalf("the frame reached a native message handler: %v", bridge.Data)
		}
	})
	t.Run("no way into the UI origin", func(t *testing.T) {
		for k, v := range planted.Data {
			if strings.HasPrefix(k, "escape:") && v != "blocked" {
				t.Errorf("%s: %v", k, v)
			}
		}
	})
	// The page shows the link A visited. WebKit records no visited links in an ephemeral
	// session, so it stays in the unvisited colour even for A; with a context that kept
	// visits (the shell before this design) it turns red, and the check in B's session
	// below fails.
	img := waitScreen(t, display, "the hostile page in A's session", func(img image.Image) bool {
		return colourCount(img, rgb{0, 0, 0xfe})+visitedRed(img) > 50
	})
	t.Logf("A's own visited link: %d pixels :visited, %d unvisited", visitedRed(img), colourCount(img, rgb{0, 0, 0xfe}))
	aHistory, _ := planted.Data["history"].(float64)
	if aHistory < 5 {
		t.Fatalf("A's history length %v: the page did not build history to look for", aHistory)
	}

	// A's timer is running (so its silence in B's session below means something).
	hp.wait(t, "A's timer", func(r hostileReport) bool { return r.Who == "A" && r.Kind == "alive" })
	from := sh.nLog()
	removeA()
	sh.waitLog(t, from, `msg=wiped orders=1`, 30*time.Second)
	hp.setMode("B")

	// Citizen B.
	removeB := signIn("Nikos Papadopoulos", "C-2002", 1)
	defer removeB()
	probe := hp.wait(t, "B's probe", func(r hostileReport) bool { return r.Who == "B" && r.Kind == "probe" })
	hp.wait(t, "B's fifth tick", func(r hostileReport) bool { return r.Who == "B" && r.Kind == "tick" && r.Data["n"] == float64(5) })

	t.Run("B finds none of A's traces", func(t *testing.T) {
		for k, want := range map[string]any{"local": nil, "session": nil, "idb": nil, "cacheStorage": nil, "windowName": "", "sw": float64(0)} {
			if got := probe.Data[k]; got != want {
				t.Errorf("%s = %v in B's session, want %v", k, got, want)
			}
		}
		if c, _ := probe.Data["cookie"].(string); strings.Contains(c, "a=jane") {
			t.Errorf("B's page sees A's cookie: %q", c)
		}
		if h, _ := probe.Data["history"].(float64); h != 1 {
			t.Errorf("B's history.length = %v (A's was %v), want 1", h, aHistory)
		}
	})
	t.Run("B sees no link A visited", func(t *testing.T) {
		img := waitScreen(t, display, "B's page with the link", func(img image.Image) bool {
			return colourCount(img, rgb{0, 0, 0xfe})+visitedRed(img) > 50
		})
		if n := visitedRed(img); n > 0 {
			t.Fatalf("%d pixels of the link A visited are painted :visited for B (screenshot %s)", n, saveShot(t, img, "visited.png"))
		}
	})
	t.Run("nothing A's page started runs in B's session", func(t *testing.T) {
		for _, r := range hp.all() {
			if r.Who == "A" && !r.At.Before(probe.At) {
				t.Errorf("A's page still reports during B's session: %s", r.Raw)
			}
		}
	})
	t.Run("B's PIN never reaches anything of the portal", func(t *testing.T) {
		for _, r := range hp.all() {
			if strings.Contains(r.Raw, vcard.DefaultPIN) {
				t.Errorf("a report carries the PIN: %s", r.Raw)
			}
		}
		hp.mu.Lock()
		defer hp.mu.Unlock()
		if hp.pwned != 0 {
			t.Errorf("code from the portal ran in the UI origin (%d requests)", hp.pwned)
		}
	})
}

// extraPortal is a kiosk with the real shell whose portal also serves h under /_extra/
// and whose home page is the portal's page at path.
func extraPortal(h http.Handler, path string) kiosktest.Options {
	return kiosktest.Options{
		Portal: func(o *portal.Options) { o.Extra = h },
		Config: func(c *config.Config) {
			kiosktest.WithShell(c)
			c.Portal.Home = strings.TrimSuffix(c.Portal.Home, "/") + path
		},
	}
}

// shellSignIn inserts a new card for who and types the PIN on the real keyboard: the n-th
// sign-in of the agent (from 0). It returns the card's removal.
func shellSignIn(t testing.TB, env *kiosktest.Env, display, who, number string, n int) func() {
	t.Helper()
	card := env.NewCard(t, who, number, vcard.AlgP256)
	remove := env.Insert(t, card)
	waitAgentLog(t, env, `"to":"pin"`, n)
	// The UI of a fresh browser is connected (and so shows the PIN pad) before typing.
	waitAgentLog(t, env, `uilink: UI connected`, n)
	waitPINPad(t, display)
	xdotool(t, display, "mousemove", "640", "400", "type", "--delay", "50", vcard.DefaultPIN)
	xdotool(t, display, "key", "Return")
	waitAgentLog(t, env, `"to":"session"`, n)
	return remove
}

// waitPINPad waits until the PIN pad is on the screen: digits typed before it is shown are
// not the PIN's (the screen before it takes no digits). The pad's twelve keys are the only
// large shapes outlined in the line colour (about 3,400 sampled pixels of it at 1280×800;
// the attract and reading screens have under 100).
func waitPINPad(t testing.TB, display string) {
	t.Helper()
	waitScreen(t, display, "the PIN pad", func(img image.Image) bool {
		return colourCount(img, pinKeyLine) > pinKeyPixels
	})
}

var pinKeyLine = rgb{0x6b, 0x72, 0x80}

const pinKeyPixels = 1500

// visitedRed counts pixels of the :visited colour the hostile page uses.
func visitedRed(img image.Image) int { return colourCount(img, rgb{0xfe, 0x01, 0x01}) }

func colourCount(img image.Image, c rgb) int {
	n := 0
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y += 2 {
		for x := r.Min.X; x < r.Max.X; x += 2 {
			if near(pixel(img, x, y), c) {
				n++
			}
		}
	}
	return n
}

// hostilePage runs in the portal frame. In A's session it attacks the UI and leaves every
// trace it can; in B's it reports what it finds. Every result goes to /_extra/report.
const hostilePage = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Portal</title>
<style>body{margin:0;background:#fff} a{color:#0000fe;font:bold 160px/1 sans-serif;text-decoration:none} a:visited{color:#fe0101}</style>
</head><body><a id="v" href="/_extra/visited-target">&#9608;&#9608;&#9608;&#9608;</a>
<script>
"use strict";
const R = (who, kind, data) => fetch("/_extra/report", {method: "POST", body: JSON.stringify({who, kind, data})}).catch(() => {});
function idb(mode, val) {
  return new Promise(res => {
    try {
      const q = indexedDB.open("a", 1);
      q.onupgradeneeded = () => q.result.createObjectStore("s");
      q.onerror = () => res(null);
      q.onsuccess = () => {
        const tx = q.result.transaction("s", mode), st = tx.objectStore("s");
        const r = mode === "readwrite" ? st.put(val, "k") : st.get("k");
        r.onsuccess = () => res(r.result === undefined ? null : r.result); r.onerror = () => res(null);
      };
    } catch (e) { res(null); }
  });
}
async function probe() {
  let cache = null;
  try { const c = await caches.open("a"); const m = await c.match("/_extra/cached"); cache = m ? await m.text() : null; } catch (e) {}
  let sw = 0;
  try { sw = (await navigator.serviceWorker.getRegistrations()).length; } catch (e) {}
  return {history: history.length, local: localStorage.getItem("a"), session: sessionStorage.getItem("a"),
          cookie: document.cookie, idb: await idb("readonly"), cacheStorage: cache, windowName: window.name, sw};
}
function attempt(f) { try { const r = f(); return r === undefined ? "ran" : String(r); } catch (e) { return "blocked"; } }
async function attack() {
  if (sessionStorage.getItem("planted")) {
    // Back from visiting the target: keep code running for as long as anything lets it.
    setInterval(() => R("A", "alive", {}), 200);
    try { new Worker(URL.createObjectURL(new Blob(['setInterval(() => fetch("' + location.origin + '/_extra/report", {method: "POST", body: JSON.stringify({who: "A", kind: "worker"})}), 200);'], {type: "text/javascript"}))); } catch (e) {}
    const data = JSON.parse(sessionStorage.getItem("planted"));
    data.history = history.length;
    R("A", "planted", data);
    return;
  }
  R("A", "probe", await probe());
  // 1. The webview binding: an id that would run script in the UI document.
  let result;
  try {
    window.webkit.messageHandlers.external.postMessage(JSON.stringify(
      {id: '";fetch("' + location.origin + '/_extra/pwned");//', method: "__kioskShellWipe", params: []}));
    result = "posted";
  } catch (e) { result = "no handler: " + e; }
  R("A", "bridge", {result});
  // 2. Other ways into the UI origin; each must throw.
  const escapes = {
    "escape:parent.document": () => parent.document.title,
    "escape:top.document": () => top.document.body.innerHTML,
    "escape:patch UI WebSocket": () => { parent.WebSocket.prototype.send = function () {}; },
    "escape:parent.eval": () => parent.eval("1"),
    "escape:top.location": () => { if (!top.location.href) throw 1; return top.location.href; },
    "escape:opener": () => { if (!window.opener) throw 1; },
    "escape:window.open": () => { if (!window.open("/_extra/pwned")) throw 1; },
  };
  const data = {};
  for (const k in escapes) data[k] = attempt(escapes[k]);
  try { parent.postMessage({v: 1, type: "language", lang: "el"}, "*"); } catch (e) {}
  // 3. Traces.
  localStorage.setItem("a", "jane"); sessionStorage.setItem("a", "jane");
  document.cookie = "a=jane; max-age=3600; path=/";
  window.name = "jane";
  await idb("readwrite", "jane");
  try { const c = await caches.open("a"); await c.put("/_extra/cached", new Response("jane")); } catch (e) {}
  try { await navigator.serviceWorker.register("/_extra/sw.js"); } catch (e) {}
  for (let i = 0; i < 5; i++) history.pushState({}, "", "?step=" + i);
  sessionStorage.setItem("planted", JSON.stringify(data));
  location.href = "/_extra/visited-target"; // a visited link, and one more history entry
}
async function look() {
  R("B", "probe", await probe());
  let n = 0;
  const t = setInterval(() => { n++; R("B", "tick", {n}); if (n >= 5) clearInterval(t); }, 200);
}
fetch("/_extra/mode").then(r => r.text()).then(m => m === "A" ? attack() : look());
</script></body></html>`
