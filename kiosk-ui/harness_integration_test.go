//go:build integration && linux

package kioskui

// The harness for the shell's integration tests: a private Xvfb, the kiosk-ui binary, a
// test UI served on loopback whose page takes commands from the test, and screenshots.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"smartpath/agent/shelllink"
)

// requireTools fails (never skips) when a part the tests need is missing.
func requireTools(tb testing.TB) {
	tb.Helper()
	for tool, pkg := range map[string]string{"Xvfb": "xvfb", "import": "imagemagick", "xdotool": "xdotool", "pkg-config": "pkg-config"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Fatalf("%s is missing: apt-get install %s (testing/scripts/deps.sh installs it)", tool, pkg)
		}
	}
	if err := exec.Command("pkg-config", "--exists", "webkit2gtk-4.0").Run(); err != nil {
		tb.Fatal("WebKitGTK development files are missing: apt-get install libwebkit2gtk-4.0-dev libgtk-3-dev")
	}
}

// startXvfb starts a private X server and returns its DISPLAY. Xvfb picks a free display
// number itself (-displayfd) and writes it once it accepts connections.
func startXvfb(tb testing.TB) string {
	tb.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset")
	cmd.ExtraFiles = []*os.File{w}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start Xvfb: %v", err)
	}
	w.Close()
	tb.Cleanup(func() { stopProcess(cmd, 5*time.Second) })
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := bufio.NewReader(r).ReadString('\n')
		r.Close()
		ch <- result{line, err}
	}()
	select {
	case res := <-ch:
		n, err := strconv.Atoi(strings.TrimSpace(res.line))
		if err != nil {
			tb.Fatalf("Xvfb did not start (%v): %s", res.err, stderr.String())
		}
		return ":" + strconv.Itoa(n)
	case <-time.After(20 * time.Second):
		tb.Fatalf("Xvfb did not report a display within 20 s: %s", stderr.String())
	}
	return ""
}

// stopProcess ends a process the test started: SIGTERM, then SIGKILL after grace. It
// reports whether SIGTERM was enough.
func stopProcess(cmd *exec.Cmd, grace time.Duration) (stopped bool) {
	if cmd.Process == nil || cmd.ProcessState != nil {
		return true
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		return true
	case <-time.After(grace):
		cmd.Process.Kill()
		<-done
		return false
	}
}

var (
	buildOnce sync.Once
	shellBin  string
	buildErr  error
)

// buildShell builds cmd/kiosk-ui once per test binary.
func buildShell(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kiosk-ui-bin-")
		if err != nil {
			buildErr = err
			return
		}
		shellBin = filepath.Join(dir, "kiosk-ui")
		goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goTool); err != nil {
			goTool = "go"
		}
		out, err := exec.Command(goTool, "build", "-o", shellBin, "smartpath/cmd/kiosk-ui").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build cmd/kiosk-ui: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return shellBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shellBin != "" {
		os.RemoveAll(filepath.Dir(shellBin))
	}
	os.Exit(code)
}

// counter is an HTTP server that counts what reaches it.
type counter struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits []string
}

