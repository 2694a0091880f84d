package pcsc

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"smartpath/testing/waitfor"
)

// runMonitor starts a Monitor over f and returns its event channel; the test's cleanup
// cancels it, waits for Run to return nil and checks that no goroutine is left.
func runMonitor(t *testing.T, f *fakePCSC) (*Monitor, <-chan Event) {
	t.Helper()
	m := NewMonitor(MonitorOptions{BackoffMin: time.Millisecond, BackoffMax: 4 * time.Millisecond, api: f})
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan Event)
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
			t.Fatal("Run did not return after cancel")
		}
		goleak.VerifyNone(t)
	})
	return m, events
}

// expect reads the next events and compares them with want, written as "kind reader [ATR]".
func expect(t *testing.T, events <-chan Event, want ...string) {
	t.Helper()
	for i, w := range want {
		select {
		case ev := <-events:
			if got := describe(ev); got != w {
				t.Fatalf("event %d = %q, want %q", i, got, w)
			}
			if ev.At.IsZero() {
				t.Errorf("event %q has no time", describe(ev))
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no event %d, want %q", i, w)
		}
	}
}

func describe(ev Event) string {
	s := strings.ReplaceAll(ev.Kind.String(), " ", "-")
	if ev.Reader != "" {
		s += " " + ev.Reader
	}
	if len(ev.ATR) > 0 {
		s += fmt.Sprintf(" %X", ev.ATR)
	}
	return s
}

var (
	atr1 = []byte{0x3B, 0x01}
	atr2 = []byte{0x3B, 0x02}
)

func TestMonitorInsertRemoveHotplug(t *testing.T) {
	f := newFakePCSC("A", "B")
	f.insert("A", atr1)
	m, events := runMonitor(t, f)
	expect(t, events, "reader-added A", "reader-added B", "card-inserted A 3B01")

	f.insert("B", atr2)
	expect(t, events, "card-inserted B 3B02")
	f.remove("A")
	expect(t, events, "card-removed A")

	f.addReader("C")
	expect(t, events, "reader-added C")
	f.insert("C", atr1)
	expect(t, events, "card-inserted C 3B01")

	f.removeReader("B") // with its card
	expect(t, events, "card-removed B", "reader-removed B")

	f.swap("C", atr1) // out and in again between two waits, same ATR
	expect(t, events, "card-removed C", "card-inserted C 3B01")
	f.swap("C", atr2)
	expect(t, events, "card-removed C", "card-inserted C 3B02")

	got := m.Snapshot()
	want := []ReaderStatus{{Reader: "A"}, {Reader: "C", CardPresent: true, ATR: atr2}}
	if len(got) != len(want) {
		t.Fatalf("Snapshot = %+v", got)
	}
	for i := range want {
		if got[i].Reader != want[i].Reader || got[i].CardPresent != want[i].CardPresent || !bytes.Equal(got[i].ATR, want[i].ATR) {
			t.Fatalf("Snapshot = %+v, want %+v", got, want)
		}
	}
}

func TestMonitorNoReaders(t *testing.T) {
	f := newFakePCSC()
	_, events := runMonitor(t, f)
	f.addReader("A")
	expect(t, events, "reader-added A")
	f.insert("A", atr1)
	expect(t, events, "card-inserted A 3B01")
}

func TestMonitorWaitsWithoutSpinning(t *testing.T) {
	f := newFakePCSC("A", "B")
	_, events := runMonitor(t, f)
	expect(t, events, "reader-added A", "reader-added B")
	for i := range 20 {
		f.insert("A", atr1)
		expect(t, events, "card-inserted A 3B01")
		f.remove("A")
		expect(t, events, "card-removed A")
		if _, waits := f.stats(); waits > 2*(i+1)+2 {
			t.Fatalf("%d waits for %d changes: the monitor is polling", waits, 2*(i+1))
		}
	}
	if est, _ := f.stats(); est != 1 {
		t.Fatalf("%d contexts established without a failure", est)
	}
}

func TestMonitorServiceRestart(t *testing.T) {
	f := newFakePCSC("A", "B", "C")
	f.insert("A", atr1)
	f.insert("C", atr2)
	_, events := runMonitor(t, f)
	expect(t, events, "reader-added A", "reader-added B", "reader-added C", "card-inserted A 3B01", "card-inserted C 3B02")

	f.kill()
	expect(t, events, "service-lost")
	// While pcscd is down: A's card is pulled, a card goes into B, reader C is unplugged
	// and D plugged in.
	f.remove("A")
	f.insert("B", atr2)
	f.removeReader("C")
	f.addReader("D")
	// Several failed attempts to reach it give no more events.
	waitfor.Until(t, waitfor.Timeout, "four attempts to reach pcscd", func() bool { est, _ := f.stats(); return est >= 4 })
	f.start()
	expect(t, events, "service-restored",
		"card-removed A", // cards from before the outage: gone, or reset by the restart
		"card-removed C",
		"reader-removed C",
		"reader-added D",
		"card-inserted B 3B02",
	)

	// A card that stays in through an outage is reported removed and inserted again.
	f.kill()
	expect(t, events, "service-lost")
	f.start()
	expect(t, events, "service-restored", "card-removed B", "card-inserted B 3B02")

	// And the monitor works on the new context.
	f.insert("A", atr1)
	expect(t, events, "card-inserted A 3B01")
}

func TestMonitorStartsWithoutService(t *testing.T) {
	f := newFakePCSC("A")
	f.kill()
	_, events := runMonitor(t, f)
	expect(t, events, "service-lost")
	f.insert("A", atr1)
	f.start()
	expect(t, events, "service-restored", "reader-added A", "card-inserted A 3B01")
}

func TestMonitorCancel(t *testing.T) {
	// pcsc-lite drops a cancel that arrives just before the wait starts; Run must still
	// return every time.
	for i := range 200 {
		f := newFakePCSC("A")
		m := NewMonitor(MonitorOptions{api: f})
		ctx, cancel := context.WithCancel(context.Background())
		events := make(chan Event, 10)
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx, events) }()
		if i%2 == 0 {
			<-events // let it reach the wait on half the runs
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Run = %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("run %d: Run did not return after cancel", i)
		}
	}
	goleak.VerifyNone(t)
}

func TestMonitorCancelWhileConsumerIsAway(t *testing.T) {
	f := newFakePCSC("A")
	m := NewMonitor(MonitorOptions{api: f})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, make(chan Event)) }() // nobody reads
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	goleak.VerifyNone(t)
}

func TestMonitorRunTwice(t *testing.T) {
	f := newFakePCSC("A")
	m, events := runMonitor(t, f)
	expect(t, events, "reader-added A")
	if err := m.Run(context.Background(), make(chan Event)); err == nil {
		t.Fatal("a second Run did not fail")
	}
}

func TestMonitorReaderGoneBeforeWait(t *testing.T) {
	f := newFakePCSC("A")
	f.ghost = "Ghost"
	_, events := runMonitor(t, f)
	expect(t, events, "reader-added A", "reader-added Ghost", "reader-removed Ghost")
	f.insert("A", atr1)
	expect(t, events, "card-inserted A 3B01")
	if est, _ := f.stats(); est != 1 {
		t.Fatalf("%d contexts established: an unknown reader was taken for a service failure", est)
	}
}
