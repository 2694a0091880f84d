package portal

import "sync"

// inflight counts running handlers so that Close can wait for them, and refuses new ones
// once closing has begun (a WaitGroup alone would race Add against Wait).
type inflight struct {
	mu      sync.Mutex
	closing bool
	wg      sync.WaitGroup
}

func (f *inflight) enter() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing {
		return false
	}
	f.wg.Add(1)
	return true
}

func (f *inflight) leave() { f.wg.Done() }

func (f *inflight) closeAndWait() {
	f.mu.Lock()
	f.closing = true
	f.mu.Unlock()
	f.wg.Wait()
}