func newCounter(tb testing.TB, h http.Handler) *counter {
	c := &counter{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.hits = append(c.hits, r.Method+" "+r.URL.Path)
		c.mu.Unlock()
		if h != nil {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<!DOCTYPE html><html><body style="background:#ff00ff">counted</body></html>`)
	}))
	tb.Cleanup(c.srv.Close)
	return c
}

func (c *counter) count(prefix string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, h := range c.hits {
		if strings.HasPrefix(h, prefix) {
			n++
		}
	}
	return n
}

func (c *counter) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.hits...)
}

// report is what the test page posts back.
type report struct {
	Load string          `json:"load"`
	Kind string          `json:"kind"` // "paint" or "done"
	Path string          `json:"path"`
	ID   int             `json:"id"`
	Res  json.RawMessage `json:"res"`
	Err  string          `json:"err"`
	At   time.Time       `json:"-"`
}

// testUI serves the test page and passes commands to it: the page long-polls /cmd and
// posts results to /report.
type testUI struct {
	*counter
	shell   *shelllink.Server // the agent's side of the shell's channel
	events  *shellEvents
	cmds    chan map[string]any
	mu      sync.Mutex
	reports []report
	changed chan struct{}
	nextID  int
	cookies []string // Cookie headers of page loads, in order
}

func newTestUI(tb testing.TB) *testUI {
	u := &testUI{cmds: make(chan map[string]any, 16), changed: make(chan struct{})}
	mux := http.NewServeMux()
	page := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" && !strings.HasPrefix(r.URL.Path, "/page") {
			http.NotFound(w, r)
			return
		}
		u.mu.Lock()
		u.cookies = append(u.cookies, r.Header.Get("Cookie"))
		u.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, testPage)
	}
	mux.HandleFunc("/", page)
	u.events = &shellEvents{changed: make(chan struct{})}
	u.shell = shelllink.New(shelllink.Options{Token: testToken, Events: u.events})
	shellCtx, stopShell := context.WithCancel(context.Background())
	shellRan := make(chan struct{})
	go func() { defer close(shellRan); u.shell.Run(shellCtx) }()
	tb.Cleanup(func() { stopShell(); <-shellRan })
	mux.Handle(shelllink.Path, u.shell)
	mux.HandleFunc("/download", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="citizen.bin"`)
		io.WriteString(w, "not for the kiosk")
	})
	mux.HandleFunc("/cached.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		io.WriteString(w, "window.cachedLoaded = true;")
	})
	mux.HandleFunc("/cmd", func(w http.ResponseWriter, r *http.Request) {
		select {
		case c := <-u.cmds:
			if r.Context().Err() != nil { // the page went away: keep the command for the next one
				u.cmds <- c
				return
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(c)
		case <-time.After(5 * time.Second):
			w.WriteHeader(http.StatusNoContent)
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/report", func(w http.ResponseWriter, r *http.Request) {
		var rep report
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&rep); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rep.At = time.Now()
		u.mu.Lock()
		u.reports = append(u.reports, rep)
		close(u.changed)
		u.changed = make(chan struct{})
		u.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	u.counter = newCounter(tb, mux)
	return u
}

const testToken = "test-token"

func (u *testUI) url() string { return u.srv.URL + "/#token=" + testToken }

// shellEvents records what the shell does on its channel, as the agent's machine would see it.
type shellEvents struct {
	mu      sync.Mutex
	conn    uint64 // the current connection, 0 when none
	conns   int    // connections seen
	wiped   map[uint64]bool
	changed chan struct{}
}

func (e *shellEvents) update(f func()) {
	e.mu.Lock()
	f()
	close(e.changed)
	e.changed = make(chan struct{})
	e.mu.Unlock()
}
func (e *shellEvents) ShellConnected(c uint64) { e.update(func() { e.conn = c; e.conns++ }) }
func (e *shellEvents) ShellLost(c uint64) {
	e.update(func() {
		if e.conn == c {
			e.conn = 0
		}
	})
}
func (e *shellEvents) ShellWiped(c, g uint64) {
	e.update(func() {
		if e.wiped == nil {
			e.wiped = map[uint64]bool{}
		}
		e.wiped[g] = true
	})
}

// waitShell waits until cond (called with the lock held) holds.
func (e *shellEvents) wait(tb testing.TB, what string, timeout time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.After(timeout)
	for {
		e.mu.Lock()
		ok, ch := cond(), e.changed
		e.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			tb.Fatalf("the shell's channel: no %s within %v", what, timeout)
		}
	}
}

var wipeOrder atomic.Uint64

// wipe orders the connected shell to start a fresh browser, as the agent does at the end of
// a session, and waits for its confirmation; it returns the time that took.
func (u *testUI) wipe(tb testing.TB) time.Duration {
	tb.Helper()
	var conn uint64
	u.events.wait(tb, "shell connection", 30*time.Second, func() bool { conn = u.events.conn; return conn != 0 })
	id := wipeOrder.Add(1)
	start := time.Now()
	u.shell.OrderWipe(conn, id)
	u.events.wait(tb, "confirmation of the wipe order", 30*time.Second, func() bool { return u.events.wiped[id] })
	return time.Since(start)
}

// waitReport waits for the first report (from index from on) that matches.
func (u *testUI) waitReport(tb testing.TB, from int, timeout time.Duration, match func(report) bool) (report, int) {
	tb.Helper()
	deadline := time.After(timeout)
	for {
		u.mu.Lock()
		for i := from; i < len(u.reports); i++ {
			if match(u.reports[i]) {
				r := u.reports[i]
				u.mu.Unlock()
				return r, i
			}
		}
		changed := u.changed
		u.mu.Unlock()
		select {
		case <-changed:
		case <-deadline:
			tb.Fatalf("no matching report from the page within %v; reports: %+v", timeout, u.reportList())
		}
	}
}

func (u *testUI) reportList() []report {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]report(nil), u.reports...)
}

