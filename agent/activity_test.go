package agent

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestActivityThrottle(t *testing.T) {
	var sent atomic.Int32
	var now atomic.Int64
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	now.Store(start.UnixNano())
	a := newActivityThrottle(time.Second, func() { sent.Add(1) })
	a.now = func() time.Time { return time.Unix(0, now.Load()) }
	at := func(d time.Duration) { now.Store(start.Add(d).UnixNano()) }

	// A page load: many requests at once, from many goroutines.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				a.request()
			}
		})
	}
	wg.Wait()
	if got := sent.Load(); got != 1 {
		t.Fatalf("400 concurrent requests sent %d activities, want 1", got)
	}
	for _, step := range []struct {
		at   time.Duration
		want int32
	}{
		{999 * time.Millisecond, 1},
		{time.Second, 2},
		{1500 * time.Millisecond, 2},
		{2 * time.Second, 3},
		{10 * time.Second, 4},
		{10*time.Second + time.Millisecond, 4},
	} {
		at(step.at)
		a.request()
		if got := sent.Load(); got != step.want {
			t.Errorf("after a request at +%v: %d activities sent, want %d", step.at, got, step.want)
		}
	}
}
