package uilink

import (
	"errors"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// A client that begins a message and never finishes it (a text frame without FIN, then
// nothing but answers to pings) is closed with CloseMessageTimeout, and the server is free
// of it.
func TestUnfinishedMessageIsClosed(t *testing.T) {
	ts := newTestServer(t, func(o *Options) {
		o.MessageTimeout = 300 * time.Millisecond
		o.PingInterval = 50 * time.Millisecond // pongs must not keep the message open
	})
	c := ts.connect(t)
	// A masked text frame, FIN not set: the start of a message that goes on.
	payload := []byte(`{"v":1,"type":`)
	mask := [4]byte{1, 2, 3, 4}
	frame := []byte{0x01, 0x80 | byte(len(payload)), mask[0], mask[1], mask[2], mask[3]}
	for i, b := range payload {
		frame = append(frame, b^mask[i%4])
	}
	if _, err := c.NetConn().Write(frame); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second)) // a hang guard; the bound is the server's
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue // state messages sent before
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != CloseMessageTimeout {
			t.Fatalf("the connection ended with %v, want close code %d", err, CloseMessageTimeout)
		}
		return
	}
}

// 300 bad messages back to back, from a client that reads everything: the connection
// stays, the client is not dropped, and the next good message is handled.
func TestBadMessageFloodKeepsTheClient(t *testing.T) {
	ts := newTestServer(t, nil)
	c := ts.connect(t)
	read := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				read <- err
				return
			}
		}
	}()
	for range 300 {
		if err := c.WriteMessage(websocket.TextMessage, []byte(`{"v":1,"type":"foo"}`)); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	c.WriteMessage(websocket.TextMessage, []byte(`{"v":1,"type":"cancel"}`))
	select {
	case m := <-ts.msgs:
		if m.Type != TypeCancel {
			t.Errorf("got %+v", m)
		}
	case err := <-read:
		t.Fatalf("the client was dropped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the good message after the flood was not handled")
	}
	c.Close()
	<-read
}