func (u *testUI) nReports() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.reports)
}

// waitPaint waits for a page's first animation frame (after report index from).
func (u *testUI) waitPaint(tb testing.TB, from int, path string) report {
	tb.Helper()
	r, _ := u.waitReport(tb, from, 30*time.Second, func(r report) bool { return r.Kind == "paint" && r.Path == path })
	return r
}

// do sends the page a command and waits for its result. A command can be lost when the
// page's long poll is cut (a refused navigation stops the page's loads), so it is sent
// again every 2 s; the page runs each id once.
func (u *testUI) do(tb testing.TB, op string, args map[string]any) report {
	tb.Helper()
	u.mu.Lock()
	u.nextID++
	id := u.nextID
	from := len(u.reports)
	u.mu.Unlock()
	c := map[string]any{"op": op, "id": id}
	for k, v := range args {
		c[k] = v
	}
	match := func(r report) bool { return r.Kind == "done" && r.ID == id }
	for attempt := 0; attempt < 10; attempt++ {
		select {
		case u.cmds <- c:
		case <-time.After(10 * time.Second):
			tb.Fatalf("command %s not taken", op)
		}
		if r, ok := u.findReport(from, 2*time.Second, match); ok {
			if r.Err != "" {
				tb.Fatalf("command %s failed in the page: %s", op, r.Err)
			}
			return r
		}
	}
	tb.Fatalf("no result for command %s within 20 s; reports: %+v", op, u.reportList())
	return report{}
}

// findReport is waitReport without failing.
func (u *testUI) findReport(from int, timeout time.Duration, match func(report) bool) (report, bool) {
	deadline := time.After(timeout)
	for {
		u.mu.Lock()
		for i := from; i < len(u.reports); i++ {
			if match(u.reports[i]) {
				r := u.reports[i]
				u.mu.Unlock()
				return r, true
			}
		}
		changed := u.changed
		u.mu.Unlock()
		select {
		case <-changed:
		case <-deadline:
			return report{}, false
		}
	}
}

// send gives the page a command whose result may never come (it navigates away).
func (u *testUI) send(tb testing.TB, op string, args map[string]any) {
	tb.Helper()
	u.mu.Lock()
	u.nextID++
	id := u.nextID
	u.mu.Unlock()
	c := map[string]any{"op": op, "id": id}
	for k, v := range args {
		c[k] = v
	}
	select {
	case u.cmds <- c:
	case <-time.After(10 * time.Second):
		tb.Fatalf("command %s not taken", op)
	}
}

// shellProc is a running kiosk-ui.
type shellProc struct {
	cmd *exec.Cmd
	mu  sync.Mutex
	log []string
	nl  chan struct{}
}

