//go:build integration

package pcsc

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"smartpath/testing/pcscdtest"
)

// pcscdGoroutine is the harness's goroutine that waits for pcscd to exit; it outlives a test
// body until the harness stops pcscd in its cleanup.
var pcscdGoroutine = goleak.IgnoreAnyFunction("smartpath/testing/pcscdtest.(*Daemon).Start.func1")

// startMonitor runs a real Monitor until the test ends; the cleanup checks that Run returned
// nil and left no goroutine behind.
func startMonitor(t *testing.T) (*Monitor, <-chan Event) {
	t.Helper()
	before := goleak.IgnoreCurrent()
	m := NewMonitor(MonitorOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan Event, 64)
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, events) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v, want nil after cancel", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return within 5s of cancel")
		}
		goleak.VerifyNone(t, before, pcscdGoroutine)
	})
	return m, events
}

// waitEvent returns the next event of kind for reader, failing the test after timeout.
// Other events are returned in skipped.
func waitEvent(t *testing.T, events <-chan Event, kind EventKind, reader string, timeout time.Duration) (Event, []Event) {
	t.Helper()
	var skipped []Event
	deadline := time.After(timeout)
	for {
		select {
		case ev := <-events:
			if ev.Kind == kind && ev.Reader == reader {
				return ev, skipped
			}
			skipped = append(skipped, ev)
		case <-deadline:
			t.Fatalf("no %v for %q within %v (other events: %v)", kind, reader, timeout, skipped)
		}
	}
}

// waitEvents waits until every one of want (kind and reader) has arrived, in any order, and
// returns the events that were not wanted.
func waitEvents(t *testing.T, events <-chan Event, timeout time.Duration, want ...Event) []Event {
	t.Helper()
	var others []Event
	deadline := time.After(timeout)
	for len(want) > 0 {
		select {
		case ev := <-events:
			i := slices.IndexFunc(want, func(w Event) bool { return w.Kind == ev.Kind && w.Reader == ev.Reader })
			if i < 0 {
				others = append(others, ev)
				continue
			}
			want = slices.Delete(want, i, i+1)
		case <-deadline:
			t.Fatalf("still waiting for %v after %v (other events: %v)", want, timeout, others)
		}
	}
	return others
}

func TestIntegrationMonitorInsertRemove(t *testing.T) {
	d := pcscdtest.Start(t)
	r0, r1 := d.Readers()[0].Name, d.Readers()[1].Name
	m, events := startMonitor(t)
	waitEvent(t, events, ReaderAdded, r0, 5*time.Second)
	waitEvent(t, events, ReaderAdded, r1, 5*time.Second)

	for range 3 {
		card := insertVPCD(t, d.VPCDAddr(0), nil)
		ev, skipped := waitEvent(t, events, CardInserted, r0, 5*time.Second)
		if !bytes.Equal(ev.ATR, testATR) {
			t.Errorf("ATR = %X, want %X", ev.ATR, testATR)
		}
		if len(skipped) != 0 {
			t.Errorf("unexpected events before the insertion: %v", skipped)
		}
		if s := m.Snapshot(); len(s) != 2 || !s[0].CardPresent || s[1].CardPresent {
			t.Errorf("Snapshot = %+v", s)
		}
		card.pull()
		if _, skipped := waitEvent(t, events, CardRemoved, r0, 5*time.Second); len(skipped) != 0 {
			t.Errorf("unexpected events before the removal: %v", skipped)
		}
	}
}

func TestIntegrationMonitorServiceRestart(t *testing.T) {
	d := pcscdtest.Start(t)
	r0, r1 := d.Readers()[0].Name, d.Readers()[1].Name
	m, events := startMonitor(t)
	stays := insertVPCD(t, d.VPCDAddr(0), nil)
	goes := insertVPCD(t, d.VPCDAddr(1), nil)
	waitEvents(t, events, 5*time.Second, Event{Kind: CardInserted, Reader: r0}, Event{Kind: CardInserted, Reader: r1})

	d.Kill(t)
	waitEvent(t, events, ServiceLost, "", 5*time.Second)
	// pcscd's death closed the vpcd sockets: both cards are out. The card in reader 1 stays
	// out; the one in reader 0 goes back in once pcscd is up again.
	stays.pull()
	goes.pull()
	d.Start(t)
	_ = insertVPCD(t, d.VPCDAddr(0), nil)

	_, skipped := waitEvent(t, events, ServiceRestored, "", 10*time.Second)
	for _, ev := range skipped {
		if ev.Kind == ServiceLost {
			t.Errorf("ServiceLost reported twice")
		}
	}
	ev, after := waitEvent(t, events, CardInserted, r0, 10*time.Second)
	if !bytes.Equal(ev.ATR, testATR) {
		t.Errorf("ATR after restart = %X", ev.ATR)
	}
	removed := map[string]bool{}
	for _, ev := range after {
		switch ev.Kind {
		case CardRemoved:
			removed[ev.Reader] = true
		default:
			t.Errorf("unexpected event after the restart: %v", ev)
		}
	}
	if !removed[r1] {
		t.Errorf("the card pulled during the outage was not reported removed (events: %v)", after)
	}
	if s := m.Snapshot(); len(s) != 2 || !s[0].CardPresent || s[1].CardPresent {
		t.Errorf("Snapshot after the restart = %+v", s)
	}
}

func TestIntegrationMonitorStartsBeforePCSCD(t *testing.T) {
	d := pcscdtest.Start(t)
	r0 := d.Readers()[0].Name
	d.Kill(t)
	_, events := startMonitor(t)
	waitEvent(t, events, ServiceLost, "", 5*time.Second)
	d.Start(t)
	waitEvent(t, events, ServiceRestored, "", 10*time.Second)
	waitEvent(t, events, ReaderAdded, r0, 5*time.Second)
	insertVPCD(t, d.VPCDAddr(0), nil)
	waitEvent(t, events, CardInserted, r0, 5*time.Second)
}
