package pcsc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ebfe/scard"
)

// EventKind says what happened to a reader or to the PC/SC service.
type EventKind int

// The kinds of [Event].
const (
	ReaderAdded EventKind = iota + 1
	ReaderRemoved
	CardInserted // Event.ATR holds the card's ATR (empty for a mute card)
	CardRemoved
	ServiceLost     // pcscd stopped answering; nothing is observed until ServiceRestored
	ServiceRestored // pcscd answers again; the reader and card changes since follow
)

func (k EventKind) String() string {
	switch k {
	case ReaderAdded:
		return "reader added"
	case ReaderRemoved:
		return "reader removed"
	case CardInserted:
		return "card inserted"
	case CardRemoved:
		return "card removed"
	case ServiceLost:
		return "service lost"
	case ServiceRestored:
		return "service restored"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is a change the [Monitor] observed.
type Event struct {
	Kind   EventKind
	Reader string    // empty for ServiceLost and ServiceRestored
	ATR    []byte    // CardInserted only
	At     time.Time // when the Monitor saw the change and sent the event
}

func (e Event) String() string {
	switch e.Kind {
	case CardInserted:
		return fmt.Sprintf("%v in %q (ATR %X)", e.Kind, e.Reader, e.ATR)
	case ServiceLost, ServiceRestored:
		return e.Kind.String()
	}
	return fmt.Sprintf("%v: %q", e.Kind, e.Reader)
}

// ReaderStatus is what the Monitor last reported about one reader.
type ReaderStatus struct {
	Reader      string
	CardPresent bool
	ATR         []byte
}

// MonitorOptions configure a [Monitor].
type MonitorOptions struct {
	// BackoffMin and BackoffMax bound the wait between attempts to reach pcscd again after
	// it was lost: the wait doubles from BackoffMin to BackoffMax and starts over once pcscd
	// answers. Zero means 50 ms and 2 s.
	BackoffMin, BackoffMax time.Duration

	api pcscAPI // tests replace PC/SC here
}

// Monitor watches every reader through SCardGetStatusChange with no timeout, including
// reader hot-plug through the `\\?PnP?\Notification` pseudo-reader. It has no polling loop:
// while nothing changes it sleeps inside pcsc-lite and uses no CPU.
//
// Run one Monitor per process: github.com/ebfe/scard keeps the reader-name buffers of
// SCardGetStatusChange in a process-wide map keyed by name, so two concurrent waits on the
// same reader would leave one of them reading freed memory.
type Monitor struct {
	opts    MonitorOptions
	running atomic.Bool

	mu      sync.Mutex
	readers map[string]*ReaderStatus // what was last reported
	cur     pcscContext              // the context Run waits on, for Cancel
}

// NewMonitor returns a Monitor; [Monitor.Run] starts it.
func NewMonitor(opts MonitorOptions) *Monitor {
	if opts.BackoffMin <= 0 {
		opts.BackoffMin = 50 * time.Millisecond
	}
	if opts.BackoffMax < opts.BackoffMin {
		opts.BackoffMax = max(2*time.Second, opts.BackoffMin)
	}
	if opts.api == nil {
		opts.api = scardAPI{}
	}
	return &Monitor{opts: opts, readers: map[string]*ReaderStatus{}}
}

// Snapshot returns what the Monitor last reported for each reader, sorted by reader name.
func (m *Monitor) Snapshot() []ReaderStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]ReaderStatus, 0, len(m.readers))
	for _, r := range m.readers {
		out = append(out, ReaderStatus{Reader: r.Reader, CardPresent: r.CardPresent, ATR: slices.Clone(r.ATR)})
	}
	slices.SortFunc(out, func(a, b ReaderStatus) int {
		switch {
		case a.Reader < b.Reader:
			return -1
		case a.Reader > b.Reader:
			return 1
		}
		return 0
	})
	return out
}