func startShell(tb testing.TB, display string, env []string, args ...string) *shellProc {
	tb.Helper()
	bin := buildShell(tb)
	cmd := exec.Command(bin, append([]string{"-data-dir", tb.TempDir(), "-log-level", "debug"}, args...)...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "WEBKIT_DISABLE_COMPOSITING_MODE=1", "XDG_RUNTIME_DIR=")
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	p := &shellProc{cmd: cmd, nl: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start kiosk-ui: %v", err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.log = append(p.log, sc.Text())
			close(p.nl)
			p.nl = make(chan struct{})
			p.mu.Unlock()
		}
	}()
	tb.Cleanup(func() {
		// How long it takes is measured in BenchmarkShellStartup (ms-to-stop); here only
		// that it stops on SIGTERM, with a grace that holds on a busy machine.
		if !stopProcess(cmd, 30*time.Second) {
			tb.Errorf("kiosk-ui did not stop within 30 s of SIGTERM and was killed")
		}
		if tb.Failed() || os.Getenv("KIOSK_TEST_LOG") != "" {
			tb.Logf("kiosk-ui log:\n%s", strings.Join(p.lines(), "\n"))
		}
	})
	return p
}

func (p *shellProc) lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.log...)
}

// waitLog waits for a log line matching re, from line index from on; it returns the index
// after the match.
func (p *shellProc) waitLog(tb testing.TB, from int, re string, timeout time.Duration) int {
	tb.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.After(timeout)
	for {
		p.mu.Lock()
		for i := from; i < len(p.log); i++ {
			if rx.MatchString(p.log[i]) {
				p.mu.Unlock()
				return i + 1
			}
		}
		nl := p.nl
		p.mu.Unlock()
		select {
		case <-nl:
		case <-deadline:
			tb.Fatalf("kiosk-ui did not log %q within %v", re, timeout)
		}
	}
}

func (p *shellProc) nLog() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.log)
}

func (p *shellProc) running() bool {
	return p.cmd.ProcessState == nil && p.cmd.Process.Signal(syscall.Signal(0)) == nil
}

// screenshot captures the whole X screen.
func screenshot(tb testing.TB, display string) image.Image {
	tb.Helper()
	cmd := exec.Command("import", "-display", display, "-window", "root", "png:-")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			tb.Fatalf("import: %v: %s", err, errb.String())
		}
	case <-ctx.Done():
		cmd.Process.Kill()
		<-done
		tb.Fatal("import did not finish within 20 s")
	}
	img, err := png.Decode(&out)
	if err != nil {
		tb.Fatalf("decode screenshot: %v", err)
	}
	return img
}

func saveShot(tb testing.TB, img image.Image, name string) string {
	path := filepath.Join(os.TempDir(), "kiosk-ui-"+strings.ReplaceAll(tb.Name(), "/", "_")+"-"+name)
	f, err := os.Create(path)
	if err == nil {
		png.Encode(f, img)
		f.Close()
	}
	return path
}

type rgb struct{ r, g, b uint8 }

func pixel(img image.Image, x, y int) rgb {
	r, g, b, _ := img.At(x, y).RGBA()
	return rgb{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
}

func near(a, b rgb) bool {
	d := func(x, y uint8) bool { return int(x)-int(y) < 16 && int(y)-int(x) < 16 }
	return d(a.r, b.r) && d(a.g, b.g) && d(a.b, b.b)
}

// The test pattern the page paints over the whole screen, with the points checked.
var pattern = []struct {
	x, y int
	want rgb
}{
	{2, 2, rgb{255, 0, 0}}, {320, 200, rgb{255, 0, 0}},
	{1277, 2, rgb{0, 255, 0}}, {960, 200, rgb{0, 255, 0}},
	{2, 797, rgb{0, 0, 255}}, {320, 600, rgb{0, 0, 255}},
	{1277, 797, rgb{255, 255, 0}}, {960, 600, rgb{255, 255, 0}},
}

// patternShown reports which pattern points differ ("" when all match).
func patternShown(img image.Image) string {
	var bad []string
	for _, p := range pattern {
		if got := pixel(img, p.x, p.y); !near(got, p.want) {
			bad = append(bad, fmt.Sprintf("(%d,%d)=%v want %v", p.x, p.y, got, p.want))
		}
	}
	return strings.Join(bad, "; ")
}

// waitPattern polls screenshots until the test pattern covers the screen.
func waitPattern(tb testing.TB, display string) image.Image {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		img := screenshot(tb, display)
		bad := patternShown(img)
		if bad == "" {
			return img
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the test page is not shown full screen: %s (screenshot %s)", bad, saveShot(tb, img, "pattern.png"))
		}
	}
}

