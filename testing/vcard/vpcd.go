package vcard

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// The vpcd protocol (vsmartcard's virtual reader driver for pcscd): the card is a TCP client
// of the reader's port; every message either way is a 2-byte big-endian length and the
// payload. One-byte messages from pcscd are control messages; anything longer is a command
// APDU, answered with the response APDU. Connected = inserted, closed = removed.
const (
	vpcdPowerOff = 0x00
	vpcdPowerOn  = 0x01
	vpcdReset    = 0x02
	vpcdGetATR   = 0x04
)

// DefaultVPCDAddr is the address of vpcd's first reader ("Virtual PCD 00 00").
const DefaultVPCDAddr = "127.0.0.1:35963"

// ConnectTimeout bounds how long Insert waits for vpcd to listen (pcscd loads the driver
// about 50 ms after it starts).
const ConnectTimeout = 10 * time.Second

// ErrDropped is returned by Insert when fault emulation pulled the card (DropAtAPDU, or
// Mute after its silence).
var ErrDropped = errors.New("vcard: card pulled by fault emulation")

// ErrVPCDClosed is returned (wrapped) by Insert when vpcd closed the connection, as it does
// when pcscd stops.
var ErrVPCDClosed = errors.New("vcard: vpcd closed the connection (pcscd stopped?)")

// Insert inserts c into the vpcd reader at addr (host:port) and keeps it there until ctx is
// done, when it closes the connection (the card is removed) and returns nil. It returns an
// error when it cannot connect within ConnectTimeout, when the connection fails
// (ErrVPCDClosed when pcscd goes away), or ErrDropped when fault emulation pulls the card.
// The card is power-cycled on insertion.
func Insert(ctx context.Context, c *Card, addr string) error {
	conn, err := dialVPCD(ctx, addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c.Reset()
	err = serveVPCD(ctx, c, conn)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// Serve keeps c inserted in the vpcd reader at addr until ctx is done, inserting it again
// whenever the connection is lost (pcscd restarted, or not yet running). report, when not
// nil, is told about each lost connection. It returns nil when ctx is done, and ErrDropped
// when fault emulation pulled the card.
func Serve(ctx context.Context, c *Card, addr string, report func(error)) error {
	for {
		err := Insert(ctx, c, addr)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrDropped) {
			return err
		}
		if report != nil {
			report(err)
		}
		// A back-off, so that a vpcd that accepts and closes at once is not hammered.
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return nil
		}
	}
}

// dialTCP is how dialVPCD connects; a test counts the attempts through it.
var dialTCP = (&net.Dialer{}).DialContext

// dialVPCD connects to addr, retrying with back-off until vpcd listens, ctx is done or
// ConnectTimeout passes.
func dialVPCD(ctx context.Context, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, ConnectTimeout)
	defer cancel()
	backoff := 5 * time.Millisecond
	for {
		conn, err := dialTCP(ctx, "tcp", addr)
		if err == nil {
			return conn, nil
		}
		if sleep(ctx, backoff) != nil {
			return nil, fmt.Errorf("vcard: no vpcd reader listening at %s after %v: %w; start pcscd with the vsmartcard-vpcd driver (apt-get install pcscd vsmartcard-vpcd) or check the port", addr, ConnectTimeout, err)
		}
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}

// serveVPCD answers vpcd's messages until the connection fails or a fault ends it.
func serveVPCD(ctx context.Context, c *Card, conn net.Conn) error {
	var hdr [2]byte
	buf := make([]byte, 0xFFFF)
	for {
		// Debian's vpcd writes length and payload separately without TCP_NODELAY; acking at
		// once saves a ~40 ms delayed-ACK stall per APDU.
		setQuickAck(conn)
		if _, err := io.ReadFull(conn, hdr[:]); err != nil {
			return readError(err)
		}
		n := int(binary.BigEndian.Uint16(hdr[:]))
		msg := buf[:n]
		setQuickAck(conn)
		if _, err := io.ReadFull(conn, msg); err != nil {
			return readError(err)
		}
		switch {
		case n == 0:
			continue
		case n == 1:
			switch msg[0] {
			case vpcdPowerOff, vpcdPowerOn, vpcdReset:
				c.Reset()
			case vpcdGetATR:
				if err := writeFrame(conn, c.ATR()); err != nil {
					return err
				}
			}
			continue
		}
		resp, fault, err := c.exchange(ctx, msg)
		if err != nil {
			return err
		}
		switch fault {
		case faultDrop:
			return ErrDropped
		case faultMute:
			// A card that never answers would hang pcscd's reader thread for good: stay
			// silent for a while, then leave.
			wait := c.Emulation().SlowAnswer
			if wait <= 0 {
				wait = MuteDropAfter
			}
			if err := sleep(ctx, wait); err != nil {
				return err
			}
			return ErrDropped
		}
		if err := writeFrame(conn, resp); err != nil {
			return err
		}
	}
}

func readError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrVPCDClosed
	}
	return fmt.Errorf("vcard: vpcd connection: %w", err)
}

func writeFrame(conn net.Conn, payload []byte) error {
	frame := make([]byte, 2+len(payload))
	binary.BigEndian.PutUint16(frame, uint16(len(payload)))
	copy(frame[2:], payload)
	if _, err := conn.Write(frame); err != nil {
		return fmt.Errorf("vcard: vpcd connection: %w", err)
	}
	return nil
}
