package session

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"smartpath/testing/waitfor"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeCard records calls; Verify answers from a script.
type fakeCard struct {
	mu       sync.Mutex
	info     CardInfo
	readErr  error
	verify   []int // answers, in order (accept, or the tries left); the last repeats
	verified [][]byte
	pinSeen  []string
	logouts  int
	calls    []string
	readGate chan struct{} // if set, Read waits for it (or ctx)
	creds    []*Credential
}

func (c *fakeCard) Read(ctx context.Context, reader string) (CardInfo, error) {
	if c.readGate != nil {
		select {
		case <-c.readGate:
		case <-ctx.Done():
			return CardInfo{}, ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, "read")
	return c.info, c.readErr
}

func (c *fakeCard) Verify(ctx context.Context, pin []byte) (PINAnswer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, "verify")
	c.verified = append(c.verified, pin) // the machine's buffer itself, to check it is zeroed
	c.pinSeen = append(c.pinSeen, string(pin))
	left := c.verify[min(len(c.verify), len(c.verified))-1]
	if left == accept {
		c.creds = append(c.creds, &Credential{Certificate: &x509.Certificate{}}) // a pointer of its own
		return PINAnswer{Credential: c.creds[len(c.creds)-1]}, nil
	}
	return PINAnswer{TriesLeft: left}, nil
}

// accept in fakeCard.verify makes the card accept the PIN.
const accept = 99

// credentials is every credential the card gave.
func (c *fakeCard) credentials() []*Credential {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Credential(nil), c.creds...)
}

func (c *fakeCard) Logout(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, "logout")
	c.logouts++
	return nil
}

func (c *fakeCard) count(call string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, x := range c.calls {
		if x == call {
			n++
		}
	}
	return n
}

type fakePortal struct {
	mu       sync.Mutex
	err      error
	gate     chan struct{} // if set, Open waits for it, ignoring ctx (a slow portal)
	sessions []*fakeSession
	creds    []Credential // what each Open was given
}

type fakeSession struct {
	mu       sync.Mutex
	closed   int
	displays []Display
}

func (s *fakeSession) SetDisplay(d Display) {
	s.mu.Lock()
	s.displays = append(s.displays, d)
	s.mu.Unlock()
}

func (s *fakeSession) shown() []Display {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Display(nil), s.displays...)
}

func (s *fakeSession) HomeURL() string { return "http://127.0.0.1:8471/" }
func (s *fakeSession) Close() error {
	s.mu.Lock()
	s.closed++
	s.mu.Unlock()
	return nil
}
func (s *fakeSession) closes() int { s.mu.Lock(); defer s.mu.Unlock(); return s.closed }

func (p *fakePortal) Open(ctx context.Context, cred Credential, events PortalEvents) (PortalSession, error) {
	if p.gate != nil {
		<-p.gate
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.creds = append(p.creds, cred)
	if p.err != nil {
		return nil, p.err
	}
	s := &fakeSession{}
	p.sessions = append(p.sessions, s)
	return s, nil
}

func (p *fakePortal) session(i int) *fakeSession {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i >= len(p.sessions) {
		return nil
	}
	return p.sessions[i]
}

// fakeUI records the order of broadcasts and wipes.
type fakeUI struct {
	mu     sync.Mutex
	events []string
}

func (u *fakeUI) Broadcast(s State) {
	u.mu.Lock()
	u.events = append(u.events, string(s.Phase))
	u.mu.Unlock()
}
func (u *fakeUI) SendWipe() {
	u.mu.Lock()
	u.events = append(u.events, "WIPE")
	u.mu.Unlock()
}
func (u *fakeUI) log() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return strings.Join(u.events, " ")
}

// fakeClock fires timers only when advanced.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c     *fakeClock
	at    time.Time
	f     func()
	state int // 0 armed, 1 stopped, 2 fired
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) AfterFunc(d time.Duration, f func()) timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}
func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.state == 0
	if was {
		t.state = 1
	}
	return was
}

