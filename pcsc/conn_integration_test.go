//go:build integration

package pcsc

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"smartpath/testing/pcscdtest"
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
	// INS ED: the card answers after 500 ms, far later than the caller is willing to wait.
	c, _ := connectInserted(t, d, func(apdu []byte) ([]byte, bool) {
		if apdu[1] == 0xED {
			time.Sleep(500 * time.Millisecond)
		}
		return []byte{0x90, 0x00}, false
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Transmit(ctx, []byte{0x00, 0xED, 0x00, 0x00})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Transmit = %v, want DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 300*time.Millisecond {
		t.Errorf("Transmit returned %v after its deadline", took)
	}
	if _, err := c.Transmit(context.Background(), []byte{0x00, 0xCA, 0x00, 0x00}); !errors.Is(err, ErrClosed) {
		t.Errorf("Transmit on an abandoned connection = %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close of an abandoned connection = %v", err)
	}
	// The abandoned call finishes when the card answers, then resets the card: a new
	// connection works.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c2, err := Connect(context.Background(), d.Readers()[0].Name, ConnectOptions{})
		if err == nil {
			_, err = c2.Transmit(context.Background(), []byte{0x00, 0xCA, 0x00, 0x00})
			_ = c2.Close()
			if err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no working connection after the abandoned call: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
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
	deadline := time.Now().Add(5 * time.Second)
	for {
		c2, err := Connect(ctx, d.Readers()[0].Name, ConnectOptions{})
		if err == nil {
			_, err = c2.Transmit(ctx, []byte{0x00, 0xCA, 0x00, 0x00})
			_ = c2.Close()
			if err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection after pcscd restarted: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
