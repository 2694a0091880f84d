package waitfor

import (
	"testing"
	"time"
)

// Returns runs f on a goroutine of its own and waits for it to return. If timeout passes
// first it fails tb with "<what> did not return within <timeout>", leaving f running: a guard
// for a call that must not block, which would otherwise hang the test. f must not call tb's
// Fatal methods; results are safe to read once Returns returns.
func Returns(tb testing.TB, timeout time.Duration, what string, f func()) {
	tb.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		tb.Fatalf("%s did not return within %v", what, timeout)
	}
}
