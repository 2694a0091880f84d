package shelllink

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"smartpath/testing/waitfor"

	"smartpath/agent/strictjson"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const token = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE"

type event struct {
	kind      string
	conn, gen uint64
}

type recorder struct {
	mu  sync.Mutex
	evs []event
}

func (r *recorder) ShellConnected(c uint64) { r.add(event{"connected", c, 0}) }
func (r *recorder) ShellLost(c uint64)      { r.add(event{"lost", c, 0}) }
func (r *recorder) ShellWiped(c, g uint64)  { r.add(event{"wiped", c, g}) }
func (r *recorder) add(e event) {
	r.mu.Lock()
	r.evs = append(r.evs, e)
	r.mu.Unlock()
}
func (r *recorder) events() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event(nil), r.evs...)
}
func (r *recorder) has(kind string, conn, gen uint64) bool {
	for _, e := range r.events() {
		if e.kind == kind && e.conn == conn && e.gen == gen {
			return true
		}
	}
	return false
}

func newServer(t *testing.T) (*Server, *recorder, string) {
	t.Helper()
	rec := &recorder{}
	s := New(Options{Token: token, Events: rec})
	mux := http.NewServeMux()
	mux.Handle(Path, s)
	ts := httptest.NewServer(mux)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-ran
		ts.Close()
	})
	return s, rec, ts.URL
}

func dialRaw(t *testing.T, origin string, h http.Header) (*websocket.Conn, int) {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(origin, "http")+Path, h)
	if err != nil {
		if resp == nil {
			t.Fatalf("dial: %v", err)
		}
		return nil, resp.StatusCode
	}
	t.Cleanup(func() { ws.Close() })
	return ws, http.StatusSwitchingProtocols
}

// A web page can never open the shell's channel: browsers always send Origin on a
// websocket upgrade, and the agent refuses any Origin, whatever the token.
func TestRefusesPagesAndWrongTokens(t *testing.T) {
	_, rec, url := newServer(t)
	cases := map[string]http.Header{
		"page of the UI origin, right token": {"Origin": {url}, "Authorization": {"Bearer " + token}},
		"page with Origin null":              {"Origin": {"null"}, "Authorization": {"Bearer " + token}},
		"portal page":                        {"Origin": {"http://127.0.0.1:8471"}, "Authorization": {"Bearer " + token}},
		"no token":                           {},
		"wrong token":                        {"Authorization": {"Bearer " + token[:len(token)-1] + "x"}},
		"token without Bearer":               {"Authorization": {token}},
		"two Authorization headers":          {"Authorization": {"Bearer " + token, "Bearer " + token}},
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			if _, code := dialRaw(t, url, h); code != http.StatusForbidden {
				t.Fatalf("HTTP %d, want 403", code)
			}
		})
	}
	_, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+Path+"?token="+token, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("token in the query: %v, want 403", err)
	}
	if evs := rec.events(); len(evs) != 0 {
		t.Fatalf("refused dials reached the machine: %v", evs)
	}
}

func TestOrderAndConfirm(t *testing.T) {
	s, rec, url := newServer(t)
	var took []time.Duration
	s.opts.OnConfirmed = func(d time.Duration) { took = append(took, d) }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := Dial(ctx, url, token)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitfor.Until(t, waitfor.Timeout, "the connection reported", func() bool { return rec.has("connected", 1, 0) })
	s.OrderWipe(1, 42)
	id, err := c.Next()
	if err != nil || id != 42 {
		t.Fatalf("Next = %d, %v; want 42", id, err)
	}
	// A confirmation of an order never sent, then the right one.
	if err := c.Confirm(41); err != nil {
		t.Fatal(err)
	}
	if err := c.Confirm(42); err != nil {
		t.Fatal(err)
	}
	waitfor.Until(t, waitfor.Timeout, "the confirmation reported", func() bool { return rec.has("wiped", 1, 42) })
	if rec.has("wiped", 1, 41) {
		t.Fatal("a confirmation of an order never sent was passed on")
	}
	// Confirming the same order twice counts once.
	if err := c.Confirm(42); err != nil {
		t.Fatal(err)
	}
	s.OrderWipe(1, 43) // a marker: once it arrives, the duplicate has been read
	if id, _ := c.Next(); id != 43 {
		t.Fatalf("Next = %d, want 43", id)
	}
	n := 0
	for _, e := range rec.events() {
		if e.kind == "wiped" {
			n++
		}
	}
	if n != 1 || len(took) != 1 {
		t.Fatalf("%d confirmations passed on, %d timed; want 1", n, len(took))
	}
}

