package vcard

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"smartpath/testing/waitfor"
)

// fakeVPCD is the reader side of the vpcd protocol, as pcscd's driver speaks it.
type fakeVPCD struct {
	t    *testing.T
	ln   net.Listener
	conn net.Conn
}

func newFakeVPCD(t *testing.T) *fakeVPCD {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &fakeVPCD{t: t, ln: ln}
}

func (f *fakeVPCD) accept() {
	f.t.Helper()
	conn, err := f.ln.Accept()
	if err != nil {
		f.t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	f.conn = conn
	f.t.Cleanup(func() { conn.Close() })
}

func (f *fakeVPCD) send(payload []byte) {
	f.t.Helper()
	frame := binary.BigEndian.AppendUint16(nil, uint16(len(payload)))
	// Like Debian's vpcd: length and payload in separate writes.
	if _, err := f.conn.Write(frame); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.conn.Write(payload); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeVPCD) recv() ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(f.conn, hdr[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(hdr[:]))
	_, err := io.ReadFull(f.conn, b)
	return b, err
}

func (f *fakeVPCD) exchange(apdu []byte) []byte {
	f.t.Helper()
	f.send(apdu)
	resp, err := f.recv()
	if err != nil {
		f.t.Fatal(err)
	}
	return resp
}

func TestInsertVPCDProtocol(t *testing.T) {
	defer goleak.VerifyNone(t)
	c, _ := citizenCard(t, AlgP256)
	f := newFakeVPCD(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Insert(ctx, c, f.ln.Addr().String()) }()
	f.accept()

	f.send([]byte{vpcdPowerOn})
	f.send([]byte{vpcdGetATR})
	atr, err := f.recv()
	if err != nil || !bytes.Equal(atr, c.ATR()) {
		t.Fatalf("ATR %X %v", atr, err)
	}
	resp := f.exchange(mustHex(t, "00 A4 04 00 09 A0 00 00 03 08 00 00 10 00 00"))
	if !bytes.HasSuffix(resp, []byte{0x90, 0x00}) || resp[0] != 0x61 {
		t.Fatalf("SELECT answer %X", resp)
	}
	if r := f.exchange(append(mustHex(t, "00 20 00 80 08"), pad8([]byte("123456"))...)); !bytes.Equal(r, []byte{0x90, 0x00}) {
		t.Fatalf("VERIFY answer %X", r)
	}
	f.send([]byte{vpcdReset}) // no answer; the security status is cleared
	if r := f.exchange(mustHex(t, "00 20 00 80")); !bytes.Equal(r, []byte{0x63, 0xC3}) {
		t.Fatalf("after reset, VERIFY status %X", r)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Insert after cancel: %v", err)
	}
	if _, err := f.recv(); err == nil {
		t.Error("connection still open after the card was removed")
	}
}

func TestInsertFaults(t *testing.T) {
	defer goleak.VerifyNone(t)
	c, _ := New(Options{})
	selectAPDU := mustHex(t, "00 A4 04 00 05 A0 00 00 03 08 00")

	t.Run("drop", func(t *testing.T) {
		f := newFakeVPCD(t)
		done := make(chan error, 1)
		go func() { done <- Insert(context.Background(), c, f.ln.Addr().String()) }()
		f.accept()
		c.SetEmulation(Emulation{DropAtAPDU: 2})
		f.exchange(selectAPDU)
		f.send(selectAPDU)
		if _, err := f.recv(); err == nil {
			t.Fatal("card answered the APDU it should drop at")
		}
		if err := <-done; !errors.Is(err, ErrDropped) {
			t.Fatalf("Insert = %v, want ErrDropped", err)
		}
	})
	t.Run("mute answers late then drops", func(t *testing.T) {
		f := newFakeVPCD(t)
		done := make(chan error, 1)
		go func() { done <- Insert(context.Background(), c, f.ln.Addr().String()) }()
		f.accept()
		c.SetEmulation(Emulation{Mute: true, SlowAnswer: 50 * time.Millisecond})
		start := time.Now()
		f.send(selectAPDU)
		if _, err := f.recv(); err == nil {
			t.Fatal("mute card answered")
		}
		if d := time.Since(start); d < 50*time.Millisecond {
			t.Errorf("mute card dropped after %v, before its silence", d)
		}
		if err := <-done; !errors.Is(err, ErrDropped) {
			t.Fatalf("Insert = %v, want ErrDropped", err)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		f := newFakeVPCD(t)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- Insert(ctx, c, f.ln.Addr().String()) }()
		f.accept()
		c.SetEmulation(Emulation{Garbage: true})
		if r := f.exchange(selectAPDU); len(r) >= 2 {
			t.Errorf("garbage answer %X", r)
		}
		c.SetEmulation(Emulation{})
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
	t.Run("reader closes", func(t *testing.T) {
		f := newFakeVPCD(t)
		done := make(chan error, 1)
		go func() { done <- Insert(context.Background(), c, f.ln.Addr().String()) }()
		f.accept()
		f.conn.Close()
		if err := <-done; !errors.Is(err, ErrVPCDClosed) {
			t.Fatalf("Insert = %v, want ErrVPCDClosed", err)
		}
	})
}

func TestInsertWaitsForVPCD(t *testing.T) {
	defer goleak.VerifyNone(t)
	// Reserve a port, free it, and listen on it only after Insert started dialling.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var failed atomic.Int32
	dial := dialTCP
	dialTCP = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			failed.Add(1)
		}
		return conn, err
	}
	defer func() { dialTCP = dial }()
	c, _ := New(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Insert(ctx, c, addr) }()
	// A few dials fail (this is the behaviour under test): Insert goes on trying.
	waitfor.Until(t, waitfor.Timeout, "three failed dials", func() bool { return failed.Load() >= 3 })
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	defer ln.Close()
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// Nobody listening and ctx cancelled: Insert returns nil promptly.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if err := Insert(ctx2, c, addr); err != nil {
		t.Fatalf("Insert with expired ctx = %v, want nil", err)
	}
}
