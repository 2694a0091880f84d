package kiosktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// State is the agent's `state` message (docs/ui-protocol.md).
type State struct {
	Seq   int    `json:"seq"`
	Phase string `json:"phase"`
	Lang  string `json:"lang"`
	PIN   *struct {
		Min       int  `json:"min"`
		Max       int  `json:"max"`
		TriesLeft *int `json:"triesLeft"`
		Wrong     bool `json:"wrong"`
	} `json:"pin"`
	Citizen *struct {
		Name string `json:"name"`
	} `json:"citizen"`
	Session *struct {
		PortalURL      string `json:"portalURL"`
		EndsAt         int64  `json:"endsAt"`
		IdleTimeoutSec int    `json:"idleTimeoutSec"`
	} `json:"session"`
	Warning *struct {
		EndsAt int64 `json:"endsAt"`
	} `json:"warning"`
	Error *struct {
		Code string `json:"code"`
	} `json:"error"`
	Goodbye *struct {
		Reason string `json:"reason"`
	} `json:"goodbye"`
}

// UI is a websocket client playing the kiosk UI.
type UI struct {
	t     testing.TB
	conn  *websocket.Conn
	msgs  chan map[string]json.RawMessage
	done  chan struct{} // closed when the reader has stopped
	stop  chan struct{} // closed by Close
	once  sync.Once
	last  State
	wipes int

	mu       sync.Mutex
	received []string // every message the agent sent, as it arrived
}

// DialUI connects to the agent's UI channel as the kiosk UI does.
func (e *Env) DialUI(t testing.TB) *UI {
	t.Helper()
	conn, _, err := e.DialUIRaw(e.Agent.UIOrigin(), tokenOf(t, e.Agent.UIURL()))
	if err != nil {
		t.Fatalf("dial the UI channel: %v", err)
	}
	return newUI(t, conn)
}

// newUI starts the reader of a dialled UI connection; the test's cleanup closes it.
func newUI(t testing.TB, conn *websocket.Conn) *UI {
	u := &UI{t: t, conn: conn, msgs: make(chan map[string]json.RawMessage, 256),
		done: make(chan struct{}), stop: make(chan struct{})}
	done := u.done
	go func() {
		defer close(done)
		defer close(u.msgs)
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			u.mu.Lock()
			u.received = append(u.received, string(data))
			u.mu.Unlock()
			var m map[string]json.RawMessage
			if json.Unmarshal(data, &m) == nil {
				select {
				case u.msgs <- m:
				case <-u.stop: // nobody reads any more
					return
				}
			}
		}
	}()
	t.Cleanup(u.Close)
	return u
}

// DialUIRaw dials the UI websocket with the given Origin header and token.
func (e *Env) DialUIRaw(origin, token string) (*websocket.Conn, *http.Response, error) {
	u := "ws://" + strings.TrimPrefix(e.Agent.UIOrigin(), "http://") + "/ws?token=" + url.QueryEscape(token)
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	return websocket.DefaultDialer.Dial(u, h)
}

// Token is the agent's per-boot UI token.
func (e *Env) Token(t testing.TB) string { return tokenOf(t, e.Agent.UIURL()) }

func tokenOf(t testing.TB, startURL string) string {
	_, tok, ok := strings.Cut(startURL, "#token=")
	if !ok {
		t.Fatalf("UI URL has no token")
	}
	return tok
}

// Send sends a UI message; fields are added to {"v":1,"type":typ}.
func (u *UI) Send(typ string, fields map[string]any) {
	u.t.Helper()
	m := map[string]any{"v": 1, "type": typ}
	for k, v := range fields {
		m[k] = v
	}
	if err := u.conn.WriteJSON(m); err != nil {
		u.t.Fatalf("send %s: %v", typ, err)
	}
}

// SendPIN sends a PIN as the PIN pad does.
func (u *UI) SendPIN(pin string) { u.Send("pin", map[string]any{"pin": pin}) }

// WaitPhase reads messages until a state in phase arrives, failing after timeout.
func (u *UI) WaitPhase(phase string, timeout time.Duration) State {
	u.t.Helper()
	return u.WaitState(fmt.Sprintf("phase %s", phase), timeout, func(s State) bool { return s.Phase == phase })
}

// WaitState reads messages until a state satisfies ok.
func (u *UI) WaitState(what string, timeout time.Duration, ok func(State) bool) State {
	u.t.Helper()
	if ok(u.last) && u.last.Seq != 0 {
		return u.last
	}
	deadline := time.After(timeout)
	var seen []string
	for {
		select {
		case m, open := <-u.msgs:
			if !open {
				u.t.Fatalf("UI channel closed while waiting for %s (saw %v)", what, seen)
			}
			var typ string
			_ = json.Unmarshal(m["type"], &typ)
			switch typ {
			case "wipe":
				u.wipes++
				continue
			case "state":
			default:
				continue
			}
			raw, _ := json.Marshal(m)
			var s State
			if err := json.Unmarshal(raw, &s); err != nil {
				u.t.Fatalf("bad state message %s: %v", raw, err)
			}
			u.last = s
			seen = append(seen, s.Phase)
			if ok(s) {
				return s
			}
		case <-deadline:
			u.t.Fatalf("no %s within %v (saw %v)", what, timeout, seen)
		}
	}
}

// Close closes the connection and waits for its reader to stop. It may be called more than
// once; the test's cleanup calls it too.
func (u *UI) Close() {
	u.once.Do(func() {
		close(u.stop)
		u.conn.Close()
	})
	<-u.done
}

// Received is every message the agent has sent this UI so far, as raw JSON text.
func (u *UI) Received() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.received...)
}

// Wipes is how many wipe messages arrived so far.
func (u *UI) Wipes() int { return u.wipes }

// Last is the last state received.
func (u *UI) Last() State { return u.last }