// sameImage compares two screenshots pixel by pixel.
func sameImage(a, b image.Image) (bool, string) {
	if a.Bounds() != b.Bounds() {
		return false, "sizes differ"
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if pixel(a, x, y) != pixel(b, x, y) {
				return false, fmt.Sprintf("first difference at (%d,%d): %v vs %v", x, y, pixel(a, x, y), pixel(b, x, y))
			}
		}
	}
	return true, ""
}

func xdotool(tb testing.TB, display string, args ...string) {
	tb.Helper()
	cmd := exec.Command("xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("xdotool %v: %v: %s", args, err, out)
	}
}

// treeRSS sums the resident memory of pid and all its descendants (kiosk-ui,
// WebKitWebProcess, WebKitNetworkProcess), in bytes: RSS (shared libraries counted in
// every process) and PSS (shared pages divided among their users).
func treeRSS(pid int) (rss, pss int64, names []string) {
	children := map[int][]int{}
	procNames := map[int]string{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		j := strings.IndexByte(s, '(')
		if i < 0 || j < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		pp, _ := strconv.Atoi(f[1])
		children[pp] = append(children[pp], p)
		procNames[p] = s[j+1 : i]
	}
	field := func(path, key string) int64 {
		b, err := os.ReadFile(path)
		if err != nil {
			return 0
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, key) {
				if f := strings.Fields(line); len(f) >= 2 {
					kb, _ := strconv.ParseInt(f[1], 10, 64)
					return kb * 1024
				}
			}
		}
		return 0
	}
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		queue = append(queue, children[p]...)
		rss += field(fmt.Sprintf("/proc/%d/status", p), "VmRSS:")
		pss += field(fmt.Sprintf("/proc/%d/smaps_rollup", p), "Pss:")
		names = append(names, procNames[p])
	}
	return rss, pss, names
}

// testPage paints the test pattern and runs the commands the test sends.
const testPage = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>kiosk shell test UI</title>
<script src="/cached.js"></script>
<style>
 html, body { margin: 0; width: 100%; height: 100%; overflow: hidden; cursor: none; }
 .q { position: fixed; width: 50vw; height: 50vh; }
 #tl { left: 0; top: 0; background: #ff0000; } #tr { right: 0; top: 0; background: #00ff00; }
 #bl { left: 0; bottom: 0; background: #0000ff; } #br { right: 0; bottom: 0; background: #ffff00; }
 iframe { position: fixed; left: 0; top: 0; width: 10px; height: 10px; border: 0; opacity: 0; }