// Run watches the readers and sends events until ctx is done, then returns nil.
//
// It starts with a burst describing what is there: ReaderAdded for every reader and
// CardInserted for every card present. Sends block, so the consumer sets the pace; nothing
// is lost while it is busy, because PC/SC keeps the state until the next wait.
//
// When pcscd dies or restarts (0x80100013, 0x8010001D, 0x8010001E, or any other failure
// of the PC/SC context) Run sends ServiceLost once, releases its context and establishes a
// new one with exponential backoff. Once pcscd answers it sends ServiceRestored, then the
// difference from what it reported before: a card that was in a reader before the outage is
// reported CardRemoved (a restarted pcscd powers the card off and on, so its PIN state and
// any connection to it are gone), readers that went away ReaderRemoved, new readers
// ReaderAdded, and every card present now CardInserted.
//
// On cancellation Run calls SCardCancel on its own context, which is never used for card
// I/O. Run returns an error only if it is already running.
func (m *Monitor) Run(ctx context.Context, events chan<- Event) error {
	if !m.running.CompareAndSwap(false, true) {
		return errors.New("pcsc: Monitor.Run is already running")
	}
	defer m.running.Store(false)

	exited := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		m.cancelWhenDone(ctx, exited)
	}()
	defer func() {
		close(exited)
		wg.Wait()
	}()

	backoff := m.opts.BackoffMin
	lost := false
	for {
		if ctx.Err() != nil {
			return nil
		}
		pc, err := m.opts.api.establish()
		if err == nil {
			m.setCurrent(pc)
			var answered bool
			answered, err = m.watch(ctx, pc, events, &lost)
			m.setCurrent(nil)
			_ = pc.release()
			if answered {
				backoff = m.opts.BackoffMin
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		if !lost {
			lost = true
			if m.emit(ctx, events, Event{Kind: ServiceLost}) != nil {
				return nil
			}
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(2*backoff, m.opts.BackoffMax)
	}
}

// cancelWhenDone stops a waiting SCardGetStatusChange once ctx is done. pcsc-lite drops a
// cancel that arrives just before the wait starts, so it repeats (1 ms, 2 ms, … 100 ms)
// until Run has returned.
func (m *Monitor) cancelWhenDone(ctx context.Context, exited <-chan struct{}) {
	select {
	case <-exited:
		return
	case <-ctx.Done():
	}
	wait := time.Millisecond
	for {
		m.mu.Lock()
		if m.cur != nil {
			_ = m.cur.cancel()
		}
		m.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-exited:
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

func (m *Monitor) setCurrent(pc pcscContext) {
	m.mu.Lock()
	m.cur = pc
	m.mu.Unlock()
}

// watch follows one PC/SC context until it fails or ctx is done. answered reports that pcscd
// answered on it (the backoff starts over).
func (m *Monitor) watch(ctx context.Context, pc pcscContext, events chan<- Event, lost *bool) (answered bool, err error) {
	names, err := pc.listReaders()
	if err != nil {
		return false, err
	}
	answered = true
	if *lost {
		*lost = false
		if err := m.emit(ctx, events, Event{Kind: ServiceRestored}); err != nil {
			return true, nil
		}
		for _, r := range m.Snapshot() {
			if r.CardPresent {
				if err := m.cardRemoved(ctx, events, r.Reader); err != nil {
					return true, nil
				}
			}
		}
	}
	states, err := m.syncReaders(ctx, events, names, nil)
	if err != nil {
		return true, nil
	}
	pnp := readerState{reader: pnpReader, current: uint32(len(names)) << 16}
	unknownInARow := 0
	for {
		if ctx.Err() != nil {
			return true, nil
		}
		all := append(states, pnp)
		err := pc.getStatusChange(all)
		relist := false
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return true, nil
		case errors.Is(err, ErrCancelled):
			continue
		case errors.Is(err, ErrReaderUnavailable) && unknownInARow < 3:
			// A reader went away between SCardListReaders and the wait. (Should
			// pcscd keep listing a reader it says it does not know, the context is
			// treated as failed instead of spinning.)
			relist = true
			unknownInARow++
		default:
			return true, err
		}
		if err == nil {
			unknownInARow = 0
			copy(states, all) // all may or may not share states' array
			for i := range states {
				if err := m.update(ctx, events, &states[i]); err != nil {
					return true, nil
				}
				if states[i].event&uint32(scard.StateUnknown) != 0 {
					relist = true
				}
			}
			pnp = all[len(all)-1]
			if pnp.event&uint32(scard.StateChanged) != 0 {
				relist = true
				pnp.current = pnp.event &^ uint32(scard.StateChanged)
			}
		}
		if relist {
			names, err := pc.listReaders()
			if err != nil {
				return true, err
			}
			if states, err = m.syncReaders(ctx, events, names, states); err != nil {
				return true, nil
			}
			pnp.current = uint32(len(names))<<16 | pnp.current&0xFFFF
		}
	}
}

// syncReaders reports readers that appeared or went away and returns the wait states for
// names, keeping the current state of readers already watched (new ones start unaware, so
// the next wait returns their state at once).
func (m *Monitor) syncReaders(ctx context.Context, events chan<- Event, names []string, old []readerState) ([]readerState, error) {
	for _, r := range m.Snapshot() {
		if slices.Contains(names, r.Reader) {
			continue
		}
		if r.CardPresent {
			if err := m.cardRemoved(ctx, events, r.Reader); err != nil {
				return nil, err
			}
		}
		m.mu.Lock()
		delete(m.readers, r.Reader)
		m.mu.Unlock()
		if err := m.emit(ctx, events, Event{Kind: ReaderRemoved, Reader: r.Reader}); err != nil {
			return nil, err
		}
	}
	states := make([]readerState, 0, len(names)+1)
	for _, name := range names {
		if name == pnpReader {
			continue
		}
		i := slices.IndexFunc(old, func(s readerState) bool { return s.reader == name })
		if i >= 0 {
			states = append(states, readerState{reader: name, current: old[i].current})
		} else {
			states = append(states, readerState{reader: name, current: uint32(scard.StateUnaware)})
		}
		m.mu.Lock()
		_, known := m.readers[name]
		if !known {
			m.readers[name] = &ReaderStatus{Reader: name}
		}
		m.mu.Unlock()
		if !known {
			if err := m.emit(ctx, events, Event{Kind: ReaderAdded, Reader: name}); err != nil {
				return nil, err
			}
		}
	}
	return states, nil
}

// update reports the card change one wait found in a reader and makes its event state the
// current state for the next wait.
func (m *Monitor) update(ctx context.Context, events chan<- Event, s *readerState) error {
	if s.event&uint32(scard.StateChanged) == 0 {
		return nil
	}
	flags, prev := s.event, s.current
	s.current = flags &^ uint32(scard.StateChanged)
	if flags&uint32(scard.StateUnknown) != 0 {
		return nil // the reader is gone: the re-list reports it
	}
	present := flags&uint32(scard.StatePresent) != 0 && flags&uint32(scard.StateUnavailable) == 0
	m.mu.Lock()
	r := m.readers[s.reader]
	if r == nil {
		r = &ReaderStatus{Reader: s.reader}
		m.readers[s.reader] = r
	}
	was, wasATR := r.CardPresent, r.ATR
	m.mu.Unlock()

	// pcsc-lite counts insertions and removals in the upper 16 bits: a different count, or a
	// different ATR, with a card present both times means the card was swapped in between.
	// The count means nothing on the first wait of a context (prev unaware).
	countChanged := prev != uint32(scard.StateUnaware) && prev>>16 != flags>>16
	swapped := was && present && (countChanged || !bytes.Equal(wasATR, s.atr))
	if was && (!present || swapped) {
		if err := m.cardRemoved(ctx, events, s.reader); err != nil {
			return err
		}
	}
	if present && (!was || swapped) {
		m.mu.Lock()
		r.CardPresent, r.ATR = true, slices.Clone(s.atr)
		m.mu.Unlock()
		return m.emit(ctx, events, Event{Kind: CardInserted, Reader: s.reader, ATR: slices.Clone(s.atr)})
	}
	return nil
}

func (m *Monitor) cardRemoved(ctx context.Context, events chan<- Event, reader string) error {
	m.mu.Lock()
	if r := m.readers[reader]; r != nil {
		r.CardPresent, r.ATR = false, nil
	}
	m.mu.Unlock()
	return m.emit(ctx, events, Event{Kind: CardRemoved, Reader: reader})
}

func (m *Monitor) emit(ctx context.Context, events chan<- Event, ev Event) error {
	ev.At = time.Now()
	select {
	case events <- ev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
