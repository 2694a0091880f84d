package proxy

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"smartpath/testing/waitfor"
)

func TestWebsocketThroughProxy(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		name := "h1"
		if h2 {
			name = "h2"
		}
		t.Run(name, func(t *testing.T) {
			c := newCouncil(t, serverOpts{h2: h2})
			cd := c.ca.card(t, "p256", "Jane Citizen")
			s := startSession(t, c.config(), cd.cert)
			if err := s.Probe(context.Background()); err != nil {
				t.Fatal(err)
			}
			portal := s.LocalURL(c.portal.url)
			hdr := http.Header{"Origin": {portal}}
			dialer := websocket.Dialer{Jar: webview(t, s).Jar} // the frame's cookie goes with the upgrade
			ws, resp, err := dialer.Dial("ws"+strings.TrimPrefix(portal, "http")+"/ws", hdr)
			if err != nil {
				status := ""
				if resp != nil {
					status = resp.Status
				}
				t.Fatalf("websocket dial: %v %s", err, status)
			}
			defer ws.Close()
			for _, msg := range []string{"one", "two"} {
				if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
					t.Fatal(err)
				}
				_, got, err := ws.ReadMessage()
				if err != nil || string(got) != "echo:"+msg {
					t.Fatalf("read %q, %v", got, err)
				}
			}
			if s.Signatures() != 1 {
				t.Errorf("signatures = %d, want 1 (the websocket resumes the session)", s.Signatures())
			}
		})
	}
}

func TestStreamingResponse(t *testing.T) {
	c := newCouncil(t, serverOpts{h2: true})
	cd := c.ca.card(t, "p256", "Jane Citizen")
	s := startSession(t, c.config(), cd.cert)
	resp, err := webview(t, s).Get(s.LocalURL(c.portal.url) + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	for _, line := range []string{"first", "second"} {
		c.stream <- line // the portal writes one event and flushes; the proxy must pass it now
		got, err := br.ReadString('\n')
		if err != nil || got != "data: "+line+"\n" {
			t.Fatalf("read %q, %v", got, err)
		}
		br.ReadString('\n')
	}
}

// TestCloseEndsEverything opens keep-alive requests, a websocket, a streaming response and a
// held request, then closes the session: every upstream connection must close, and nothing of
// the session is served afterwards.
func TestCloseEndsEverything(t *testing.T) {
	t.Run("h1", func(t *testing.T) { testCloseEndsEverything(t, false) }) // several upstream connections
	t.Run("h2", func(t *testing.T) { testCloseEndsEverything(t, true) })
}

func testCloseEndsEverything(t *testing.T, h2 bool) {
	c := newCouncil(t, serverOpts{h2: h2})
	cd := c.ca.card(t, "p256", "Jane Citizen")
	s, err := Start(context.Background(), c.config(), cd.cert)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	portal, home := s.LocalURL(c.portal.url), s.HomeURL()
	cl := webview(t, s)
	for range 3 {
		get(t, cl, portal+"/page/1")
	}
	ws, _, err := (&websocket.Dialer{Jar: cl.Jar}).Dial("ws"+strings.TrimPrefix(portal, "http")+"/ws", http.Header{"Origin": {portal}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	serverWS := <-c.wsServerConn
	stream, err := cl.Get(portal + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	hold, err := cl.Get(portal + "/hold")
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Body.Close()
	if c.portal.open.Load() < 1 {
		t.Fatalf("open upstream connections = %d before Close", c.portal.open.Load())
	}

	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Close took %v", time.Since(start))

	// Counted by the portal's ConnState (the hijacked websocket is checked below).
	waitfor.Until(t, waitfor.Timeout, "upstream connections to close", func() bool { return c.portal.open.Load() == 0 })
	// The websocket is cut on both sides.
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := ws.ReadMessage(); err == nil {
		t.Error("websocket still open after Close")
	}
	serverWS.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := serverWS.ReadMessage(); err == nil || isTimeout(err) {
		t.Errorf("upstream websocket not closed by Close: %v", err)
	}
	// The streaming and held responses end.
	if _, err := bufio.NewReader(stream.Body).ReadString('\n'); err == nil {
		t.Error("stream still readable after Close")
	}
	// Nothing is served any more: the listeners are gone.
	for _, u := range []string{home, portal + "/page/1", s.LocalURL(c.sso.url) + "/", s.LocalURL(c.static.url) + "/x"} {
		if resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(u); err == nil {
			resp.Body.Close()
			t.Errorf("GET %s after Close: %s, want connection refused", u, resp.Status)
		}
	}
	if err := s.Probe(context.Background()); !errors.Is(err, ErrPortalUnavailable) {
		t.Errorf("Probe after Close = %v", err)
	}
	if _, err := s.signer.Sign(nil, make([]byte, 32), nil); !errors.Is(err, errSignerClosed) {
		t.Errorf("card signer after Close: %v", err)
	}
	if s.Close() != nil {
		t.Error("second Close failed")
	}
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// TestNextSessionHandshakesAgain: a new session, with another citizen's card, never resumes
// the last citizen's TLS session and never sees their cookies.
func TestNextSessionHandshakesAgain(t *testing.T) {
	for _, v := range []struct {
		name string
		max  uint16
		h2   bool
	}{{"tls13-h2", 0, true}, {"tls12-h1", 0x0303, false}} {
		t.Run(v.name, func(t *testing.T) {
			c := newCouncil(t, serverOpts{h2: v.h2, maxVersion: v.max})
			cfg := c.config()
			a := c.ca.card(t, "p256", "Alice")
			b := c.ca.card(t, "rsa", "Bob")

			s1 := startSession(t, cfg, a.cert)
			cl := localClient(t)
			_, body := get(t, cl, s1.HomeURL())
			if !strings.Contains(body, "Hello Alice") {
				t.Fatalf("home = %q", body)
			}
			s1.Close()
			cl.CloseIdleConnections()
			full := c.portal.full.Load()

			s2 := startSession(t, cfg, b.cert)
			_, who := get(t, cl, strings.TrimSuffix(s2.HomeURL(), "/home")+"/whoami")
			if !strings.Contains(who, "cn=Bob sid= ") {
				t.Errorf("second session whoami = %q, want Bob without Alice's cookie", who)
			}
			if got := c.portal.full.Load(); got != full+1 {
				t.Errorf("full handshakes = %d, want %d (resumed: %d)", got, full+1, c.portal.resumed.Load())
			}
			if b.signer.n.Load() != 1 || a.signer.n.Load() != 1 {
				t.Errorf("signatures: alice %d bob %d, want 1 each", a.signer.n.Load(), b.signer.n.Load())
			}
		})
	}
}
