//go:build integration

package pcsc

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"smartpath/testing/pcscdtest"
	"smartpath/testing/waitfor"
)

// connectInserted inserts a card with answer in reader 0, waits until pcscd reports it and
// connects.
func connectInserted(t *testing.T, d *pcscdtest.Daemon, answer func([]byte) ([]byte, bool)) (*Conn, *vpcdCard) {
	t.Helper()
	_, events := startMonitor(t)
	card := insertVPCD(t, d.VPCDAddr(0), answer)
	waitEvent(t, events, CardInserted, d.Readers()[0].Name, 5*time.Second)
	c, err := Connect(context.Background(), d.Readers()[0].Name, ConnectOptions{})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, card
}

func TestIntegrationConnectTransmit(t *testing.T) {
	d := pcscdtest.Start(t)
	before := goleak.IgnoreCurrent()
	c, _ := connectInserted(t, d, nil)
	if !bytes.Equal(c.ATR(), testATR) {
		t.Errorf("ATR = %X, want %X", c.ATR(), testATR)
	}
	if c.Protocol() == ProtocolUnknown {
		t.Errorf("Protocol = %v", c.Protocol())
	}
	ctx := context.Background()
	tr := NewTransport(c, TransportOptions{})
	err := tr.WithTransaction(ctx, func(ctx context.Context) error {
		data, err := tr.Do(ctx, Command{INS: 0xCB, P1: 0x3F, P2: 0xFF, Data: []byte{0x5C, 0x01, 0x7E}, Le: 256})
		if err != nil {
			return err
		}
		if want := append(fill(0xA5, 256), fill(0x5A, 16)...); !bytes.Equal(data, want) {
			t.Errorf("data = %d bytes %X…, want 272 bytes", len(data), data[:min(8, len(data))])
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if st := tr.Stats(); st.APDUs != 2 || st.GetResponses != 1 {
		t.Errorf("Stats = %+v, want 2 APDUs with 1 GET RESPONSE", st)
	}
	// Chaining through pcscd: 600 bytes in three blocks.
	if _, err := tr.Do(ctx, Command{INS: 0xDB, P1: 0x3F, P2: 0xFF, Data: fill(1, 600)}); err != nil {
		t.Fatalf("chained Do: %v", err)
	}
	if err := c.CloseReset(); err != nil {
		t.Fatalf("CloseReset: %v", err)
	}
	if _, err := c.Transmit(ctx, []byte{0, 0xCA, 0, 0}); !errors.Is(err, ErrClosed) {
		t.Errorf("Transmit after CloseReset = %v, want ErrClosed", err)
	}
	goleak.VerifyNone(t, before, pcscdGoroutine, goleak.IgnoreAnyFunction("smartpath/pcsc.(*vpcdCard).serve"),
		goleak.IgnoreAnyFunction("smartpath/pcsc.(*Monitor).Run"),
		goleak.IgnoreAnyFunction("smartpath/pcsc.(*Monitor).cancelWhenDone"))
}

func TestIntegrationConnectEmptyReader(t *testing.T) {
	d := pcscdtest.Start(t)
	_, err := Connect(context.Background(), d.Readers()[1].Name, ConnectOptions{})
	if !errors.Is(err, ErrCardRemoved) {
		t.Fatalf("Connect to an empty reader = %v, want ErrCardRemoved", err)
	}
	_, err = Connect(context.Background(), "No Such Reader", ConnectOptions{})
	if !errors.Is(err, ErrReaderUnavailable) {
		t.Fatalf("Connect to a missing reader = %v, want ErrReaderUnavailable", err)
	}
}

func TestIntegrationCardPulledMidTransmit(t *testing.T) {
	d := pcscdtest.Start(t)
	// INS EE: the card takes the command and is pulled before it answers.
	c, _ := connectInserted(t, d, func(apdu []byte) ([]byte, bool) {
		if apdu[1] == 0xEE {
			return nil, true
		}
		return []byte{0x90, 0x00}, false
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Transmit(ctx, []byte{0x00, 0xCA, 0x00, 0x00}); err != nil {
		t.Fatalf("Transmit before the pull: %v", err)
	}
	start := time.Now()
	_, err := c.Transmit(ctx, []byte{0x00, 0xEE, 0x00, 0x00})
	took := time.Since(start)
	if !errors.Is(err, ErrCardRemoved) {
		t.Fatalf("Transmit with the card pulled = %v, want ErrCardRemoved", err)
	}
	t.Logf("card pulled mid-command: %v after %v", err, took)
	if _, err := c.Transmit(ctx, []byte{0x00, 0xCA, 0x00, 0x00}); !errors.Is(err, ErrCardRemoved) {
		t.Errorf("Transmit after the pull = %v, want ErrCardRemoved", err)
	}
}

func TestIntegrationTransmitCancelled(t *testing.T) {
	d := pcscdtest.Start(t)
	// INS ED: the card says it has the command, then answers only when the test lets it,
	// after the caller has given up.
	arrived, release := make(chan struct{}), make(chan struct{})
	c, _ := connectInserted(t, d, func(apdu []byte) ([]byte, bool) {
		if apdu[1] == 0xED {
			close(arrived)
			<-release
		}
		return []byte{0x90, 0x00}, false
	})
	var once sync.Once
	answer := func() { once.Do(func() { close(release) }) }
	t.Cleanup(answer) // before the card is pulled
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	returned := make(chan error, 1)
	go func() {
		_, err := c.Transmit(ctx, []byte{0x00, 0xED, 0x00, 0x00})
		returned <- err
	}()
	select {
	case <-arrived:
	case err := <-returned:
		t.Fatalf("Transmit = %v before the card had the command", err)
	case <-time.After(waitfor.Timeout):
		t.Fatalf("the card did not get the command within %v", waitfor.Timeout)
	}
	cancel()
	// The card has not answered: Transmit returns because its ctx ended.
	var err error
	waitfor.Returns(t, waitfor.Timeout, "Transmit cancelled while the card holds its answer", func() { err = <-returned })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Transmit = %v, want context.Canceled", err)
	}
	waitfor.Returns(t, waitfor.Timeout, "Transmit on the abandoned connection", func() {
		_, err = c.Transmit(context.Background(), []byte{0x00, 0xCA, 0x00, 0x00})
	})
	if !errors.Is(err, ErrClosed) {
		t.Errorf("Transmit on an abandoned connection = %v, want ErrClosed", err)
	}
	waitfor.Returns(t, waitfor.Timeout, "Close of the abandoned connection", func() { err = c.Close() })
	if err != nil {
		t.Errorf("Close of an abandoned connection = %v", err)
	}
	// The abandoned call finishes when the card answers, then resets the card and releases
	// its context: a new connection works.
	answer()
	waitfor.Until(t, waitfor.Timeout, "the abandoned call's teardown", func() bool { return released(c) })
	connectWorking(t, d, "after the abandoned call").Close()
}

// released reports whether c's PC/SC context is released: for an abandoned call, its
// teardown (disconnect resetting the card, then release) is over.
func released(c *Conn) bool {
	valid, _ := c.sc.IsValid()
	return !valid
}

// connectWorking waits until a new connection to reader 0 transmits, and returns it.
func connectWorking(tb testing.TB, d *pcscdtest.Daemon, when string) *Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitfor.Timeout)
	defer cancel()
	var c *Conn
	var err error
	working := func() bool {
		c, err = Connect(ctx, d.Readers()[0].Name, ConnectOptions{})
		if err != nil {
			return false
		}
		if _, err = c.Transmit(ctx, []byte{0x00, 0xCA, 0x00, 0x00}); err != nil {
			_ = c.Close()
			return false
		}
		return true
	}
	if waitfor.Context(ctx, working) != nil {
		tb.Fatalf("no working connection %s within %v: %v", when, waitfor.Timeout, err)
	}
	return c
}

func TestIntegrationConnPCSCDKilled(t *testing.T) {
	d := pcscdtest.Start(t)
	c, _ := connectInserted(t, d, nil)
	d.Kill(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Transmit(ctx, []byte{0x00, 0xCA, 0x00, 0x00}); !errors.Is(err, ErrNoService) {
		t.Fatalf("Transmit with pcscd dead = %v, want ErrNoService", err)
	}
	if err := c.CloseReset(); err != nil {
		t.Errorf("CloseReset with pcscd dead = %v, want nil (nothing left to close)", err)
	}
	d.Start(t)
	// A connection made before the restart stays dead; a new one works once the card is back.
	card := insertVPCD(t, d.VPCDAddr(0), nil)
	defer card.pull()
	connectWorking(t, d, "after pcscd restarted").Close()
}
