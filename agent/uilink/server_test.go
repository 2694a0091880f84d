package uilink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"smartpath/agent/session"
	"smartpath/testing/waitfor"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testOrigin = "http://127.0.0.1:8470"

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

type testServer struct {
	*Server
	stop  func() // ends Run and waits for it
	http  *httptest.Server
	token string
	logs  *lockedBuffer
	msgs  chan Message
}

func newTestServer(t testing.TB, mod func(*Options)) *testServer {
	ts := &testServer{token: NewToken(), logs: &lockedBuffer{}, msgs: make(chan Message, 100)}
	opts := Options{
		Origin: testOrigin, Token: ts.token,
		Logger: slog.New(slog.NewJSONHandler(ts.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Handler: func(ctx context.Context, m Message) {
			m.PIN = bytes.Clone(m.PIN)
			ts.msgs <- m
		},
	}
	if mod != nil {
		mod(&opts)
	}
	ts.Server = New(opts)
	mux := http.NewServeMux()
	mux.Handle("/ws", ts.Server)
	ts.http = httptest.NewServer(mux) // loopback
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); ts.Server.Run(ctx) }()
	ts.stop = func() { cancel(); <-ran }
	t.Cleanup(func() {
		ts.stop()
		ts.http.Close()
	})
	return ts
}

func (ts *testServer) url(token string) string {
	u := "ws" + strings.TrimPrefix(ts.http.URL, "http") + "/ws"
	if token != "" {
		u += "?token=" + url.QueryEscape(token)
	}
	return u
}

func (ts *testServer) dial(t testing.TB, origin, token string) (*websocket.Conn, *http.Response, error) {
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.DefaultDialer.DialContext(ctx, ts.url(token), h)
	if c != nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, resp, err
}

func (ts *testServer) connect(t testing.TB) *websocket.Conn {
	t.Helper()
	c, _, err := ts.dial(t, testOrigin, ts.token)
	if err != nil {
		t.Fatal(err)
	}
	if m := readJSON(t, c); m["type"] != "state" {
		t.Fatalf("first message %v", m)
	}
	return c
}

func readJSON(t testing.TB, c *websocket.Conn) map[string]any {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m map[string]any
	if err := c.ReadJSON(&m); err != nil {
		t.Fatalf("read: %v", err)
	}
	return m
}

func TestRefusesOtherOriginsAndTokens(t *testing.T) {
	ts := newTestServer(t, nil)
	tests := []struct {
		name, origin, token string
		rawQuery            string
	}{
		{"portal origin", "http://127.0.0.1:8471", ts.token, ""},
		{"null origin", "null", ts.token, ""},
		{"missing origin", "", ts.token, ""},
		{"https variant", "https://127.0.0.1:8470", ts.token, ""},
		{"trailing slash", testOrigin + "/", ts.token, ""},
		{"localhost", "http://localhost:8470", ts.token, ""},
		{"missing token", testOrigin, "", ""},
		{"wrong token", testOrigin, NewToken(), ""},
		{"token prefix", testOrigin, ts.token[:20], ""},
		{"two tokens", testOrigin, "", "?token=" + ts.token + "&token=" + ts.token},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var resp *http.Response
			var err error
			if tt.rawQuery != "" {
				h := http.Header{"Origin": {tt.origin}}
				var c *websocket.Conn
				c, resp, err = websocket.DefaultDialer.Dial(ts.url("")+tt.rawQuery, h)
				if c != nil {
					c.Close()
				}
			} else {
				_, resp, err = ts.dial(t, tt.origin, tt.token)
			}
			if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("err %v, resp %v; want 403", err, resp)
			}
		})
	}
	logs := ts.logs.String()
	if !strings.Contains(logs, "another origin") || !strings.Contains(logs, "missing or wrong token") {
		t.Errorf("refusals not logged: %s", logs)
	}
	if strings.Contains(logs, ts.token) {
		t.Error("the token was logged")
	}
	if ts.Connections() != 0 {
		t.Error("a refused client is connected")
	}
	// Two Origin headers are refused too.
	req, _ := http.NewRequest("GET", ts.http.URL+"/ws?token="+ts.token, nil)
	req.Header["Origin"] = []string{testOrigin, testOrigin}
	rec := httptest.NewRecorder()
	ts.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Errorf("two origins: %d", rec.Code)
	}
}

