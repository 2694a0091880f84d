package waitfor

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// fakeTB records Fatalf instead of ending the test.
type fakeTB struct {
	testing.TB
	fatal string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
}

func TestUntilReturnsOnceTheConditionHolds(t *testing.T) {
	calls := 0
	tb := &fakeTB{TB: t}
	Until(tb, Timeout, "the third call", func() bool { calls++; return calls == 3 })
	if tb.fatal != "" || calls != 3 {
		t.Errorf("Until: fatal %q after %d calls, want none after 3", tb.fatal, calls)
	}
}

func TestUntilSeesAnotherGoroutine(t *testing.T) {
	var done atomic.Bool
	go done.Store(true)
	Until(t, Timeout, "the goroutine's store", done.Load)
}

func TestUntilFailsWithWhatAndTimeout(t *testing.T) {
	tb := &fakeTB{TB: t}
	Until(tb, 20*time.Millisecond, "the impossible", func() bool { return false })
	if want := "the impossible did not happen within 20ms"; tb.fatal != want {
		t.Errorf("Fatalf(%q), want %q", tb.fatal, want)
	}
}

func TestContextEnded(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	if err := Context(ctx, func() bool { calls++; return false }); !errors.Is(err, context.Canceled) {
		t.Errorf("Context = %v, want context.Canceled", err)
	}
	if calls != 1 {
		t.Errorf("cond called %d times, want once", calls)
	}
	if err := Context(ctx, func() bool { return true }); err != nil {
		t.Errorf("Context with the condition already true = %v, want nil", err)
	}
}