// Advance moves time on and runs the timers that are due, in order.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	for _, t := range c.timers {
		if t.state == 0 && !t.at.After(c.now) {
			t.state = 2
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, t := range due {
		t.f()
	}
}

type fakeMetrics struct {
	mu     sync.Mutex
	events []string
}

func (f *fakeMetrics) add(s string)                           { f.mu.Lock(); f.events = append(f.events, s); f.mu.Unlock() }
func (f *fakeMetrics) SetPhase(p string)                      { f.add("phase=" + p) }
func (f *fakeMetrics) SessionEnded(o string, d time.Duration) { f.add("session=" + o) }
func (f *fakeMetrics) PINVerification(r string)               { f.add("pin=" + r) }
func (f *fakeMetrics) CardEvent(k string)                     { f.add("card=" + k) }
func (f *fakeMetrics) PortalError(c string)                   { f.add("portal=" + c) }
func (f *fakeMetrics) Wiped(d time.Duration)                  { f.add("wiped") }
func (f *fakeMetrics) SetReaderPresent(b bool)                {}
func (f *fakeMetrics) SetPCSCDUp(b bool)                      {}
func (f *fakeMetrics) SetShell(up, clean, failed bool)        {}
func (f *fakeMetrics) SetLastError(c string)                  { f.add("lasterror=" + c) }
func (f *fakeMetrics) has(s string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.events {
		if e == s {
			return true
		}
	}
	return false
}

type rig struct {
	t      testing.TB
	m      *Machine
	card   *fakeCard
	portal *fakePortal
	ui     *fakeUI
	clock  *fakeClock
	met    *fakeMetrics
	logs   *bytes.Buffer
	states <-chan State
	stop   func()
}

type syncBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

func newRig(t testing.TB, card *fakeCard, portal *fakePortal) *rig {
	r := &rig{t: t, card: card, portal: portal, ui: &fakeUI{}, clock: &fakeClock{now: t0}, met: &fakeMetrics{}}
	logs := &syncBuffer{}
	r.logs = &logs.Buffer
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r.m = New(testConfig(), Deps{Card: card, Portal: portal, clock: r.clock, Metrics: r.met, Logger: log})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.m.Run(ctx, Links{UI: r.ui}) }()
	states, unsub := r.m.Subscribe()
	r.states = states
	r.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		unsub()
	}
	t.Cleanup(func() {
		if r.stop != nil {
			r.stop()
		}
	})
	r.m.Send(ServiceRestored{})
	r.m.Send(ReaderFound{})
	r.waitPhase(PhaseIdle)
	return r
}

func (r *rig) shutdown() {
	r.stop()
	r.stop = nil
}

// wait returns the first state satisfying ok, failing after 5 s.
func (r *rig) wait(what string, ok func(State) bool) State {
	r.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case s, open := <-r.states:
			if !open {
				r.t.Fatalf("machine stopped while waiting for %s", what)
			}
			if ok(s) {
				return s
			}
		case <-deadline:
			r.t.Fatalf("timed out waiting for %s; state %+v", what, r.m.State())
		}
	}
}

func (r *rig) waitPhase(p Phase) State {
	r.t.Helper()
	return r.wait(string(p), func(s State) bool { return s.Phase == p })
}

func okCard() *fakeCard {
	return &fakeCard{info: CardInfo{Name: "Jane Citizen", PINTriesLeft: 3}, verify: []int{accept}}
}

func (r *rig) toSession() {
	r.t.Helper()
	r.m.Send(CardInserted{Reader: reader})
	r.waitPhase(PhasePIN)
	r.m.SubmitPIN([]byte("123456"))
	r.waitPhase(PhaseSession)
}

