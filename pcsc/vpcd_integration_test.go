//go:build integration

package pcsc

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"smartpath/testing/waitfor"
)

// vpcdCard is a minimal card behind pcscd's vpcd reader driver: it connects to the reader's
// TCP port (= inserted), answers pcscd's power and ATR requests, and answers APDUs with
// answer. Closing the socket is pulling the card. The full virtual PIV card is
// smartpath/testing/vcard; this one only exercises the transport.
type vpcdCard struct {
	conn   *net.TCPConn
	atr    []byte
	answer func(apdu []byte) (resp []byte, pull bool)
	done   chan struct{}
	once   sync.Once
}

var testATR = []byte{0x3B, 0x8A, 0x80, 0x01, 0x53, 0x6D, 0x61, 0x72, 0x74, 0x50, 0x61, 0x74, 0x68, 0x21, 0x57}

// insertVPCD connects a card to addr, retrying until the reader listens (waitfor.Timeout). The
// card is pulled when the test ends.
func insertVPCD(t testing.TB, addr string, answer func([]byte) ([]byte, bool)) *vpcdCard {
	t.Helper()
	if answer == nil {
		answer = answerBasic
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitfor.Timeout)
	defer cancel()
	var c net.Conn
	var err error
	if waitfor.Context(ctx, func() bool {
		c, err = net.DialTimeout("tcp", addr, time.Second)
		return err == nil
	}) != nil {
		t.Fatalf("vpcd reader at %s does not accept the virtual card: %v (is vsmartcard-vpcd installed? run `make deps`)", addr, err)
	}
	card := &vpcdCard{conn: c.(*net.TCPConn), atr: testATR, answer: answer, done: make(chan struct{})}
	go card.serve()
	t.Cleanup(card.pull)
	return card
}

// answerBasic says 9000 to everything except INS CB, which it answers with 272 bytes in a
// 61xx chain (256 bytes + 6110, then 16 bytes for GET RESPONSE).
func answerBasic(apdu []byte) ([]byte, bool) {
	switch apdu[1] {
	case 0xCB:
		return append(fill(0xA5, 256), 0x61, 0x10), false
	case 0xC0:
		return append(fill(0x5A, 16), 0x90, 0x00), false
	}
	return []byte{0x90, 0x00}, false
}

func fill(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

func (c *vpcdCard) serve() {
	defer close(c.done)
	defer c.conn.Close()
	hdr := make([]byte, 2)
	for {
		// vpcd writes the length and the payload separately without TCP_NODELAY; acking at
		// once spares each APDU a ~40 ms delayed ACK.
		quickAck(c.conn)
		if _, err := io.ReadFull(c.conn, hdr); err != nil {
			return
		}
		msg := make([]byte, binary.BigEndian.Uint16(hdr))
		if _, err := io.ReadFull(c.conn, msg); err != nil {
			return
		}
		var reply []byte
		switch {
		case len(msg) == 1 && msg[0] == 0x04:
			reply = c.atr
		case len(msg) == 1: // 00 power off, 01 power on, 02 reset: no answer
			continue
		case len(msg) < 4:
			return
		default:
			resp, pull := c.answer(msg)
			if pull {
				return
			}
			reply = resp
		}
		if _, err := c.conn.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(reply))), reply...)); err != nil {
			return
		}
	}
}

// pull takes the card out (closes its socket) and waits for its goroutine.
func (c *vpcdCard) pull() {
	c.once.Do(func() { _ = c.conn.Close() })
	<-c.done
}

func quickAck(c *net.TCPConn) {
	raw, err := c.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
