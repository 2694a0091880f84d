//go:build integration && linux

package kioskui

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestShellLockdown runs the real shell under Xvfb against a test UI and checks that it
// shows the page full screen and that the browser's ways out are closed.
func TestShellLockdown(t *testing.T) {
	requireTools(t)
	display := startXvfb(t)
	ui := newTestUI(t)
	portal := newCounter(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		if r.URL.Path == "/blank" { // a portal page whose link opens a new window
			io.WriteString(w, `<a id="a" target="_blank" href="/inframe">next</a><script>document.getElementById("a").click()</script>`)
			return
		}
		io.WriteString(w, `<p>portal</p>`)
	})) // allowed inside frames
	other := newCounter(t, nil) // allowed nowhere: must see nothing
	sh := startShell(t, display, nil, "-url", ui.url(), "-allow-origin", portal.srv.URL)

	paint := ui.waitPaint(t, 0, "/")
	base := waitPattern(t, display)

	// barrier: the page still answers, from the same load, without a reload.
	sameLoad := func(step string) map[string]any {
		t.Helper()
		r := ui.do(t, "ping", nil)
		if r.Load != paint.Load {
			t.Fatalf("%s: the page was reloaded or replaced (load %s, want %s)", step, r.Load, paint.Load)
		}
		var res map[string]any
		json.Unmarshal(r.Res, &res)
		return res
	}
	rootLoads := func() int {
		n := 0
		for _, h := range ui.all() {
			if h == "GET /" {
				n++
			}
		}
		return n
	}

	t.Run("no native bridge in the page", func(t *testing.T) {
		r := ui.do(t, "bridges", nil)
		var found string
		json.Unmarshal(r.Res, &found)
		if found != "" {
			t.Fatalf("the page can reach native code through: %s", found)
		}
	})

	t.Run("right click shows no menu", func(t *testing.T) {
		from := sh.nLog()
		xdotool(t, display, "mousemove", "640", "400", "click", "3")
		sh.waitLog(t, from, `what=context-menu`, 10*time.Second)
		sameLoad("right click")
		if ok, diff := sameImage(base, screenshot(t, display)); !ok {
			t.Fatalf("screen changed after a right click: %s", diff)
		}
	})

	t.Run("ctrl+r does not reload", func(t *testing.T) {
		from := sh.nLog()
		xdotool(t, display, "mousemove", "640", "400", "key", "ctrl+r")
		sh.waitLog(t, from, `what=shortcut detail=r`, 10*time.Second)
		from = sh.nLog()
		xdotool(t, display, "key", "F5")
		sh.waitLog(t, from, `what=shortcut detail=F5`, 10*time.Second)
		sameLoad("ctrl+r")
		if n := rootLoads(); n != 1 {
			t.Fatalf("the server saw %d GET / after Ctrl+R and F5, want 1", n)
		}
	})

	t.Run("f12 opens no inspector", func(t *testing.T) {
		from := sh.nLog()
		xdotool(t, display, "key", "F12")
		sh.waitLog(t, from, `what=shortcut detail=F12`, 10*time.Second)
		from = sh.nLog()
		xdotool(t, display, "key", "ctrl+shift+i")
		sh.waitLog(t, from, `what=shortcut detail=I`, 10*time.Second)
		sameLoad("f12")
		if ok, diff := sameImage(base, screenshot(t, display)); !ok {
			t.Fatalf("screen changed after F12 / Ctrl+Shift+I: %s", diff)
		}
	})

	t.Run("alt+f4 does not close", func(t *testing.T) {
		from := sh.nLog()
		xdotool(t, display, "key", "alt+F4")
		sh.waitLog(t, from, `what=shortcut detail=F4`, 10*time.Second)
		from = sh.nLog()
		xdotool(t, display, "key", "alt+Left", "ctrl+w", "ctrl+n", "ctrl+l", "ctrl+p")
		sh.waitLog(t, from, `what=shortcut detail=p`, 10*time.Second)
		sameLoad("alt+f4")
		if !sh.running() {
			t.Fatal("kiosk-ui exited after Alt+F4")
		}
		if ok, diff := sameImage(base, screenshot(t, display)); !ok {
			t.Fatalf("screen changed after Alt+F4 and other shortcuts: %s", diff)
		}
	})

	t.Run("other origins are unreachable", func(t *testing.T) {
		o := other.srv.URL + "/x"
		localhost := strings.Replace(ui.srv.URL, "127.0.0.1", "localhost", 1) + "/alias"
		for _, c := range []struct {
			op, url, want string
		}{
			{"fetch", o, "failed"},
			{"img", o + ".png", "error"},
			{"fetch", localhost, "failed"}, // the UI server under another name is another origin
			{"frame", o, ""},
			{"open", o, "null"},
			{"open", ui.srv.URL + "/page-popup", "null"},
			{"blankLink", o, "clicked"},
		} {
			r := ui.do(t, c.op, map[string]any{"url": c.url})
			var got string
			json.Unmarshal(r.Res, &got)
			if c.want != "" && got != c.want {
				t.Errorf("%s %s: page saw %q, want %q", c.op, c.url, got, c.want)
			}
		}
		// Top-level navigation away: refused, the page stays.
		from := sh.nLog()
		ui.send(t, "navigate", map[string]any{"url": o})
		sh.waitLog(t, from, `what=navigation detail=`+other.srv.URL, 10*time.Second)
		from = sh.nLog()
		ui.send(t, "navigate", map[string]any{"url": portal.srv.URL + "/top"})
		sh.waitLog(t, from, `what=top-level detail=`+portal.srv.URL, 10*time.Second)
		sameLoad("navigation")
		if hits := other.all(); len(hits) != 0 {
			t.Fatalf("the other origin was reached: %v", hits)
		}
		if n := portal.count("GET /top"); n != 0 {
			t.Fatalf("the portal was loaded as the top-level document (%d requests)", n)
		}
		if n := ui.count("GET /page-popup"); n != 0 {
			t.Fatalf("window.open to the UI origin opened something (%d requests)", n)
		}
		// The portal origin is allowed inside frames (a positive control for the above).
		r := ui.do(t, "frame", map[string]any{"url": portal.srv.URL + "/framed"})
		var got string
		json.Unmarshal(r.Res, &got)
		if got != "load:opaque" || portal.count("GET /framed") != 1 {
			t.Fatalf("portal frame: page saw %q, portal hits %v", got, portal.all())
		}
		if ok, diff := sameImage(base, screenshot(t, display)); !ok {
			t.Fatalf("screen changed: %s", diff)
		}
	})

	t.Run("target=_blank stays in its frame", func(t *testing.T) {
		ui.do(t, "frame", map[string]any{"url": portal.srv.URL + "/blank"})
		for deadline := time.Now().Add(10 * time.Second); portal.count("GET /inframe") == 0; {
			if time.Now().After(deadline) {
				t.Fatalf("the _blank link in the portal frame did not load in the frame: portal saw %v", portal.all())
			}
			time.Sleep(20 * time.Millisecond) // polling the server's count with a deadline
		}
		sameLoad("_blank in a frame")
		for _, l := range sh.lines() {
			if strings.Contains(l, "what=new-window") {
				t.Fatalf("a new window was asked for: %s", l)
			}
		}
	})

	t.Run("downloads refused", func(t *testing.T) {
		from := sh.nLog()
		ui.send(t, "navigate", map[string]any{"url": "/download"})
		sh.waitLog(t, from, `what=download`, 10*time.Second)
		sameLoad("download")
		if ok, diff := sameImage(base, screenshot(t, display)); !ok {
			t.Fatalf("screen changed after a download: %s", diff)
		}
	})

	t.Run("permissions and printing refused", func(t *testing.T) {
		from := sh.nLog()
		r := ui.do(t, "geo", nil)
		var got string
		json.Unmarshal(r.Res, &got)
		if got != "denied:1" {
			t.Errorf("geolocation: %q, want denied:1 (PERMISSION_DENIED)", got)
		}
		sh.waitLog(t, from, `what=permission detail=WebKitGeolocationPermissionRequest`, 10*time.Second)
		from = sh.nLog()
		ui.do(t, "print", nil)
		sh.waitLog(t, from, `what=print`, 10*time.Second)
		sameLoad("print")
		if ok, diff := sameImage(base, screenshot(t, display)); !ok {
			t.Fatalf("screen changed after a permission request and print: %s", diff)
		}
	})
}

