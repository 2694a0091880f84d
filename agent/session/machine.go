package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// wipeTimeout bounds a Wipe's card logout; a card that does not answer by then is left to
// the reset that comes with its removal.
const wipeTimeout = 2 * time.Second

// Machine runs the state machine: one goroutine (Run) applies inputs to decide in order and
// carries out the effects. Card and portal operations run in goroutines of their own, which
// Run cancels at every Wipe and waits for before it returns.
type Machine struct {
	cfg   Config
	deps  Deps
	links Links // from Run; used by the Run goroutine only
	log   *slog.Logger
	clock clock

	in       chan Input
	pins     chan []byte
	results  chan result
	stopping chan struct{} // closed when Run is winding down
	done     chan struct{} // closed when Run has returned
	started  atomic.Bool

	mu       sync.Mutex
	snapshot State
	subs     map[chan State]struct{}

	// Owned by the Run goroutine.
	state      State
	timers     [numTimers]timer
	opCtx      context.Context
	opCancel   context.CancelFunc
	ops        sync.WaitGroup
	cardSem    chan struct{} // serialises calls on Deps.Card
	portal     PortalSession
	cred       *Credential // from the VERIFY that opened the visit, until the wipe
	pinBufs    map[uint64][]byte
	lastHandle uint64
}

// result is the answer of an operation goroutine or a timer.
type result struct {
	in   Input
	cred *Credential   // with VerifyOK
	sess PortalSession // with ConnectOK
}

// New makes a Machine; nothing runs until Run.
func New(cfg Config, deps Deps) *Machine {
	if deps.clock == nil {
		deps.clock = realClock{}
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Machine{
		cfg: cfg, deps: deps, log: log, clock: deps.clock,
		in:       make(chan Input, 64),
		pins:     make(chan []byte, 4),
		results:  make(chan result, 16),
		stopping: make(chan struct{}),
		done:     make(chan struct{}),
		subs:     map[chan State]struct{}{},
		cardSem:  make(chan struct{}, 1),
		pinBufs:  map[uint64][]byte{},
		state:    newState(cfg),
	}
	m.snapshot = m.state
	return m
}

// Run runs the machine until ctx is cancelled, answering the UI and the shell through
// links, then shuts down: it ends any session with a Wipe (which has its own short
// deadline), stops every timer and operation, and returns nil. Run may be called once.
func (m *Machine) Run(ctx context.Context, links Links) error {
	if m.deps.Card == nil || m.deps.Portal == nil {
		return errors.New("session: Deps.Card and Deps.Portal are required")
	}
	if !m.started.CompareAndSwap(false, true) {
		return errors.New("session: Run called twice")
	}
	m.links = links
	m.opCtx, m.opCancel = context.WithCancel(context.Background())
	defer m.shutdown()
	m.publish()
	if m.links.UI != nil {
		m.links.UI.Broadcast(m.state)
	}
	for {
		select {
		case <-ctx.Done():
			m.handle(shutdown{})
			return nil
		case in := <-m.in:
			m.handle(in)
		case pin := <-m.pins:
			m.handlePIN(pin)
		case r := <-m.results:
			m.handleResult(r)
		}
	}
}

func (m *Machine) shutdown() {
	close(m.stopping)
	m.opCancel()
	for id, t := range m.timers {
		if t != nil {
			t.Stop()
			m.timers[id] = nil
		}
	}
	m.ops.Wait()
	if m.portal != nil { // only if the shutdown wipe could not run
		m.portal.Close()
		m.portal = nil
	}
	for h, b := range m.pinBufs {
		clear(b)
		delete(m.pinBufs, h)
	}
	for {
		select {
		case b := <-m.pins:
			clear(b)
			continue
		case r := <-m.results:
			if r.sess != nil {
				r.sess.Close()
			}
			continue
		default:
		}
		break
	}
	close(m.done)
	m.mu.Lock()
	for ch := range m.subs {
		close(ch)
		delete(m.subs, ch)
	}
	m.mu.Unlock()
}

// Send feeds an input (card events, UI messages, PC/SC status). It blocks only while the
// input queue is full, and returns at once after Run has returned. PINs go through SubmitPIN;
// a PINSubmitted sent here is dropped.
func (m *Machine) Send(in Input) {
	if _, ok := in.(pinSubmitted); ok {
		m.log.Error("session: PINSubmitted must come through SubmitPIN; dropped")
		return
	}
	select {
	case m.in <- in:
	case <-m.done:
	}
}

// SubmitPIN hands the citizen's PIN to the machine. It copies pin and zeroes the caller's
// slice before returning; the copy is zeroed right after the one VERIFY it may cause, or at
// once if it causes none (wrong phase, wrong length, not digits).
func (m *Machine) SubmitPIN(pin []byte) {
	buf := make([]byte, len(pin))
	copy(buf, pin)
	clear(pin)
	select {
	case m.pins <- buf:
	case <-m.done:
		clear(buf)
	}
}

// cancel, EndSession, Activity, SetLanguage and SetDisplay send the UI's messages.
func (m *Machine) Cancel()                 { m.Send(cancel{}) }
func (m *Machine) EndSession()             { m.Send(endSession{}) }
func (m *Machine) Activity()               { m.Send(activity{At: m.clock.Now()}) }
func (m *Machine) SetLanguage(lang string) { m.Send(Language{Lang: lang}) }
func (m *Machine) SetDisplay(largeText, highContrast bool) {
	m.Send(displayChoice{LargeText: largeText, HighContrast: highContrast})
}

// shellConnected, ShellLost and ShellWiped report the kiosk shell's channel (see Shell).
func (m *Machine) ShellConnected(conn uint64)  { m.Send(shellConnected{Conn: conn}) }
func (m *Machine) ShellLost(conn uint64)       { m.Send(shellLost{Conn: conn}) }
func (m *Machine) ShellWiped(conn, gen uint64) { m.Send(shellWiped{Conn: conn, Gen: gen}) }

// State is the latest state.
func (m *Machine) State() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.snapshot
}

