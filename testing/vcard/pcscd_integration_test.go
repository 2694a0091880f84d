//go:build integration

package vcard

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ebfe/scard"

	"smartpath/testing/pcscdtest"
	"smartpath/testing/pki"
)

// inserted is a card inserted into a vpcd reader of the test's pcscd.
type inserted struct {
	cancel context.CancelFunc
	done   chan error
}

// insertCard inserts c into reader i and waits until pcscd reports the card present. The
// card is removed (and the reader seen empty) when the test ends or remove is called.
func insertCard(t *testing.T, d *pcscdtest.Daemon, i int, c *Card) *inserted {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	in := &inserted{cancel: cancel, done: make(chan error, 1)}
	go func() { in.done <- Insert(ctx, c, d.VPCDAddr(i)) }()
	waitReader(t, d.Readers()[i].Name, true)
	t.Cleanup(func() { in.remove(t, d, i) })
	return in
}

// remove pulls the card and waits until pcscd has seen the reader empty, so that the next
// insertion is seen as a new card.
func (in *inserted) remove(t *testing.T, d *pcscdtest.Daemon, i int) {
	t.Helper()
	if in.cancel == nil {
		return
	}
	in.cancel()
	in.cancel = nil
	if err := <-in.done; err != nil && !errors.Is(err, ErrDropped) {
		t.Errorf("Insert: %v", err)
	}
	waitReader(t, d.Readers()[i].Name, false)
}

// waitReader waits (event-driven, GetStatusChange) until reader reports a card present or
// empty, failing after 10 s.
func waitReader(t *testing.T, reader string, present bool) {
	t.Helper()
	sc, err := scard.EstablishContext()
	if err != nil {
		t.Fatalf("PC/SC context: %v", err)
	}
	defer sc.Release()
	want := scard.StatePresent
	if !present {
		want = scard.StateEmpty
	}
	rs := []scard.ReaderState{{Reader: reader, CurrentState: scard.StateUnaware}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("reader %q: card present=%v not reported within 10s (state %v)", reader, present, rs[0].EventState)
		}
		err := sc.GetStatusChange(rs, left)
		if err != nil && !errors.Is(err, scard.ErrTimeout) {
			t.Fatalf("GetStatusChange: %v", err)
		}
		if rs[0].EventState&want != 0 {
			return
		}
		rs[0].CurrentState = rs[0].EventState &^ scard.StateChanged
	}
}

// connect opens a PC/SC connection to the card in reader.
func connect(t *testing.T, reader string) *scard.Card {
	t.Helper()
	sc, err := scard.EstablishContext()
	if err != nil {
		t.Fatalf("PC/SC context: %v", err)
	}
	t.Cleanup(func() { sc.Release() })
	card, err := sc.Connect(reader, scard.ShareShared, scard.ProtocolAny)
	if err != nil {
		t.Fatalf("connect %q: %v", reader, err)
	}
	t.Cleanup(func() { card.Disconnect(scard.ResetCard) })
	return card
}

func TestThroughPCSCD(t *testing.T) {
	d := pcscdtest.Start(t)
	c, _ := citizenCard(t, AlgP256)
	in := insertCard(t, d, 0, c)
	card := connect(t, d.Readers()[0].Name)

	st, err := card.Status()
	if err != nil {
		t.Fatal(err)
	}
	if string(st.Atr) != string(c.ATR()) {
		t.Errorf("pcscd reports ATR %X, want %X", st.Atr, c.ATR())
	}
	resp, err := card.Transmit(mustHex(t, "00 A4 04 00 09 A0 00 00 03 08 00 00 10 00 00"))
	if err != nil || len(resp) < 2 || resp[len(resp)-2] != 0x90 {
		t.Fatalf("SELECT: %X %v", resp, err)
	}
	// A long object in a 61xx chain, through pcscd.
	resp, err = card.Transmit(mustHex(t, "00 CB 3F FF 05 5C 03 5F C1 05 00"))
	if err != nil || len(resp) != 258 || resp[256] != 0x61 {
		t.Fatalf("GET DATA: %d bytes %v", len(resp), err)
	}
	resp, err = card.Transmit(append(mustHex(t, "00 20 00 80 08"), pad8([]byte("999999"))...))
	if err != nil || string(resp) != "\x63\xC2" {
		t.Fatalf("wrong PIN: %X %v", resp, err)
	}

	// Pulled in the middle: the APDU does not hang. vpcd answers an APDU whose card went
	// away with an empty response (no status word) and success; the next one fails.
	c.SetEmulation(Emulation{DropAtAPDU: 1})
	if resp, err := card.Transmit(mustHex(t, "00 20 00 80")); err == nil && len(resp) >= 2 {
		t.Fatalf("transmit to a pulled card answered %X", resp)
	}
	if err := <-in.done; !errors.Is(err, ErrDropped) {
		t.Fatalf("Insert = %v, want ErrDropped", err)
	}
	in.cancel = nil
	waitReader(t, d.Readers()[0].Name, false)
	if c.PINTriesLeft() != 2 {
		t.Errorf("tries left %d after one wrong PIN", c.PINTriesLeft())
	}
}

