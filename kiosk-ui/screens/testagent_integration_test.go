//go:build integration

package screens

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// testAgent is a scripted stand-in for kiosk-agent's UI link (docs/ui-protocol.md, v1),
// used while the real agent is written in parallel: an httptest server on 127.0.0.1 that
// serves Handler() and /ws, checks Origin and token as the agent must, sends the `state`
// the test sets, and records every message the page sends. It answers `language` and
// `activity` (which clears an idle warning) the way the agent does; everything else is up
// to the test.
//
// The browser helpers (openKiosk and the kiosk methods) only need the base URL and the
// token, so an end-to-end test can point them at the real agent instead.
type testAgent struct {
	t      testing.TB
	srv    *httptest.Server
	portal *fakePortal
	token  string

	mu       sync.Mutex
	closed   bool
	down     bool // refuse connections, as an agent that is restarting
	state    agentState
	conns    map[*websocket.Conn]bool
	accepted int           // connections accepted so far
	log      []pageMessage // every message the page sent, in order
	cursor   int           // expect() consumed log[:cursor]
	changed  chan struct{} // closed and replaced whenever log or accepted grows
	handlers sync.WaitGroup
}

// agentState is one `state` message. Nil pointers are sent as null, as the protocol says.
type agentState struct {
	V       int          `json:"v"`
	Type    string       `json:"type"`
	Seq     int          `json:"seq"`
	Phase   string       `json:"phase"`
	Lang    string       `json:"lang"`
	Display *displayInfo `json:"display"`
	Pin     *pinInfo     `json:"pin"`
	Citizen *citizenInfo `json:"citizen"`
	Session *sessionInfo `json:"session"`
	Warning *warningInfo `json:"warning"`
	Error   *errorInfo   `json:"error"`
	Goodbye *goodbyeInfo `json:"goodbye"`
}

// displayInfo is the citizen's display choice; the test agent keeps it across Set, as the
// agent does until idle.
type displayInfo struct {
	LargeText    bool `json:"largeText"`
	HighContrast bool `json:"highContrast"`
}

type pinInfo struct {
	Min       int  `json:"min"`
	Max       int  `json:"max"`
	TriesLeft *int `json:"triesLeft"`
	Wrong     bool `json:"wrong"`
}

type citizenInfo struct {
	Name string `json:"name"`
}

type sessionInfo struct {
	PortalURL      string `json:"portalURL"`
	EndsAt         int64  `json:"endsAt"`
	IdleTimeoutSec int    `json:"idleTimeoutSec"`
}

type warningInfo struct {
	EndsAt int64 `json:"endsAt"`
}

type errorInfo struct {
	Code string `json:"code"`
}

type goodbyeInfo struct {
	Reason string `json:"reason"`
}

// pageMessage is one message the page sent; Raw is the frame as received.
type pageMessage struct {
	V            int    `json:"v"`
	Type         string `json:"type"`
	Pin          string `json:"pin,omitempty"`
	Lang         string `json:"lang,omitempty"`
	LargeText    *bool  `json:"large_text,omitempty"`
	HighContrast *bool  `json:"high_contrast,omitempty"`
	Raw          string `json:"-"`
}

func newTestAgent(t testing.TB) *testAgent {
	t.Helper()
	return newTestAgentWith(t, Options{DefaultLanguage: "en"})
}

// newTestAgentWith serves the screens with the kiosk settings opts.
func newTestAgentWith(t testing.TB, opts Options) *testAgent {
	t.Helper()
	tok := make([]byte, 32)
	if _, err := rand.Read(tok); err != nil {
		t.Fatal(err)
	}
	a := &testAgent{
		t:       t,
		token:   hex.EncodeToString(tok),
		conns:   map[*websocket.Conn]bool{},
		changed: make(chan struct{}),
		state:   agentState{Phase: "idle", Lang: "en"},
	}
	a.portal = newFakePortal(t)
	mux := http.NewServeMux()
	mux.Handle("/", Handler(opts))
	mux.HandleFunc("/ws", a.serveWS)
	a.srv = httptest.NewServer(mux) // listens on 127.0.0.1 only
	t.Cleanup(a.Close)
	return a
}

// URL is the UI origin, http://127.0.0.1:<port>.
func (a *testAgent) URL() string { return a.srv.URL }

// Token is the per-boot token the page must present.
func (a *testAgent) Token() string { return a.token }