// Subscribe returns a channel that holds the latest state: a slow reader misses intermediate
// states but always gets the newest. It is for observers that need the state, not its
// order with the wipe (the tests, the benchmarks, the fleet link); the UI link gets its
// ordered stream through Links.UI. A state reaches subscribers once its effects are carried
// out, so after the UI. The channel is closed by cancel or when Run returns.
func (m *Machine) Subscribe() (<-chan State, func()) {
	ch := make(chan State, 1)
	m.mu.Lock()
	select {
	case <-m.done:
		close(ch)
		m.mu.Unlock()
		return ch, func() {}
	default:
	}
	m.subs[ch] = struct{}{}
	ch <- m.snapshot
	m.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			m.mu.Lock()
			if _, ok := m.subs[ch]; ok {
				delete(m.subs, ch)
				close(ch)
			}
			m.mu.Unlock()
		})
	}
}

func (m *Machine) publish() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.snapshot = m.state
	for ch := range m.subs {
		select {
		case <-ch: // drop the stale one
		default:
		}
		ch <- m.state
	}
}

// post delivers a result unless Run is winding down.
func (m *Machine) post(r result) bool {
	select {
	case m.results <- r:
		return true
	case <-m.stopping:
		return false
	}
}

func (m *Machine) handlePIN(pin []byte) {
	digits := len(pin) > 0
	for _, c := range pin {
		if c < '0' || c > '9' {
			digits = false
		}
	}
	m.lastHandle++
	h := m.lastHandle
	m.pinBufs[h] = pin
	m.handle(pinSubmitted{Handle: h, Len: len(pin), Digits: digits})
	if b, ok := m.pinBufs[h]; ok { // not sent to the card: zero it now
		clear(b)
		delete(m.pinBufs, h)
		m.log.Info("session: PIN submission ignored", "phase", m.state.Phase)
	}
}

func (m *Machine) handleResult(r result) {
	switch in := r.in.(type) {
	case verifyOK:
		m.handleVerified(in, r.cred)
	case connectOK:
		accepted := m.state.Phase == PhaseConnecting && m.state.op == in.Op
		if accepted {
			r.sess.SetDisplay(m.state.Display()) // before the UI is told to show the portal
		}
		m.handle(in)
		if accepted && m.state.Phase == PhaseSession {
			m.portal = r.sess
		} else if r.sess != nil {
			r.sess.Close() // a session nobody asked for any more
		}
	default:
		m.handle(r.in)
	}
}

// handleVerified keeps the credential of an accepted VERIFY for the Connect it starts.
func (m *Machine) handleVerified(in verifyOK, cred *Credential) {
	if m.state.Phase == PhaseVerifying && m.state.op == in.Op {
		m.cred = cred
	}
	m.handle(in)
}