func TestHostileShellMessages(t *testing.T) {
	s, rec, url := newServer(t)
	ws, code := dialRaw(t, url, http.Header{"Authorization": {"Bearer " + token}})
	if code != http.StatusSwitchingProtocols {
		t.Fatalf("HTTP %d", code)
	}
	waitfor.Until(t, waitfor.Timeout, "connected", func() bool { return rec.has("connected", 1, 0) })
	s.OrderWipe(1, 7)
	for _, m := range []string{
		`{"v":1,"type":"wiped","id":7,"id":8}`,
		`{"v":1,"type":"wiped","type":"wipe","id":7}`,
		`{"v":2,"type":"wiped","id":7}`,
		`{"v":1,"type":"wipe","id":7}`,
		`{"v":1,"type":"wiped","id":"7"}`,
		`{"v":1,"type":"wiped","id":7,"x":1}`,
		`{"v":1,"type":"wiped"}`,
		`[1,2,3]`, `null`, `"wiped"`, ``,
	} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatalf("write %q: %v", m, err)
		}
	}
	// Still connected and still waiting: a good confirmation goes through.
	if err := ws.WriteMessage(websocket.TextMessage, encode(TypeWiped, 7)); err != nil {
		t.Fatal(err)
	}
	waitfor.Until(t, waitfor.Timeout, "the good confirmation", func() bool { return rec.has("wiped", 1, 7) })
	for _, e := range rec.events() {
		if e.kind == "wiped" && e.gen != 7 || e.kind == "lost" {
			t.Fatalf("a bad message had an effect: %v", rec.events())
		}
	}
	// Too big: the connection closes.
	ws.WriteMessage(websocket.TextMessage, []byte(`{"v":1,"type":"wiped","id":7,"pad":"`+strings.Repeat("x", MaxMessage)+`"}`))
	waitfor.Until(t, waitfor.Timeout, "the connection dropped", func() bool { return rec.has("lost", 1, 0) })
}

func TestNewShellReplacesOldAndDrop(t *testing.T) {
	s, rec, url := newServer(t)
	ctx := context.Background()
	a, err := Dial(ctx, url, token)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	waitfor.Until(t, waitfor.Timeout, "first connected", func() bool { return rec.has("connected", 1, 0) })
	b, err := Dial(ctx, url, token)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	waitfor.Until(t, waitfor.Timeout, "second replaces first", func() bool {
		return rec.has("connected", 2, 0) && rec.has("lost", 1, 0)
	})
	s.OrderWipe(1, 5) // to the replaced connection: dropped
	s.OrderWipe(2, 6)
	if id, err := b.Next(); err != nil || id != 6 {
		t.Fatalf("b.Next = %d, %v", id, err)
	}
	if _, err := a.Next(); err == nil {
		t.Fatal("the replaced shell still reads orders")
	}
	s.Drop(2)
	if _, err := b.Next(); err == nil {
		t.Fatal("a dropped shell still reads orders")
	}
	waitfor.Until(t, waitfor.Timeout, "second lost", func() bool { return rec.has("lost", 2, 0) })
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"v":1,"type":"wiped","id":7}`, `{"v":1,"type":"wipe","id":1}`,
		`{"v":1,"type":"wiped","id":7,"id":8}`, `{}`, `[]`, `{"v":1e400}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decode(data)
		if err != nil {
			return
		}
		if m.V != Version || m.ID == 0 || (m.Type != TypeWipe && m.Type != TypeWiped) {
			t.Fatalf("accepted %q as %+v", data, m)
		}
		if strictjson.CheckKeys(data) != nil {
			t.Fatalf("accepted a duplicate key: %q", data)
		}
	})
}