// TestShellTwoCitizens checks that nothing of one citizen survives the agent's wipe order:
// storage, cookies, IndexedDB, Cache Storage, the HTTP cache and history, and that the UI
// document itself is a new one.
func TestShellTwoCitizens(t *testing.T) {
	requireTools(t)
	display := startXvfb(t)
	ui := newTestUI(t)
	sh := startShell(t, display, nil, "-url", ui.url())
	first := ui.waitPaint(t, 0, "/")

	// Citizen 1 leaves traces, and moves to another page so that history has entries and
	// the HTTP cache is proven to work (page1 gets /cached.js from the cache).
	ui.do(t, "setState", nil)
	n := ui.nReports()
	ui.send(t, "navigate", map[string]any{"url": "/page1"})
	ui.waitPaint(t, n, "/page1")
	r := ui.do(t, "getState", nil)
	var st map[string]any
	json.Unmarshal(r.Res, &st)
	// (Cache Storage is not kept across pages in an ephemeral context; that it is gone after
	// the wipe is still checked below.)
	if st["local"] != "jane" || st["idb"] != "jane" || !strings.Contains(st["cookie"].(string), "citizen=jane") {
		t.Fatalf("citizen 1 state was not kept across pages: %v", st)
	}
	if hist := st["history"].(float64); hist < 2 {
		t.Fatalf("history length %v, want at least 2 before the wipe", hist)
	}
	if c := ui.count("GET /cached.js"); c != 1 {
		t.Fatalf("/cached.js fetched %d times before the wipe, want 1 (the HTTP cache should serve it)", c)
	}

	// The session ends: the agent orders the shell to start afresh; it confirms once the
	// UI shows in the new browser.
	n = ui.nReports()
	ui.wipe(t)
	again := ui.waitPaint(t, n, "/")
	if again.Load == first.Load {
		t.Fatal("the UI document was not reloaded")
	}
	n = ui.nReports()
	ui.send(t, "navigate", map[string]any{"url": "/page2"})
	ui.waitPaint(t, n, "/page2")

	// Citizen 2 finds nothing.
	r = ui.do(t, "getState", nil)
	st = map[string]any{}
	json.Unmarshal(r.Res, &st)
	for _, k := range []string{"local", "session", "idb", "cacheStorage"} {
		if st[k] != nil {
			t.Errorf("after the wipe %s = %v, want nothing", k, st[k])
		}
	}
	if st["cookie"] != "" {
		t.Errorf("after the wipe document.cookie = %q", st["cookie"])
	}
	ui.mu.Lock()
	lastCookie := ui.cookies[len(ui.cookies)-1]
	ui.mu.Unlock()
	if lastCookie != "" {
		t.Errorf("after the wipe the page request carried Cookie: %q", lastCookie)
	}
	if c := ui.count("GET /cached.js"); c != 2 {
		t.Errorf("/cached.js fetched %d times, want 2 (the HTTP cache must be empty after the wipe)", c)
	}
	if hist := st["history"].(float64); hist > 2 {
		t.Errorf("history length %v after the wipe: earlier pages are still reachable", hist)
	}
	if !sh.running() {
		t.Fatal("kiosk-ui exited")
	}

	// The default frame allow-list is any port on 127.0.0.1, and nothing else.
	other := newCounter(t, nil)
	for url, want := range map[string]string{
		other.srv.URL + "/loopback": "fetched",
		strings.Replace(other.srv.URL, "127.0.0.1", "localhost", 1) + "/alias": "failed",
	} {
		r := ui.do(t, "fetch", map[string]any{"url": url})
		var got string
		json.Unmarshal(r.Res, &got)
		if got != want {
			t.Errorf("default allow-list: fetch %s: %q, want %q", url, got, want)
		}
	}
	if hits := other.all(); len(hits) != 1 || hits[0] != "GET /loopback" {
		t.Errorf("default allow-list: the other loopback server saw %v, want only GET /loopback", hits)
	}
}