// handle applies one input and carries out its effects, in order.
func (m *Machine) handle(in Input) {
	prev := m.state
	next, fx := decide(prev, in)
	m.state = next
	if m.portal != nil && next.Display() != prev.Display() {
		m.portal.SetDisplay(next.Display())
	}
	m.observe(prev, next, in)
	wiped := false
	for _, e := range fx {
		switch e := e.(type) {
		case readCard:
			m.readCard(e)
		case verifyPIN:
			m.verifyPIN(e)
		case connect:
			m.connect(e)
		case wipe:
			m.wipe(prev, e.Reason)
			wiped = true
		case shellWipe:
			if m.links.Shell != nil {
				m.links.Shell.OrderWipe(e.Conn, e.Gen)
			}
		case dropShell:
			if m.links.Shell != nil {
				m.links.Shell.Drop(e.Conn)
			}
		case broadcast:
			if m.links.UI != nil {
				m.links.UI.Broadcast(m.state)
			}
		case armTimer:
			m.arm(e)
		case disarmTimer:
			if t := m.timers[e.Timer]; t != nil {
				t.Stop()
				m.timers[e.Timer] = nil
			}
		}
	}
	// Subscribers see the state once its effects are carried out (the UI was told during
	// them): whoever sees a state may rely on its wipe, its logout and its metrics.
	m.publish()
	if wiped {
		m.handle(wipeDone{})
	}
}

func (m *Machine) arm(e armTimer) {
	if t := m.timers[e.Timer]; t != nil {
		t.Stop()
	}
	m.timers[e.Timer] = m.clock.AfterFunc(e.After, func() {
		m.post(result{in: timerFired{Timer: e.Timer, Gen: e.Gen, At: m.clock.Now()}})
	})
}

// startOp runs f in an operation goroutine that a Wipe cancels and Run waits for.
func (m *Machine) startOp(f func(ctx context.Context)) {
	ctx := m.opCtx
	m.ops.Add(1)
	go func() {
		defer m.ops.Done()
		f(ctx)
	}()
}

// withCard runs f holding the card, unless ctx ends first.
func (m *Machine) withCard(ctx context.Context, f func()) error {
	select {
	case m.cardSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-m.cardSem }()
	f()
	return nil
}

func (m *Machine) readCard(e readCard) {
	card, log := m.deps.Card, m.log
	m.startOp(func(ctx context.Context) {
		var info CardInfo
		var err error
		if werr := m.withCard(ctx, func() { info, err = card.Read(ctx, e.Reader) }); werr != nil {
			err = werr
		}
		if err != nil {
			code := codeOf(err, ErrCodeCardUnreadable)
			log.Info("session: card read failed", "code", code, "err", err)
			m.post(result{in: cardReadFailed{Op: e.Op, Code: code}})
			return
		}
		m.post(result{in: cardRead{Op: e.Op, Info: info}})
	})
}

func (m *Machine) verifyPIN(e verifyPIN) {
	pin, ok := m.pinBufs[e.Handle]
	delete(m.pinBufs, e.Handle)
	if !ok {
		m.log.Error("session: no PIN under handle", "handle", e.Handle)
		m.post(result{in: verifyFailed{Op: e.Op}})
		return
	}
	card, log := m.deps.Card, m.log
	m.startOp(func(ctx context.Context) {
		defer clear(pin)
		var ans PINAnswer
		var err error
		if werr := m.withCard(ctx, func() { ans, err = card.Verify(ctx, pin) }); werr != nil {
			err = werr
		}
		clear(pin)
		in := verifyInput(e.Op, ans, err)
		if err != nil {
			log.Warn("session: VERIFY could not be carried out", "err", err)
		}
		m.post(result{in: in, cred: ans.Credential})
	})
}

func (m *Machine) connect(e connect) {
	portal, log, cred := m.deps.Portal, m.log, m.cred
	if cred == nil { // decide connects only after a VerifyOK, which brings the credential
		log.Error("session: connect without a verified credential")
		m.post(result{in: connectFailed{Op: e.Op, Code: ErrCodePortalUnavailable}})
		return
	}
	m.startOp(func(ctx context.Context) {
		sess, err := portal.Open(ctx, *cred, m)
		if err != nil {
			code := codeOf(err, ErrCodePortalUnavailable)
			log.Warn("session: portal session failed", "code", code, "err", err)
			m.post(result{in: connectFailed{Op: e.Op, Code: code}})
			return
		}
		if !m.post(result{in: connectOK{Op: e.Op, PortalURL: sess.HomeURL(), At: m.clock.Now()}, sess: sess}) {
			sess.Close()
		}
	})
}