// Close ends every connection and waits for their handlers.
func (a *testAgent) Close() {
	a.mu.Lock()
	a.closed = true
	for c := range a.conns {
		c.Close()
	}
	a.mu.Unlock()
	a.srv.Close()
	a.handlers.Wait()
	a.checkMessages()
}

// pageMessageFields are the exact fields of each message the page may send (UI → agent).
var pageMessageFields = map[string][]string{
	"pin":         {"pin", "type", "v"},
	"cancel":      {"type", "v"},
	"end_session": {"type", "v"},
	"activity":    {"type", "v"},
	"language":    {"lang", "type", "v"},
	"display":     {"high_contrast", "large_text", "type", "v"},
}

// checkMessages fails the test if the page sent anything the protocol does not define.
func (a *testAgent) checkMessages() {
	for _, m := range a.Messages() {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal([]byte(m.Raw), &fields); err != nil {
			a.t.Errorf("the page sent a malformed message %q", m.Raw)
			continue
		}
		want, ok := pageMessageFields[m.Type]
		if !ok || m.V != 1 || len(m.Raw) > 4096 {
			a.t.Errorf("the page sent a message outside protocol v1: %s", m.Raw)
			continue
		}
		got := slices.Sorted(maps.Keys(fields))
		if !slices.Equal(got, want) {
			a.t.Errorf("the page sent %s with fields %q, want %q", m.Type, got, want)
		}
	}
}

func (a *testAgent) serveWS(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Origin") != a.srv.URL ||
		subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("token")), []byte(a.token)) != 1 {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	a.mu.Lock()
	if a.closed || a.down {
		a.mu.Unlock()
		http.Error(w, "not running", http.StatusServiceUnavailable)
		return
	}
	a.handlers.Add(1)
	a.mu.Unlock()
	defer a.handlers.Done()

	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }} // checked above
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	c.SetReadLimit(4096)

	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.conns[c] = true
	a.accepted++
	a.writeLocked(c, a.stateLocked())
	a.notifyLocked()
	a.mu.Unlock()

	defer func() {
		a.mu.Lock()
		delete(a.conns, c)
		a.mu.Unlock()
	}()
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			return
		}
		a.received(data)
	}
}

func (a *testAgent) received(data []byte) {
	var m pageMessage
	if err := json.Unmarshal(data, &m); err != nil {
		m = pageMessage{Type: "(malformed)"}
	}
	m.Raw = string(data)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.log = append(a.log, m)
	a.notifyLocked()
	switch m.Type {
	case "language":
		if slices.Contains(Languages(), m.Lang) {
			a.state.Lang = m.Lang
			a.broadcastLocked()
		}
	case "display":
		if m.LargeText != nil && m.HighContrast != nil {
			a.state.Display = &displayInfo{LargeText: *m.LargeText, HighContrast: *m.HighContrast}
			a.broadcastLocked()
		}
	case "activity":
		if a.state.Warning != nil {
			a.state.Warning = nil
			a.broadcastLocked()
		}
	}
}

func (a *testAgent) notifyLocked() {
	close(a.changed)
	a.changed = make(chan struct{})
}

func (a *testAgent) stateLocked() agentState {
	s := a.state
	s.V, s.Type = 1, "state"
	return s
}

func (a *testAgent) broadcastLocked() {
	a.state.Seq++
	s := a.stateLocked()
	for c := range a.conns {
		a.writeLocked(c, s)
	}
}

func (a *testAgent) writeLocked(c *websocket.Conn, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		a.t.Errorf("test agent: %v", err)
		return
	}
	a.writeRawLocked(c, b)
}

func (a *testAgent) writeRawLocked(c *websocket.Conn, b []byte) {
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := c.WriteMessage(websocket.TextMessage, b); err != nil {
		c.Close() // the reader loop ends and forgets it
	}
}

// Set replaces the state (keeping the language unless s sets one) and broadcasts it.
func (a *testAgent) Set(s agentState) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s.Lang == "" {
		s.Lang = a.state.Lang
	}
	if s.Display == nil && s.Phase != "idle" {
		s.Display = a.state.Display // the choice lasts until idle
	}
	s.Seq = a.state.Seq
	a.state = s
	a.broadcastLocked()
}

// Update changes the current state and broadcasts it.
func (a *testAgent) Update(f func(*agentState)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f(&a.state)
	a.broadcastLocked()
}

