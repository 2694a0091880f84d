package portal

import (
	"bufio"
	"context"
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"
)

func (w *world) wsDial(t *testing.T, cert *tls.Certificate, origin string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	cfg := w.clientTLS(cert, nil)
	cfg.NextProtos = []string{"http/1.1"}
	d := websocket.Dialer{TLSClientConfig: cfg, HandshakeTimeout: 5 * time.Second}
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	u := "wss" + strings.TrimPrefix(w.urls.Portal, "https") + "/ws"
	return d.DialContext(context.Background(), u, h)
}

func TestWebSocketEcho(t *testing.T) {
	w := newWorld(t, nil)
	jane := card(t, w.pki, "Jane Citizen", "C-1001")
	for _, origin := range []string{"", w.urls.Portal} {
		c, _, err := w.wsDial(t, jane, origin)
		if err != nil {
			t.Fatalf("origin %q: %v", origin, err)
		}
		for _, msg := range []string{"hello desk", strings.Repeat("x", 60<<10)} {
			if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
				t.Fatal(err)
			}
			mt, got, err := c.ReadMessage()
			if err != nil || mt != websocket.TextMessage || string(got) != msg {
				t.Fatalf("echo: type %d, %d bytes, err %v", mt, len(got), err)
			}
		}
		// Over the limit: the portal closes with 1009.
		c.WriteMessage(websocket.BinaryMessage, make([]byte, maxWSMessage+1))
		if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
			t.Errorf("oversized message: %v, want close 1009", err)
		}
		c.Close()
	}

	// Another page's origin is refused, and a foreign card too.
	_, res, err := w.wsDial(t, jane, "https://evil.example")
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("foreign origin: %v", err)
	}
	_, res, err = w.wsDial(t, card(t, w.other, "Mallory", "X-1"), "")
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden || res.Header.Get(RefusalHeader) != string(RefusalUntrusted) {
		t.Errorf("foreign card: %v", err)
	}
}

func TestEventsStream(t *testing.T) {
	w := newWorld(t, nil)
	b := w.browser(t, card(t, w.pki, "Jane Citizen", "C-1001"))
	res, err := b.Get(w.urls.Portal + "/events?count=3")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	sc := bufio.NewScanner(res.Body)
	var events []string
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			events = append(events, d)
		}
	}
	if len(events) != 3 || !strings.Contains(events[0], `"seq":1`) || !strings.Contains(events[0], "HR-C1001") {
		t.Errorf("events %q", events)
	}
	if status, _, _ := b.get(t, w.urls.Portal+"/events?count=0"); status != http.StatusBadRequest {
		t.Errorf("count=0: status %d", status)
	}
}

// TestCloseEndsEverything: Close returns only when streams, websockets and connections are
// gone, and leaves no goroutine behind.
func TestCloseEndsEverything(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	w := newWorld(t, nil)
	jane := card(t, w.pki, "Jane Citizen", "C-1001")
	ws, _, err := w.wsDial(t, jane, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	b := w.browser(t, jane)
	res, err := b.Get(w.urls.Portal + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	bufio.NewReader(res.Body).ReadString('\n') // the stream is running

	w.srv.Close()
	if n := w.srv.ConnsOpen(); n != 0 {
		t.Errorf("%d connections open after Close", n)
	}
	if _, _, err := ws.ReadMessage(); err == nil {
		t.Errorf("websocket still open after Close")
	}
	b.tr.CloseIdleConnections()
	w.srv.Close() // twice is fine
}

func TestStartContextStopsServer(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	p, _ := testPKI(t)
	cert, _ := p.IssueServer()
	s, err := New(Options{ServerCert: cert, ClientCAs: p.Pool()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Start(ctx, Addrs{}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URLs().Portal, "https://localhost:") {
		t.Errorf("URLs %+v: default host should be localhost", s.URLs())
	}
	cancel()
	s.Close()
	if err := s.Start(context.Background(), Addrs{}); err == nil {
		t.Errorf("a closed server started again")
	}
}
