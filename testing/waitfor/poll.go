package waitfor

import (
	"context"
	"testing"
	"time"
)

// Timeout is the deadline for a condition that holds in milliseconds on an idle machine: long
// enough that only a hang reaches it.
const Timeout = 30 * time.Second

// The pause between two polls starts at firstPause and doubles up to maxPause: a condition that
// holds at once is seen at once, one that takes a while costs little CPU.
const (
	firstPause = 5 * time.Millisecond
	maxPause   = 50 * time.Millisecond
)

// Until polls cond until it returns true. If timeout passes first it fails tb with
// "<what> did not happen within <timeout>". Call it from the test's goroutine (it calls
// tb.Fatalf).
func Until(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if Context(ctx, cond) != nil {
		tb.Fatalf("%s did not happen within %v", what, timeout)
	}
}

// Context polls cond until it returns true, and then returns nil; if ctx ends first it
// returns ctx.Err(). cond is called at least once, even with ctx already done.
func Context(ctx context.Context, cond func() bool) error {
	pause := firstPause
	t := time.NewTimer(pause)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		pause = min(2*pause, maxPause)
		t.Reset(pause)
	}
	return nil
}
