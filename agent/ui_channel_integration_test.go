//go:build integration

package agent_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"smartpath/testing/kiosktest"
	"smartpath/testing/vcard"
	"smartpath/testing/waitfor"
)

// The control channel of the real agent (docs/security.md, invariants 2 and 7) during a citizen's
// session: only the exact UI origin with the per-boot token gets in — not another origin,
// not the portal proxy's own origin, not "null", not a missing Origin, not a missing or
// wrong token; a message over 4096 bytes closes the connection with 1009 (4096 passes);
// binary frames and unknown types get an error and the connection stays; at most 8 UI
// connections. The agent keeps running: the session goes on and a good UI client works.
func TestUIChannelRefusals(t *testing.T) {
	env := kiosktest.Start(t, kiosktest.Options{})
	ui := env.DialUI(t)
	ui.WaitPhase("idle", wait)
	remove := env.Insert(t, env.NewCard(t, "Jane Citizen", "C-1001", vcard.AlgP256))
	st := signIn(t, ui, vcard.DefaultPIN)
	pu, err := url.Parse(st.Session.PortalURL)
	if err != nil {
		t.Fatal(err)
	}
	portalOrigin := pu.Scheme + "://" + pu.Host
	uiOrigin, token := env.Agent.UIOrigin(), env.Token(t)
	uo, _ := url.Parse(uiOrigin)

	refused := []struct{ name, origin, token string }{
		{"another origin", "http://evil.example", token},
		{"the portal proxy's origin", portalOrigin, token},
		{"origin null", "null", token},
		{"no origin", "", token},
		{"the UI origin by another name", "http://localhost:" + uo.Port(), token},
		{"the UI origin over https", "https://" + uo.Host, token},
		{"the UI origin with a path", uiOrigin + "/", token},
		{"wrong token", uiOrigin, strings.Repeat("A", len(token))},
		{"token with a suffix", uiOrigin, token + "x"},
		{"empty token", uiOrigin, ""},
	}
	for _, c := range refused {
		conn, resp, err := env.DialUIRaw(c.origin, c.token)
		expectRefused(t, c.name, conn, resp, err)
	}
	// No token parameter at all, and the token twice.
	for name, query := range map[string]string{"no token": "", "two tokens": "?token=" + token + "&token=" + token} {
		conn, resp, err := websocket.DefaultDialer.Dial("ws://"+uo.Host+"/ws"+query, http.Header{"Origin": {uiOrigin}})
		expectRefused(t, name, conn, resp, err)
	}

	// Oversized messages close the connection with 1009, in one frame or several.
	for _, fragmented := range []bool{false, true} {
		conn, _, err := env.DialUIRaw(uiOrigin, token)
		if err != nil {
			t.Fatalf("dial the UI channel: %v", err)
		}
		big := `{"v":1,"type":"activity","x":"` + strings.Repeat("a", 5000) + `"}`
		if fragmented {
			w, err := conn.NextWriter(websocket.TextMessage)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(big); i += 1000 {
				w.Write([]byte(big[i:min(i+1000, len(big))]))
			}
			w.Close()
		} else if err := conn.WriteMessage(websocket.TextMessage, []byte(big)); err != nil {
			t.Fatal(err)
		}
		expectClose(t, conn, websocket.CloseMessageTooBig)
	}

	// At the bound: 4096 bytes is accepted, 4097 closes. The bound counts the message, so
	// pad inside the JSON object.
	padded := func(n int) []byte {
		head, tail := `{"v":1,`, `"type":"activity"}`
		return []byte(head + strings.Repeat(" ", n-len(head)-len(tail)) + tail)
	}
	conn, _, err := env.DialUIRaw(uiOrigin, token)
	if err != nil {
		t.Fatalf("dial the UI channel: %v", err)
	}
	if err := conn.WriteMessage(websocket.TextMessage, padded(4096)); err != nil {
		t.Fatal(err)
	}
	// A binary frame and an unknown type are answered with errors, in order, on the same
	// connection: the 4096-byte message before them caused none.
	conn.WriteMessage(websocket.BinaryMessage, []byte(`{"v":1,"type":"activity"}`))
	conn.WriteMessage(websocket.TextMessage, []byte(`{"v":1,"type":"foo"}`))
	if got := readErrors(t, conn, 2); got[0] != "binary frames are not accepted" || got[1] != `unknown type "foo"` {
		t.Fatalf("error details = %q, want the binary frame's then the unknown type's", got)
	}
	conn.WriteMessage(websocket.TextMessage, padded(4097))
	expectClose(t, conn, websocket.CloseMessageTooBig)

	// At most 8 UI connections: the 9th is refused with 503 until one closes.
	var open []*websocket.Conn
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	waitfor.Until(t, waitfor.Timeout, "room for 7 more UI connections", func() bool {
		c, _, err := env.DialUIRaw(uiOrigin, token)
		if err != nil {
			return false
		}
		open = append(open, c)
		return len(open) == 7
	})
	if c, resp, err := env.DialUIRaw(uiOrigin, token); err == nil {
		c.Close()
		t.Fatal("a 9th UI connection was accepted")
	} else if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a 9th UI connection: %v (response %v), want HTTP 503", err, resp)
	}
	open[0].Close()
	open = open[1:]
	waitfor.Until(t, waitfor.Timeout, "a UI connection after one closed", func() bool {
		c, _, err := env.DialUIRaw(uiOrigin, token)
		if err != nil {
			return false
		}
		open = append(open, c)
		return true
	})
	for _, c := range open {
		c.Close()
	}
	open = nil

	// The agent is unharmed: the session still runs, a good client connects and is served.
	if got := env.Agent.Machine().State().Phase; got != "session" {
		t.Fatalf("phase after the refused connections = %s, want session", got)
	}
	get(t, browser(), st.Session.PortalURL)
	ui2 := env.DialUI(t)
	ui2.WaitPhase("session", wait)
	ui2.Send("end_session", nil)
	ui2.WaitPhase("goodbye", wait)
	ui.WaitPhase("goodbye", wait)
	remove()
	ui2.WaitPhase("idle", wait)
}

func expectRefused(t *testing.T, name string, conn *websocket.Conn, resp *http.Response, err error) {
	t.Helper()
	if err == nil {
		conn.Close()
		t.Errorf("%s: the UI channel accepted the connection", name)
		return
	}
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("%s: %v (response %v), want HTTP 403", name, err, resp)
	}
}

// expectClose reads until the connection ends and checks its close code.
func expectClose(t *testing.T, conn *websocket.Conn, code int) {
	t.Helper()
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(wait))
	for {
		_, _, err := conn.ReadMessage()
		if err == nil {
			continue // the state sent on connect
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != code {
			t.Fatalf("connection ended with %v, want close code %d", err, code)
		}
		return
	}
}

// readErrors reads messages until n error messages arrived and returns their details.
func readErrors(t *testing.T, conn *websocket.Conn, n int) []string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(wait))
	defer conn.SetReadDeadline(time.Time{})
	var details []string
	for len(details) < n {
		var m struct{ Type, Code, Detail string }
		if err := conn.ReadJSON(&m); err != nil {
			t.Fatalf("waiting for %d error messages (have %q): %v", n, details, err)
		}
		if m.Type == "error" {
			if m.Code != "bad_message" {
				t.Fatalf("error code %q, want bad_message", m.Code)
			}
			details = append(details, m.Detail)
		}
	}
	return details
}