// wipe ends everything of the visit: outstanding operations, the portal session, the UI's
// storage and the card's verified state.
func (m *Machine) wipe(prev State, reason Reason) {
	start := time.Now()
	m.opCancel()
	m.opCtx, m.opCancel = context.WithCancel(context.Background())
	// The UI's wipe first: it only queues, and the webview's clearing then runs while the
	// portal session closes (which may wait up to a second for a stuck request).
	if m.links.UI != nil {
		m.links.UI.SendWipe()
	}
	m.cred = nil // the card's Logout below makes it stop signing too
	if m.portal != nil {
		if err := m.portal.Close(); err != nil {
			m.log.Warn("session: closing the portal session", "err", err)
		}
		m.portal = nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), wipeTimeout)
	defer cancel()
	var err error
	if werr := m.withCard(ctx, func() { err = m.deps.Card.Logout(ctx) }); werr != nil {
		err = werr
	}
	if err != nil {
		m.log.Debug("session: card logout", "err", err)
	}
	d := time.Since(start)
	m.log.Info("session: wiped", "reason", reason, "from", prev.Phase, "took", d)
	if m.deps.Metrics != nil {
		m.deps.Metrics.Wiped(d)
		if prev.Phase == PhaseSession {
			m.deps.Metrics.SessionEnded(string(reason), m.clock.Now().Sub(prev.StartedAt))
		}
	}
}

// observe logs transitions and reports metrics. It never logs the citizen's name.
func (m *Machine) observe(prev, next State, in Input) {
	mt := m.deps.Metrics
	if prev.Phase != next.Phase {
		m.log.Info("session: phase", "from", prev.Phase, "to", next.Phase,
			"error", next.Error, "goodbye", next.Goodbye)
		if mt != nil {
			mt.SetPhase(string(next.Phase))
		}
	} else {
		m.log.Debug("session: input", "type", inputName(in), "phase", next.Phase)
	}
	if prev.Phase == PhaseVerifying && next.Phase != PhaseVerifying {
		m.log.Info("session: PIN verified", "result", pinResult(next))
	}
	if mt == nil {
		return
	}
	if next.Error != prev.Error && next.Error != ErrCodeNone {
		mt.SetLastError(string(next.Error))
	}
	if next.ReaderPresent != prev.ReaderPresent {
		mt.SetReaderPresent(next.ReaderPresent)
	}
	if next.ServiceUp != prev.ServiceUp {
		mt.SetPCSCDUp(next.ServiceUp)
	}
	if next.ShellUp != prev.ShellUp || next.ShellClean != prev.ShellClean || next.ShellFailed != prev.ShellFailed {
		mt.SetShell(next.ShellUp, next.ShellClean, next.ShellFailed)
	}
	if next.ShellFailed && !prev.ShellFailed {
		m.log.Error("session: the kiosk shell did not confirm a fresh browser in time; out of order until a shell connects and confirms",
			"within", m.cfg.ShellConfirm)
	}
	switch in := in.(type) {
	case CardInserted:
		mt.CardEvent("inserted")
	case CardRemoved:
		mt.CardEvent("removed")
	case cardRead:
		if prev.Phase == PhaseReading && prev.op == in.Op {
			mt.CardEvent("read_ok")
		}
	case cardReadFailed:
		if prev.Phase == PhaseReading && prev.op == in.Op {
			mt.CardEvent("read_failed")
		}
	case connectFailed:
		if prev.Phase == PhaseConnecting && prev.op == in.Op {
			mt.PortalError(string(next.Error))
		}
	case verifyOK, verifyWrong, verifyFailed:
		if prev.Phase == PhaseVerifying && next.Phase != PhaseVerifying {
			mt.PINVerification(pinResult(next))
		}
	}
}

// pinResult names what a VERIFY result did, for the metrics and the log.
func pinResult(next State) string {
	switch {
	case next.Phase == PhaseConnecting:
		return "ok"
	case next.Error == ErrCodePINBlocked:
		return "blocked"
	case next.Phase == PhasePIN:
		return "wrong"
	default:
		return "failed"
	}
}

func inputName(in Input) string {
	switch in.(type) {
	case pinSubmitted:
		return "pin" // never more than that
	case timerFired:
		return "timer"
	}
	return fmt.Sprintf("%T", in)
}