// TestShellRecovers: a crashed web process and a restarted agent (new token in the URL
// file) both end with the UI shown again, the second after a wipe.
func TestShellRecovers(t *testing.T) {
	requireTools(t)
	display := startXvfb(t)
	urlFile := filepath.Join(t.TempDir(), "ui-url")
	ui := newTestUI(t)
	if err := os.WriteFile(urlFile, []byte(ui.url()), 0o600); err != nil {
		t.Fatal(err)
	}
	sh := startShell(t, display, nil, "-url-file", urlFile)
	first := ui.waitPaint(t, 0, "/")

	// Kill the shell's web process (a child of the kiosk-ui this test started).
	var webPID int
	for deadline := time.Now().Add(10 * time.Second); webPID == 0; {
		webPID = childNamed(sh.cmd.Process.Pid, "WebKitWebProces")
		if webPID == 0 && time.Now().After(deadline) {
			t.Fatal("no WebKitWebProcess under kiosk-ui")
		}
	}
	n := ui.nReports()
	from := sh.nLog()
	if err := syscall.Kill(webPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	sh.waitLog(t, from, `msg="web process ended; starting a fresh browser"`, 10*time.Second)
	second := ui.waitPaint(t, n, "/")
	if second.Load == first.Load {
		t.Fatal("no new page load after the web process died")
	}
	waitPattern(t, display)

	// The agent restarts with a new token.
	ui.do(t, "setState", nil)
	n = ui.nReports()
	from = sh.nLog()
	newURL := ui.srv.URL + "/#token=after-restart"
	if err := os.WriteFile(urlFile, []byte(newURL), 0o600); err != nil {
		t.Fatal(err)
	}
	sh.waitLog(t, from, `msg="the agent's UI URL changed; starting a fresh browser"`, 10*time.Second)
	ui.waitPaint(t, n, "/")
	r := ui.do(t, "getState", nil)
	var st map[string]any
	json.Unmarshal(r.Res, &st)
	if st["local"] != nil || st["idb"] != nil || st["cookie"] != "" {
		t.Fatalf("state survived the agent restart: %v", st)
	}

	// The agent comes back on another port: a new UI origin, new lock-down rules.
	moved := newTestUI(t)
	from = sh.nLog()
	if err := os.WriteFile(urlFile, []byte(moved.url()), 0o600); err != nil {
		t.Fatal(err)
	}
	sh.waitLog(t, from, `msg=allow-list ui=`+moved.srv.URL, 10*time.Second)
	moved.waitPaint(t, 0, "/")
	waitPattern(t, display)
	moved.do(t, "ping", nil)
}

// childNamed returns the pid of a child of parent whose comm is name, or 0.
func childNamed(parent int, name string) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if i < 0 || j < i {
			continue
		}
		f := strings.Fields(s[j+1:])
		if len(f) > 1 && s[i+1:j] == name && f[1] == strconv.Itoa(parent) {
			return pid
		}
	}
	return 0
}