func TestServeAcrossPCSCDRestart(t *testing.T) {
	d := pcscdtest.Start(t)
	c, _ := New(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	lost := make(chan error, 4)
	go func() {
		done <- Serve(ctx, c, d.VPCDAddr(1), func(err error) {
			select {
			case lost <- err:
			default:
			}
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	waitReader(t, d.Readers()[1].Name, true)
	d.Kill(t)
	select {
	case err := <-lost:
		if !errors.Is(err, ErrVPCDClosed) {
			t.Errorf("lost connection reported as %v, want ErrVPCDClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not notice pcscd dying")
	}
	d.Start(t)
	waitReader(t, d.Readers()[1].Name, true)
	card := connect(t, d.Readers()[1].Name)
	resp, err := card.Transmit(mustHex(t, "00 FD 00 00 00"))
	if err != nil || len(resp) != 5 {
		t.Fatalf("after pcscd restart: %X %v", resp, err)
	}
}

// BenchmarkVPCDRoundTrip measures one short APDU through pcscd and vpcd (TCP_QUICKACK makes
// it sub-millisecond; without it each APDU waits ~40 ms for a delayed ACK).
func BenchmarkVPCDRoundTrip(b *testing.B) {
	d := pcscdtest.Start(b)
	c, _ := New(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Insert(ctx, c, d.VPCDAddr(0)) }()
	defer func() { cancel(); <-done }()
	sc, err := scard.EstablishContext()
	if err != nil {
		b.Fatal(err)
	}
	defer sc.Release()
	var card *scard.Card
	for deadline := time.Now().Add(10 * time.Second); ; {
		card, err = sc.Connect(d.Readers()[0].Name, scard.ShareShared, scard.ProtocolAny)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("connect: %v", err)
		}
		rs := []scard.ReaderState{{Reader: d.Readers()[0].Name, CurrentState: scard.StateEmpty}}
		_ = sc.GetStatusChange(rs, time.Second)
	}
	defer card.Disconnect(scard.LeaveCard)
	apdu := []byte{0x00, 0xFD, 0x00, 0x00, 0x00}
	b.ResetTimer()
	for b.Loop() {
		if _, err := card.Transmit(apdu); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/apdu")
}

// TestExtendedLengthThroughPCSCD: a card that advertises extended Lc/Le gets extended APDUs
// through pcscd and vpcd, and answers a whole certificate in one response.
func TestExtendedLengthThroughPCSCD(t *testing.T) {
	d := pcscdtest.Start(t)
	p, err := pki.New("extended")
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCitizenCard(p, Citizen{Name: "Jane Citizen", Number: "C-1001", Alg: AlgP256, Options: Options{ExtendedLength: true}})
	if err != nil {
		t.Fatal(err)
	}
	insertCard(t, d, 0, c)
	card := connect(t, d.Readers()[0].Name)
	obj, _ := c.Object(tagCertAuth)
	resp, err := card.Transmit(mustHex(t, "00 CB 3F FF 00 00 05 5C 03 5F C1 05 00 00"))
	if err != nil {
		t.Fatal(err)
	}
	if want := append(tlv(0x53, obj), 0x90, 0x00); !bytes.Equal(resp, want) {
		t.Fatalf("extended GET DATA: %d bytes, want %d", len(resp), len(want))
	}
}
