package uilink

import (
	"sync"
	"sync/atomic"
	"testing"
)

// The connection bound holds when many UIs dial at once: connections being upgraded count,
// so simultaneous dials cannot all pass the check before any of them is registered.
func TestConnectionLimitUnderConcurrentDials(t *testing.T) {
	const limit, dials = 3, 16
	ts := newTestServer(t, func(o *Options) { o.MaxConnections = limit })
	var wg sync.WaitGroup
	var accepted atomic.Int32
	start := make(chan struct{})
	for range dials {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, _, err := ts.dial(t, testOrigin, ts.token); err == nil {
				accepted.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if got := accepted.Load(); got != limit {
		t.Fatalf("%d of %d simultaneous dials were accepted, want exactly %d", got, dials, limit)
	}
}