func TestConnectGetsCurrentState(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.Broadcast(session.State{Phase: session.PhaseIdle, Lang: "el"})
	c, _, err := ts.dial(t, testOrigin, ts.token)
	if err != nil {
		t.Fatal(err)
	}
	m := readJSON(t, c)
	if m["v"] != 1.0 || m["type"] != "state" || m["phase"] != "idle" || m["lang"] != "el" || m["seq"] != 2.0 {
		t.Errorf("first message %v", m)
	}
}

func TestOversizedMessageCloses1009(t *testing.T) {
	ts := newTestServer(t, nil)
	c := ts.connect(t)
	big := `{"v":1,"type":"activity","pad":"` + strings.Repeat("x", 5000) + `"}`
	if err := c.WriteMessage(websocket.TextMessage, []byte(big)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig {
		t.Fatalf("got %v %s; want close 1009", err, data)
	}
	waitfor.Until(t, waitfor.Timeout, "connection gone", func() bool { return ts.Connections() == 0 })
}

func TestBadMessagesAnsweredConnectionStays(t *testing.T) {
	ts := newTestServer(t, nil)
	c := ts.connect(t)
	for _, bad := range []string{`{"v":1,"type":"foo"}`, `not json`, `{"v":1,"type":"cancel","x":1}`} {
		c.WriteMessage(websocket.TextMessage, []byte(bad))
		m := readJSON(t, c)
		if m["type"] != "error" || m["code"] != "bad_message" || m["v"] != 1.0 {
			t.Errorf("%s: reply %v", bad, m)
		}
	}
	c.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
	if m := readJSON(t, c); m["type"] != "error" {
		t.Errorf("binary: reply %v", m)
	}
	c.WriteMessage(websocket.TextMessage, []byte(`{"v":1,"type":"language","lang":"el"}`))
	select {
	case m := <-ts.msgs:
		if m.Type != TypeLanguage || m.Lang != "el" {
			t.Errorf("got %+v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("valid message after bad ones not delivered")
	}
}

func TestBroadcastReachesAllAndWipe(t *testing.T) {
	ts := newTestServer(t, nil)
	var conns []*websocket.Conn
	for i := 0; i < 3; i++ {
		conns = append(conns, ts.connect(t))
	}
	ts.Broadcast(session.State{Phase: session.PhaseSession, Lang: "en", Citizen: "Jane", PortalURL: "http://127.0.0.1:8471/"})
	ts.SendWipe()
	ts.Broadcast(session.State{Phase: session.PhaseGoodbye, Lang: "en", Goodbye: session.ReasonEnded})
	for i, c := range conns {
		a, b, d := readJSON(t, c), readJSON(t, c), readJSON(t, c)
		if a["phase"] != "session" || b["type"] != "wipe" || d["phase"] != "goodbye" || d["seq"].(float64) != a["seq"].(float64)+1 {
			t.Errorf("client %d: %v / %v / %v", i, a, b, d)
		}
	}
}

func TestSlowClientDoesNotBlock(t *testing.T) {
	// Writes never time out here, so the slow client can only be dropped for its full queue,
	// and a Broadcast that waited for a client's socket would wait past the hang guard.
	ts := newTestServer(t, func(o *Options) { o.QueueSize, o.WriteTimeout = 4, time.Hour })
	slow, _, err := ts.dial(t, testOrigin, ts.token) // never reads
	if err != nil {
		t.Fatal(err)
	}
	_ = slow
	_, got := ts.connectReader(t)
	waitfor.Until(t, waitfor.Timeout, "both clients connected", func() bool { return ts.Connections() == 2 })
	st := session.State{Phase: session.PhaseConnecting, Citizen: strings.Repeat("N", 3000)}
	for i := 0; ts.Connections() > 1; i++ {
		if i > 200000 {
			t.Fatalf("slow client never dropped after %d broadcasts", i)
		}
		waitfor.Returns(t, waitfor.Timeout, "Broadcast with a client that does not read", func() { ts.Broadcast(st) })
		if _, ok := <-got; !ok {
			t.Fatal("the fast client was dropped")
		}
	}
	// The connection count drops before the writer goroutine logs why.
	waitfor.Until(t, waitfor.Timeout, "the drop of the slow client logged", func() bool {
		return strings.Contains(ts.logs.String(), "UI too slow to keep up; dropping its connection")
	})
}

// connectReader connects a client that reads every message and sends each one's seq on the
// channel, which it closes when the connection ends.
func (ts *testServer) connectReader(t testing.TB) (*websocket.Conn, <-chan float64) {
	c := ts.connect(t)
	got := make(chan float64, 1)
	go func() {
		c.SetReadDeadline(time.Time{})
		for {
			var m map[string]any
			if err := c.ReadJSON(&m); err != nil {
				close(got)
				return
			}
			got <- m["seq"].(float64)
		}
	}()
	return c, got
}

func TestKeepaliveDropsSilentClient(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.PingInterval = 20 * time.Millisecond })
	live := ts.connect(t)
	var pings atomic.Int64
	var gone atomic.Bool
	live.SetPingHandler(func(data string) error {
		pings.Add(1)
		return live.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	live.SetReadDeadline(time.Time{})
	go func() { // reading answers pings
		defer gone.Store(true)
		for {
			if _, _, err := live.ReadMessage(); err != nil {
				return
			}
		}
	}()
	silent, _, err := ts.dial(t, testOrigin, ts.token) // never reads, so never answers a ping
	if err != nil {
		t.Fatal(err)
	}
	_ = silent
	waitfor.Until(t, waitfor.Timeout, "silent client dropped", func() bool { return ts.Connections() == 1 })
	// The live client stays: it answers ten more pings. The server pings only an open
	// connection, one tick apart, and drops a client that answered none for two periods.
	from := pings.Load()
	waitfor.Until(t, waitfor.Timeout, "ten more pings to the live client", func() bool {
		return pings.Load() >= from+10 || gone.Load()
	})
	if gone.Load() || ts.Connections() != 1 {
		t.Error("live client dropped")
	}
}

func TestPINNeverLoggedAndZeroed(t *testing.T) {
	var kept [][]byte
	var mu sync.Mutex
	ts := newTestServer(t, nil)
	ts.opts.Handler = func(ctx context.Context, m Message) {
		mu.Lock()
		kept = append(kept, m.PIN) // the server's own slice
		mu.Unlock()
		ts.msgs <- Message{Type: m.Type, PIN: bytes.Clone(m.PIN)}
	}
	c := ts.connect(t)
	for _, s := range []string{
		`{"v":1,"type":"pin","pin":"13572468"}`,
		`{"v":1,"type":"pin","pin":"1357246x"}`,
		`{"v":1,"type":"cancel","pin":"13572468"}`,
		`{"v":1,"type":"pin","pin":"13572468","extra":true}`,
		`{"v":2,"type":"pin","pin":"13572468"}`,
		`{"v":1,"type":"pin","pin":"13572468"`,
	} {
		c.WriteMessage(websocket.TextMessage, []byte(s))
	}
	m := <-ts.msgs
	if string(m.PIN) != "13572468" {
		t.Fatalf("handler got %q", m.PIN)
	}
	for i := 0; i < 5; i++ {
		r := readJSON(t, c)
		if r["type"] != "error" || strings.Contains(r["detail"].(string), "1357") {
			t.Errorf("reply %v", r)
		}
	}
	mu.Lock()
	for _, b := range kept {
		if !bytes.Equal(b, make([]byte, len(b))) {
			t.Errorf("PIN buffer not zeroed after the handler: %q", b)
		}
	}
	mu.Unlock()
	logs := ts.logs.String()
	// Timestamps are digits too ("...29.40246802Z" holds 2468): look at the rest.
	untimed := regexp.MustCompile(`"time":"[^"]*"`).ReplaceAllString(logs, "")
	if strings.Contains(untimed, "1357") || strings.Contains(untimed, "2468") {
		t.Errorf("the PIN reached the logs:\n%s", logs)
	}
	if !strings.Contains(logs, `"type":"pin"`) {
		t.Error("debug log of the pin message's type missing (is debug on?)")
	}
}

func TestDispatch(t *testing.T) {
	var calls []string
	c := &fakeController{calls: &calls}
	h := Dispatch(c)
	for _, m := range []Message{{Type: TypePIN, PIN: []byte("123456")}, {Type: TypeCancel}, {Type: TypeEndSession},
		{Type: TypeActivity}, {Type: TypeLanguage, Lang: "el"}, {Type: TypeDisplay, LargeText: true}} {
		h(context.Background(), m)
	}
	if got := strings.Join(calls, ","); got != "pin:123456,cancel,end,activity,lang:el,display:true,false" {
		t.Errorf("calls %s", got)
	}
}

type fakeController struct{ calls *[]string }

func (f *fakeController) SubmitPIN(p []byte)   { *f.calls = append(*f.calls, "pin:"+string(p)) }
func (f *fakeController) Cancel()              { *f.calls = append(*f.calls, "cancel") }
func (f *fakeController) EndSession()          { *f.calls = append(*f.calls, "end") }
func (f *fakeController) Activity()            { *f.calls = append(*f.calls, "activity") }
func (f *fakeController) SetLanguage(l string) { *f.calls = append(*f.calls, "lang:"+l) }
func (f *fakeController) SetDisplay(large, contrast bool) {
	*f.calls = append(*f.calls, fmt.Sprintf("display:%v,%v", large, contrast))
}

var _ Controller = (*session.Machine)(nil)

func TestCloseDropsConnections(t *testing.T) {
	n := make(chan int, 10)
	ts := newTestServer(t, func(o *Options) { o.OnConnections = func(k int) { n <- k } })
	c := ts.connect(t)
	if <-n != 1 {
		t.Fatal("OnConnections not told")
	}
	ts.stop()
	if <-n != 0 || ts.Connections() != 0 {
		t.Error("not closed")
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := c.ReadMessage(); err == nil {
		t.Error("client still connected")
	}
	if _, resp, _ := ts.dial(t, testOrigin, ts.token); resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Error("closed server accepted a connection")
	}
}

func TestNewToken(t *testing.T) {
	a, b := NewToken(), NewToken()
	if len(a) != 43 || a == b || strings.ContainsAny(a, "+/=") {
		t.Errorf("tokens %q %q", a, b)
	}
}

func TestStateJSONIsValid(t *testing.T) {
	ts := newTestServer(t, nil)
	var m map[string]any
	if err := json.Unmarshal(ts.last, &m); err != nil || m["phase"] != "starting" {
		t.Errorf("initial %s", ts.last)
	}
}

func TestMessageSizeLimitExact(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.MaxMessage = 100 })
	c := ts.connect(t)
	msg := `{"v":1,"type":"language","lang":"el"}`
	msg += strings.Repeat(" ", 100-len(msg)) // exactly the limit: accepted
	c.WriteMessage(websocket.TextMessage, []byte(msg))
	select {
	case m := <-ts.msgs:
		if m.Lang != "el" {
			t.Errorf("%+v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("message at the limit not delivered")
	}
	// One byte more, in a single frame: 1009.
	d := websocket.Dialer{WriteBufferSize: 1 << 14}
	c2, _, err := d.Dial(ts.url(ts.token), http.Header{"Origin": {testOrigin}})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	readJSON(t, c2)
	c2.WriteMessage(websocket.TextMessage, []byte(msg+" "))
	c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = c2.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig {
		t.Fatalf("got %v; want close 1009", err)
	}
}