func execShell(bin string, args ...string) *exec.Cmd { return exec.Command(bin, args...) }

func filterEnv(env []string, drop ...string) []string {
	var out []string
	for _, kv := range env {
		keep := true
		for _, d := range drop {
			if strings.HasPrefix(kv, d+"=") {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}

// TestShellWaitsForAgent starts the shell before the agent: it shows "Starting…", keeps
// trying, and shows the UI once the URL file appears and the server answers.
func TestShellWaitsForAgent(t *testing.T) {
	requireTools(t)
	display := startXvfb(t)
	dir := t.TempDir()
	urlFile := filepath.Join(dir, "ui-url")
	sh := startShell(t, display, nil, "-url-file", urlFile)
	sh.waitLog(t, 0, `msg="kiosk UI not reachable; retrying"`, 20*time.Second)
	for deadline := time.Now().Add(20 * time.Second); ; {
		img := screenshot(t, display)
		if got := pixel(img, 640, 100); near(got, rgb{0x10, 0x24, 0x3e}) {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the Starting page is not shown: pixel %v (screenshot %s)", got, saveShot(t, img, "starting.png"))
		}
	}

	ui := newTestUI(t)
	if err := os.WriteFile(urlFile, []byte(ui.url()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ui.waitPaint(t, 0, "/")
	waitPattern(t, display)
	sh.waitLog(t, 0, `msg="kiosk UI loaded"`, 10*time.Second)
}

// TestShellNoDisplay: a fatal error exits non-zero with a message.
func TestShellNoDisplay(t *testing.T) {
	bin := buildShell(t)
	cmd := execShell(bin, "-url", "http://127.0.0.1:1/")
	cmd.Env = append(filterEnv(os.Environ(), "DISPLAY", "WAYLAND_DISPLAY"), "DISPLAY=")
	out, err := cmd.CombinedOutput()
	if err == nil || cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "no graphical display") {
		t.Fatalf("exit %v, output %q: want exit 1 and a message about the display", err, out)
	}
}
