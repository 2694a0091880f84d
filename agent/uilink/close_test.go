package uilink

import (
	"errors"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"smartpath/agent/session"
)

// The end of Run delivers what is already queued before it drops a connection: when the agent stops
// during a session, the shutdown's wipe and goodbye are the last thing the UI must hear
// (docs/security.md, invariant 5). Then the connection closes with 1001 going away.
func TestCloseFlushesQueuedMessages(t *testing.T) {
	for i := 0; i < 20; i++ {
		ts := newTestServer(t, nil)
		c := ts.connect(t)
		ts.Broadcast(session.State{Phase: session.PhaseEnding, Lang: "en", Goodbye: session.ReasonShutdown})
		ts.SendWipe()
		ts.Broadcast(session.State{Phase: session.PhaseGoodbye, Lang: "en", Goodbye: session.ReasonShutdown})
		ts.stop()

		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		var got []string
		for {
			var m map[string]any
			err := c.ReadJSON(&m)
			if err != nil {
				var ce *websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
					t.Fatalf("round %d: connection ended with %v after %v, want close 1001", i, err, got)
				}
				break
			}
			s, _ := m["phase"].(string)
			if s == "" {
				s, _ = m["type"].(string)
			}
			got = append(got, s)
		}
		if len(got) != 3 || got[0] != "ending" || got[1] != "wipe" || got[2] != "goodbye" {
			t.Fatalf("round %d: the UI got %v before the close, want [ending wipe goodbye]", i, got)
		}
	}
}
