package kiosktest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// DialUIURL connects to the UI channel of any kiosk-agent, given its UI start URL
// (http://127.0.0.1:PORT/#token=TOKEN, as written to ui.url_file), as the kiosk UI does. It
// is for agents that run outside the test process, e.g. the built kiosk-agent binary in a
// benchmark; for the Env's own agent use [Env.DialUI].
func DialUIURL(t testing.TB, startURL string) *UI {
	t.Helper()
	origin, _, ok := strings.Cut(strings.TrimSpace(startURL), "/#token=")
	if !ok {
		t.Fatalf("UI start URL %q has no token", startURL)
	}
	token := tokenOf(t, strings.TrimSpace(startURL))
	u := "ws://" + strings.TrimPrefix(origin, "http://") + "/ws?token=" + url.QueryEscape(token)
	conn, _, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {origin}})
	if err != nil {
		t.Fatalf("dial the UI channel at %s: %v", origin, err)
	}
	return newUI(t, conn)
}
