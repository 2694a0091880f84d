package pcsc

import (
	"slices"
	"sync"

	"github.com/ebfe/scard"
)

// fakePCSC is an in-process pcscd for Monitor unit tests. Like pcsc-lite, it keeps an event
// counter per reader, fails every call on a context from before a restart with
// SCARD_E_NO_SERVICE (and waits with SCARD_F_COMM_ERROR when it dies), and drops an
// SCardCancel that arrives while no wait is in progress.
type fakePCSC struct {
	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change
	up      bool
	gen     int // bumped by start; contexts of older generations are dead
	readers []string
	cards   map[string][]byte // reader → ATR of the card in it
	counter map[string]uint32

	establishes, waits int
	// ghost is listed once by the next SCardListReaders but unknown to the wait, like a
	// reader unplugged between the two calls.
	ghost string
}

func newFakePCSC(readers ...string) *fakePCSC {
	return &fakePCSC{
		changed: make(chan struct{}),
		up:      true,
		readers: readers,
		cards:   map[string][]byte{},
		counter: map[string]uint32{},
	}
}

func (f *fakePCSC) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakePCSC) insert(reader string, atr []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cards[reader] = atr
	f.counter[reader]++
	f.notifyLocked()
}

func (f *fakePCSC) remove(reader string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.cards, reader)
	f.counter[reader]++
	f.notifyLocked()
}

// swap takes the card out and puts one in again between two waits.
func (f *fakePCSC) swap(reader string, atr []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cards[reader] = atr
	f.counter[reader] += 2
	f.notifyLocked()
}

func (f *fakePCSC) addReader(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.readers = append(f.readers, name)
	f.notifyLocked()
}

func (f *fakePCSC) removeReader(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.readers = slices.DeleteFunc(f.readers, func(r string) bool { return r == name })
	delete(f.cards, name)
	f.notifyLocked()
}

func (f *fakePCSC) kill() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.up = false
	f.notifyLocked()
}

// start brings the service back; like a new pcscd, its event counters start over.
func (f *fakePCSC) start() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.up = true
	f.gen++
	f.counter = map[string]uint32{}
	f.notifyLocked()
}

func (f *fakePCSC) stats() (establishes, waits int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.establishes, f.waits
}

func (f *fakePCSC) establish() (pcscContext, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.establishes++
	if !f.up {
		return nil, wrapSCard("SCardEstablishContext", scard.ErrNoService)
	}
	return &fakeContext{f: f, gen: f.gen}, nil
}

type fakeContext struct {
	f         *fakePCSC
	gen       int
	waiting   bool
	cancelled bool
	released  bool
}

func (c *fakeContext) deadLocked() bool { return !c.f.up || c.gen != c.f.gen || c.released }

func (c *fakeContext) listReaders() ([]string, error) {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	if c.deadLocked() {
		return nil, wrapSCard("SCardListReaders", scard.ErrNoService)
	}
	names := slices.Clone(c.f.readers)
	if c.f.ghost != "" {
		names = append(names, c.f.ghost)
		c.f.ghost = ""
	}
	return names, nil
}

func (c *fakeContext) getStatusChange(states []readerState) error {
	f := c.f
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waits++
	if c.deadLocked() {
		return wrapSCard("SCardGetStatusChange", scard.ErrNoService)
	}
	for _, s := range states {
		if s.reader != pnpReader && !slices.Contains(f.readers, s.reader) {
			return wrapSCard("SCardGetStatusChange", scard.ErrUnknownReader)
		}
	}
	for {
		changed := false
		for i := range states {
			s := &states[i]
			if s.reader == pnpReader {
				// Like pcsc-lite: the high word of the caller's current state is the reader
				// count it knows; a different count is a change, whenever it happened (a
				// reader added between the caller's list and this wait included).
				n := uint32(len(f.readers)) << 16
				s.event = n
				if s.current&0xFFFF0000 != n {
					s.event |= uint32(scard.StateChanged)
					changed = true
				}
				continue
			}
			if !slices.Contains(f.readers, s.reader) {
				s.event = uint32(scard.StateUnknown | scard.StateUnavailable)
				if s.current&uint32(scard.StateUnknown) == 0 {
					s.event |= uint32(scard.StateChanged)
					changed = true
				}
				continue
			}
			atr, present := f.cards[s.reader]
			flags := uint32(scard.StateEmpty)
			s.atr = nil
			if present {
				flags = uint32(scard.StatePresent)
				s.atr = slices.Clone(atr)
			}
			flags |= f.counter[s.reader] << 16
			if s.current == uint32(scard.StateUnaware) ||
				s.current&uint32(scard.StatePresent) != flags&uint32(scard.StatePresent) ||
				(s.current>>16 != 0 && s.current>>16 != flags>>16) {
				flags |= uint32(scard.StateChanged)
				changed = true
			}
			s.event = flags
		}
		if changed {
			return nil
		}
		ch := f.changed
		c.waiting = true
		f.mu.Unlock()
		<-ch
		f.mu.Lock()
		c.waiting = false
		if c.cancelled {
			c.cancelled = false
			return wrapSCard("SCardGetStatusChange", scard.ErrCancelled)
		}
		if c.deadLocked() {
			return wrapSCard("SCardGetStatusChange", scard.ErrCommError)
		}
	}
}

func (c *fakeContext) cancel() error {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	if c.waiting { // pcsc-lite drops a cancel that arrives outside a wait
		c.cancelled = true
		c.f.notifyLocked()
	}
	return nil
}

func (c *fakeContext) release() error {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	c.released = true
	return nil
}