</style></head>
<body><div class="q" id="tl"></div><div class="q" id="tr"></div><div class="q" id="bl"></div><div class="q" id="br"></div>
<script>
"use strict";
const load = Math.random().toString(36).slice(2);
function report(r) {
  r.load = load; r.path = location.pathname;
  return fetch("/report", {method: "POST", body: JSON.stringify(r)});
}
requestAnimationFrame(() => report({kind: "paint"}));
function idbOpen() {
  return new Promise((res, rej) => {
    const q = indexedDB.open("citizen", 1);
    q.onupgradeneeded = () => q.result.createObjectStore("s");
    q.onsuccess = () => res(q.result); q.onerror = () => rej(q.error);
  });
}
function idbReq(db, mode, f) {
  return new Promise((res, rej) => {
    const tx = db.transaction("s", mode); const q = f(tx.objectStore("s"));
    q.onsuccess = () => res(q.result); q.onerror = () => rej(q.error);
  });
}
const settle = (ms, v) => new Promise(r => setTimeout(() => r(v), ms));
const ops = {
  ping: () => ({history: history.length, shell: typeof window.kioskShell, external: typeof (window.external && window.external.invoke),
                handlers: typeof (window.webkit && window.webkit.messageHandlers), cached: !!window.cachedLoaded}),
  navigate: c => { location.href = c.url; return "sent"; },
  open: c => { let w = null; try { w = window.open(c.url, "_blank"); } catch (e) { return "threw " + e; } return w ? "opened" : "null"; },
  blankLink: c => { const a = document.createElement("a"); a.href = c.url; a.target = "_blank"; a.textContent = "x";
                    document.body.appendChild(a); a.click(); return "clicked"; },
  fetch: async c => { try { await fetch(c.url, {mode: "no-cors", cache: "no-store"}); return "fetched"; } catch (e) { return "failed"; } },
  img: c => new Promise(res => { const i = new Image(); i.onload = () => res("loaded"); i.onerror = () => res("error"); i.src = c.url; }),
  frame: c => new Promise(res => {
    const f = document.createElement("iframe"); f.src = c.url; document.body.appendChild(f);
    f.onload = () => { let same = "opaque"; try { same = f.contentWindow.location.href; } catch (e) {} res("load:" + same); };
    setTimeout(() => res("no load"), 3000);
  }),
  setState: async () => {
    localStorage.setItem("citizen", "jane"); sessionStorage.setItem("citizen", "jane");
    document.cookie = "citizen=jane; max-age=3600; path=/";
    const db = await idbOpen(); await idbReq(db, "readwrite", s => s.put("jane", "citizen")); db.close();
    const cache = await caches.open("citizen"); await cache.put("/cached-entry", new Response("jane"));
    return "set";
  },
  getState: async () => {
    const db = await idbOpen(); const idb = await idbReq(db, "readonly", s => s.get("citizen")); db.close();
    const cache = await caches.open("citizen"); const hit = await cache.match("/cached-entry");
    return {local: localStorage.getItem("citizen"), session: sessionStorage.getItem("citizen"), cookie: document.cookie,
            idb: idb === undefined ? null : idb, cacheStorage: hit ? await hit.text() : null, history: history.length};
  },
  geo: () => new Promise(res => {
    navigator.geolocation.getCurrentPosition(() => res("granted"), e => res("denied:" + e.code));
    setTimeout(() => res("no answer"), 5000);
  }),
  print: () => { window.print(); return "printed"; },
  // Every native bridge a page could try: none may exist.
  bridges: () => {
    const found = [];
    const mh = window.webkit && window.webkit.messageHandlers;
    if (mh) for (const n of ["external", "kioskShell", "__kioskShellWipe", "smartpath"]) { if (mh[n]) found.push("messageHandlers." + n); }
    if (window.external && typeof window.external.invoke === "function") found.push("external.invoke");
    if (window.kioskShell) found.push("kioskShell");
    if (window.chrome && window.chrome.webview) found.push("chrome.webview");
    return found.join(",");
  },
};
const seen = new Set();
async function poll() {
  for (;;) {
    let c;
    try {
      const r = await fetch("/cmd?load=" + load, {cache: "no-store"});
      if (r.status !== 200) continue;
      c = await r.json();
    } catch (e) { await settle(100); continue; }
    if (seen.has(c.id)) continue;
    seen.add(c.id);
    try { report({kind: "done", id: c.id, res: await ops[c.op](c)}); }
    catch (e) { report({kind: "done", id: c.id, err: String(e)}); }
  }
}
poll();
</script></body></html>`