func TestMachineFullFlow(t *testing.T) {
	card, portal := okCard(), &fakePortal{}
	r := newRig(t, card, portal)
	r.m.Send(CardInserted{Reader: reader})
	s := r.waitPhase(PhasePIN)
	if s.Citizen != "Jane Citizen" || s.PIN.TriesLeft != 3 {
		t.Fatalf("pin state %+v", s)
	}
	pin := []byte("123456")
	r.m.SubmitPIN(pin)
	if !bytes.Equal(pin, make([]byte, 6)) {
		t.Error("caller's PIN buffer not zeroed by SubmitPIN")
	}
	s = r.waitPhase(PhaseSession)
	if s.PortalURL != "http://127.0.0.1:8471/" || s.EndsAt != t0.Add(30*time.Minute) {
		t.Fatalf("session state %+v", s)
	}
	card.mu.Lock()
	if len(card.pinSeen) != 1 || card.pinSeen[0] != "123456" {
		t.Errorf("card saw %q", card.pinSeen)
	}
	if !bytes.Equal(card.verified[0], make([]byte, 6)) {
		t.Errorf("PIN buffer passed to Verify not zeroed: %q", card.verified[0])
	}
	card.mu.Unlock()

	r.m.EndSession()
	s = r.waitPhase(PhaseGoodbye)
	if s.Goodbye != ReasonEnded {
		t.Errorf("goodbye %s", s.Goodbye)
	}
	// The wipe happened inside the session's end: before goodbye was published.
	if portal.session(0).closes() != 1 || card.count("logout") != 1 {
		t.Errorf("portal closes %d, logouts %d", portal.session(0).closes(), card.count("logout"))
	}
	if got := r.ui.log(); !strings.HasSuffix(got, "session ending WIPE goodbye") && !strings.Contains(got, "WIPE ending goodbye") {
		t.Errorf("UI saw %q; want the wipe before goodbye", got)
	}
	r.m.Send(CardRemoved{Reader: reader})
	r.waitPhase(PhaseIdle)
	r.shutdown()
	for _, want := range []string{"card=inserted", "card=read_ok", "pin=ok", "session=ended", "wiped", "card=removed"} {
		if !r.met.has(want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(r.logs.String(), "123456") || strings.Contains(r.logs.String(), "Jane") {
		t.Error("the PIN or the citizen's name was logged")
	}
}

func TestMachineWrongPINShowsTriesLeft(t *testing.T) {
	card := okCard()
	card.verify = []int{2, accept}
	r := newRig(t, card, &fakePortal{})
	r.m.Send(CardInserted{Reader: reader})
	r.waitPhase(PhasePIN)
	r.m.SubmitPIN([]byte("111111"))
	s := r.wait("wrong PIN", func(s State) bool { return s.Phase == PhasePIN && s.PIN.Wrong })
	if s.PIN.TriesLeft != 2 {
		t.Errorf("tries left %d", s.PIN.TriesLeft)
	}
	r.m.SubmitPIN([]byte("123456"))
	r.waitPhase(PhaseSession)
	if n := card.count("verify"); n != 2 {
		t.Errorf("%d VERIFYs for 2 submissions", n)
	}
	if !r.met.has("pin=wrong") || !r.met.has("pin=ok") {
		t.Error("PIN results not counted")
	}
}

func TestMachineBlockedSendsNoFurtherVerify(t *testing.T) {
	card := okCard()
	card.verify = []int{0}
	r := newRig(t, card, &fakePortal{})
	r.m.Send(CardInserted{Reader: reader})
	r.waitPhase(PhasePIN)
	r.m.SubmitPIN([]byte("111111"))
	s := r.waitPhase(PhaseError)
	if s.Error != ErrCodePINBlocked {
		t.Fatalf("error %s", s.Error)
	}
	for i := 0; i < 3; i++ {
		pin := []byte("222222")
		r.m.SubmitPIN(pin)
	}
	r.m.Send(Language{Lang: "el"}) // a marker: once it shows, the PINs were processed
	r.wait("lang", func(s State) bool { return s.Lang == "el" })
	if n := card.count("verify"); n != 1 {
		t.Errorf("%d VERIFYs; want exactly 1", n)
	}
	if !r.met.has("pin=blocked") {
		t.Error("blocked not counted")
	}
}

func TestMachineIdleWarningThenTimeout(t *testing.T) {
	portal := &fakePortal{}
	r := newRig(t, okCard(), portal)
	r.toSession()
	r.clock.Advance(90 * time.Second)
	s := r.wait("warning", func(s State) bool { return !s.WarningEndsAt.IsZero() })
	if s.WarningEndsAt != t0.Add(2*time.Minute) {
		t.Errorf("warning ends %v", s.WarningEndsAt)
	}
	r.clock.Advance(30 * time.Second)
	s = r.waitPhase(PhaseGoodbye)
	if s.Goodbye != ReasonIdleTimeout || portal.session(0).closes() != 1 {
		t.Errorf("goodbye %s, closes %d", s.Goodbye, portal.session(0).closes())
	}
	if !r.met.has("session=idle_timeout") {
		t.Error("outcome not counted")
	}
	// Goodbye with the card left in keeps asking for it after goodbye_after, without the reason.
	r.clock.Advance(10 * time.Second)
	r.wait("take your card, without the reason", func(s State) bool { return s.Phase == PhaseGoodbye && s.Goodbye == ReasonNone })
	r.m.Send(CardRemoved{Reader: reader})
	r.waitPhase(PhaseIdle)
}

func TestMachineActivityPostponesTimeout(t *testing.T) {
	r := newRig(t, okCard(), &fakePortal{})
	r.toSession()
	r.clock.Advance(90 * time.Second)
	r.wait("warning", func(s State) bool { return !s.WarningEndsAt.IsZero() })
	r.m.Activity()
	r.wait("warning gone", func(s State) bool { return s.WarningEndsAt.IsZero() })
	r.clock.Advance(60 * time.Second) // past the old deadline, before the new warning
	r.m.Send(Language{Lang: "el"})
	s := r.wait("lang", func(s State) bool { return s.Lang == "el" })
	if s.Phase != PhaseSession || !s.WarningEndsAt.IsZero() {
		t.Errorf("after activity: %s warning %v", s.Phase, s.WarningEndsAt)
	}
}

func TestMachineMaxLength(t *testing.T) {
	r := newRig(t, okCard(), &fakePortal{})
	r.toSession()
	for i := 0; i < 30; i++ { // an active citizen: activity every minute
		r.clock.Advance(time.Minute)
		r.m.Activity()
	}
	s := r.waitPhase(PhaseGoodbye)
	if s.Goodbye != ReasonMaxLength {
		t.Errorf("goodbye %s", s.Goodbye)
	}
}

func TestMachineCardRemovedMidConnect(t *testing.T) {
	card := okCard()
	portal := &fakePortal{gate: make(chan struct{})}
	r := newRig(t, card, portal)
	r.m.Send(CardInserted{Reader: reader})
	r.waitPhase(PhasePIN)
	r.m.SubmitPIN([]byte("123456"))
	r.waitPhase(PhaseConnecting)
	r.m.Send(CardRemoved{Reader: reader})
	r.waitPhase(PhaseIdle)
	if card.count("logout") != 1 {
		t.Error("card not logged out")
	}
	if !strings.Contains(r.ui.log(), "WIPE") {
		t.Error("UI not told to wipe")
	}
	close(portal.gate) // the slow portal answers after all
	// The late session must be closed, not shown.
	waitfor.Until(t, waitfor.Timeout, "the late portal session closed", func() bool {
		return portal.session(0) != nil && portal.session(0).closes() == 1
	})
	if s := r.m.State(); s.Phase != PhaseIdle {
		t.Errorf("phase %s", s.Phase)
	}
}

func TestMachineCardRemovedDuringSession(t *testing.T) {
	card, portal := okCard(), &fakePortal{}
	r := newRig(t, card, portal)
	r.toSession()
	r.m.Send(CardRemoved{Reader: reader})
	s := r.waitPhase(PhaseIdle)
	if s.Citizen != "" || s.PortalURL != "" {
		t.Error("idle keeps citizen data")
	}
	if portal.session(0).closes() != 1 || card.count("logout") != 1 {
		t.Errorf("closes %d logouts %d", portal.session(0).closes(), card.count("logout"))
	}
	if !strings.HasSuffix(r.ui.log(), "WIPE idle") {
		t.Errorf("UI saw %q", r.ui.log())
	}
	if !r.met.has("session=card_removed") {
		t.Error("outcome not counted")
	}
}

func TestMachinePortalErrors(t *testing.T) {
	for _, tt := range []struct {
		err  error
		code ErrorCode
	}{
		{errors.New("dial tcp: connection refused"), ErrCodePortalUnavailable},
		{Fail(ErrCodePortalUntrusted, errors.New("x509: unknown authority")), ErrCodePortalUntrusted},
		{Fail(ErrCodeClientCertRefused, errors.New("remote error: tls: bad certificate")), ErrCodeClientCertRefused},
		// A code the portal has no business giving is still shown as portal_unavailable.
		{Fail(ErrCodePINBlocked, errors.New("confused adapter")), ErrCodePortalUnavailable},
	} {
		card := okCard()
		r := newRig(t, card, &fakePortal{err: tt.err})
		r.m.Send(CardInserted{Reader: reader})
		r.waitPhase(PhasePIN)
		r.m.SubmitPIN([]byte("123456"))
		s := r.waitPhase(PhaseError)
		if s.Error != tt.code || card.count("logout") != 1 {
			t.Errorf("%v: code %s, logouts %d", tt.err, s.Error, card.count("logout"))
		}
		if !r.met.has("portal=" + string(tt.code)) {
			t.Errorf("%s not counted", tt.code)
		}
		r.m.Send(CardRemoved{Reader: reader})
		r.waitPhase(PhaseIdle)
		r.shutdown()
	}
}

func TestMachineCardReadErrors(t *testing.T) {
	for _, tt := range []struct {
		card *fakeCard
		code ErrorCode
	}{
		{&fakeCard{readErr: errors.New("6A82")}, ErrCodeCardUnreadable},
		{&fakeCard{readErr: Fail(ErrCodeCardUnsupported, errors.New("no PIV application"))}, ErrCodeCardUnsupported},
		{&fakeCard{readErr: fmt.Errorf("read: %w", Fail(ErrCodeCardUnsupported, errors.New("RSA-1024")))}, ErrCodeCardUnsupported},
		{&fakeCard{info: CardInfo{Name: "X", Expired: true}}, ErrCodeCardExpired},
	} {
		r := newRig(t, tt.card, &fakePortal{})
		r.m.Send(CardInserted{Reader: reader})
		s := r.waitPhase(PhaseError)
		if s.Error != tt.code {
			t.Errorf("code %s, want %s", s.Error, tt.code)
		}
		r.shutdown()
	}
}

func TestMachineShutdownWipesSession(t *testing.T) {
	card, portal := okCard(), &fakePortal{}
	r := newRig(t, card, portal)
	r.toSession()
	r.shutdown()
	if portal.session(0).closes() != 1 || card.count("logout") != 1 {
		t.Errorf("closes %d logouts %d", portal.session(0).closes(), card.count("logout"))
	}
	if s := r.m.State(); s.Phase != PhaseGoodbye || s.Goodbye != ReasonShutdown {
		t.Errorf("final state %s %s", s.Phase, s.Goodbye)
	}
	// After Run, inputs and PINs are refused without blocking, and PINs still zeroed.
	r.m.Send(CardInserted{Reader: reader})
	pin := []byte("123456")
	r.m.SubmitPIN(pin)
	if !bytes.Equal(pin, make([]byte, 6)) {
		t.Error("PIN not zeroed after shutdown")
	}
}

func TestMachineShutdownDuringRead(t *testing.T) {
	card := okCard()
	card.readGate = make(chan struct{}) // never opened: Read waits for its context
	r := newRig(t, card, &fakePortal{})
	r.m.Send(CardInserted{Reader: reader})
	r.waitPhase(PhaseReading)
	r.shutdown() // must cancel the read and return
}

func TestMachineIgnoresPINOutsidePINPhase(t *testing.T) {
	card := okCard()
	r := newRig(t, card, &fakePortal{})
	pin := []byte("123456")
	r.m.SubmitPIN(pin) // idle
	r.m.Send(Language{Lang: "el"})
	r.wait("lang", func(s State) bool { return s.Lang == "el" })
	if card.count("verify") != 0 {
		t.Error("PIN verified in idle")
	}
	if !strings.Contains(r.logs.String(), "PIN submission ignored") || strings.Contains(r.logs.String(), "123456") {
		t.Errorf("logs: %s", r.logs.String())
	}
}

func TestRunNeedsDeps(t *testing.T) {
	m := New(testConfig(), Deps{})
	if err := m.Run(context.Background(), Links{}); err == nil {
		t.Error("Run without deps did not fail")
	}
}

// The portal is opened only with the credential of the VERIFY that opened the visit: never
// before the card accepted a PIN, and each visit with its own.
func TestMachinePortalGetsTheVerifiedCredential(t *testing.T) {
	card, portal := okCard(), &fakePortal{}
	card.verify = []int{2, accept}
	r := newRig(t, card, portal)
	r.m.Send(CardInserted{Reader: reader})
	r.waitPhase(PhasePIN)
	r.m.SubmitPIN([]byte("111111"))
	r.wait("wrong PIN", func(s State) bool { return s.Phase == PhasePIN && s.PIN.Wrong })
	portal.mu.Lock()
	opened := len(portal.creds)
	portal.mu.Unlock()
	if opened != 0 {
		t.Fatalf("the portal was opened %d times after a refused PIN", opened)
	}
	r.m.SubmitPIN([]byte("123456"))
	r.waitPhase(PhaseSession)
	r.m.Send(CardRemoved{Reader: reader})
	r.waitPhase(PhaseIdle)
	r.toSession()
	creds := card.credentials()
	portal.mu.Lock()
	defer portal.mu.Unlock()
	if len(creds) != 2 || len(portal.creds) != 2 {
		t.Fatalf("%d credentials given, %d portal opens", len(creds), len(portal.creds))
	}
	for i := range creds {
		if portal.creds[i].Certificate != creds[i].Certificate {
			t.Errorf("open %d got a credential the card did not give for that visit", i)
		}
	}
	if creds[0].Certificate == creds[1].Certificate {
		t.Error("two visits shared one credential")
	}
}

// The portal session follows the citizen's display choice: the one made before it opened
// (set before the UI is told to show the portal) and every change during it; at idle the
// choice is gone.
func TestMachinePortalFollowsTheDisplay(t *testing.T) {
	card, portal := okCard(), &fakePortal{}
	r := newRig(t, card, portal)
	r.m.Send(CardInserted{Reader: reader})
	r.waitPhase(PhasePIN)
	r.m.SetLanguage("el")
	r.m.SetDisplay(true, false)
	r.wait("the display choice", func(s State) bool { return s.Lang == "el" && s.LargeText && s.Visible().LargeText })
	r.m.SubmitPIN([]byte("123456"))
	r.waitPhase(PhaseSession)
	sess := portal.session(0)
	if got := sess.shown(); len(got) != 1 || got[0] != (Display{Lang: "el", LargeText: true}) {
		t.Fatalf("portal display at open %+v, want el with larger text", got)
	}
	r.m.SetDisplay(true, true)
	r.wait("high contrast", func(s State) bool { return s.HighContrast })
	waitfor.Until(t, waitfor.Timeout, "the portal told of high contrast", func() bool {
		got := sess.shown()
		return len(got) == 2 && got[1] == Display{Lang: "el", LargeText: true, HighContrast: true}
	})
	r.m.Send(CardRemoved{Reader: reader})
	s := r.waitPhase(PhaseIdle)
	if s.LargeText || s.HighContrast || s.Lang != "en" {
		t.Errorf("idle keeps the last citizen's display: %+v", s.Display())
	}
}