// SendRaw sends one text frame as it is (a wipe, garbage, another protocol version).
func (a *testAgent) SendRaw(frame string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for c := range a.conns {
		a.writeRawLocked(c, []byte(frame))
	}
}

// Wipe sends the `wipe` message.
func (a *testAgent) Wipe() { a.SendRaw(`{"v":1,"type":"wipe"}`) }

// Drop closes every connection, as an agent that went away would.
func (a *testAgent) Drop() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for c := range a.conns {
		c.Close()
	}
}

// SetDown makes the agent refuse (down) or accept connections again.
func (a *testAgent) SetDown(down bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.down = down
}

// Accepted is the number of websocket connections accepted so far.
func (a *testAgent) Accepted() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.accepted
}

// WaitAccepted waits until at least n connections have been accepted.
func (a *testAgent) WaitAccepted(n int) {
	a.t.Helper()
	a.wait(func() bool { return a.accepted >= n }, "%d websocket connections", n)
}

// Expect waits for the next message of type typ the page sent after the last one Expect
// returned, skipping other types, and returns it.
func (a *testAgent) Expect(typ string) pageMessage {
	a.t.Helper()
	var got pageMessage
	a.wait(func() bool {
		for i := a.cursor; i < len(a.log); i++ {
			if a.log[i].Type == typ {
				got = a.log[i]
				a.cursor = i + 1
				return true
			}
		}
		return false
	}, "a %q message from the page", typ)
	return got
}

// Messages returns a copy of everything the page sent.
func (a *testAgent) Messages() []pageMessage {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.log)
}

// Count is how many messages of type typ the page sent.
func (a *testAgent) Count(typ string) int {
	n := 0
	for _, m := range a.Messages() {
		if m.Type == typ {
			n++
		}
	}
	return n
}

func (a *testAgent) wait(cond func() bool, what string, args ...any) {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		a.mu.Lock()
		ok := cond()
		ch := a.changed
		a.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			a.t.Fatalf("test agent: timed out waiting for "+what+"; the page sent %v", append(args, a.Messages())...)
		}
	}
}

// fakePortal is the council portal the session frame shows: another loopback origin.
// Its page tries to navigate the top window and open a window, then reports that it ran.
type fakePortal struct {
	srv     *httptest.Server
	mu      sync.Mutex
	hits    map[string]int
	changed chan struct{}
}

const fakePortalPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Riverside Council</title>
<style>
body{margin:0;font-family:"DejaVu Sans",Arial,sans-serif;color:#1f2937;background:#fff}
header{background:#e5e7eb;padding:1.25rem 2rem;font-size:1.5rem;font-weight:700}
main{padding:1.5rem 2rem;font-size:1.25rem}
table{border-collapse:collapse;width:100%;max-width:56rem}
td,th{border-bottom:1px solid #9ca3af;padding:.75rem;text-align:left}
</style></head>
<body><header>Riverside Council · My account</header>
<main><h1>Housing repairs</h1>
<table><tr><th>Request</th><th>Reported</th><th>Status</th></tr>
<tr><td>Kitchen tap leaking</td><td>3 Nov</td><td>Plumber booked for 27 Nov</td></tr>
<tr><td>Bedroom window will not close</td><td>12 Oct</td><td>Completed</td></tr>
<tr><td>Damp in bathroom</td><td>2 Sep</td><td>Inspection done, works ordered</td></tr>
</table></main>
<script>
var top_ = "blocked", popup = "blocked";
try { window.top.location.href = location.origin + "/escaped"; top_ = "tried"; } catch (e) {}
try { if (window.open(location.origin + "/popup")) popup = "opened"; } catch (e) {}
fetch("/attempted?top=" + top_ + "&popup=" + popup);
</script></body></html>`

func newFakePortal(t testing.TB) *fakePortal {
	p := &fakePortal{hits: map[string]int{}, changed: make(chan struct{})}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.hits[r.URL.Path]++
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
		if r.URL.Path != "/" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(fakePortalPage))
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// URL is the portal's start page on its own loopback origin.
func (p *fakePortal) URL() string { return p.srv.URL + "/" }

// Hits is how many requests reached path.
func (p *fakePortal) Hits(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits[path]
}

// WaitHit waits until path has been requested at least n times.
func (p *fakePortal) WaitHit(t testing.TB, path string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		p.mu.Lock()
		ok, ch := p.hits[path] >= n, p.changed
		p.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("fake portal: %s was not requested %d times", path, n)
		}
	}
}
