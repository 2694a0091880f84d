package session

import (
	"slices"
	"time"
)

// decide is the session state machine: the state after in, and what the driver must do. It is
// a pure function: no I/O, no clock, no randomness; the same arguments give the same result.
func decide(s State, in Input) (State, []effect) {
	t := step{s: s}
	t.apply(in)
	if t.s.Visible() != s.Visible() {
		if t.s.Phase == PhaseEnding {
			// "ending" is the wipe in progress: the UI shows it before the wipe runs (the
			// card's logout can take up to the wipe timeout), not after it.
			t.fx = append([]effect{broadcast{}}, t.fx...)
		} else {
			t.emit(broadcast{})
		}
	}
	return t.s, t.fx
}

type step struct {
	s  State
	fx []effect
}

func (t *step) emit(e effect) { t.fx = append(t.fx, e) }

// apply dispatches one input to its rule; each rule reads and changes t.s and emits effects.
func (t *step) apply(in Input) {
	s := &t.s
	if s.ShuttingDown {
		t.afterShutdown(in)
		return
	}
	switch in := in.(type) {
	case CardInserted:
		t.cardInserted(in)
	case CardRemoved:
		t.cardRemoved(in)
	case cardRead:
		t.cardRead(in)
	case cardReadFailed:
		t.cardReadFailed(in)
	case pinSubmitted:
		t.pinSubmitted(in)
	case verifyOK:
		t.verifyOK(in)
	case verifyWrong:
		t.verifyWrong(in)
	case verifyFailed:
		if t.verifyResult(in.Op) {
			t.fail(ErrCodeCardUnreadable)
		}
	case connectOK:
		t.connectOK(in)
	case connectFailed:
		t.connectFailed(in)
	case cancel:
		if s.Phase == PhasePIN || s.Phase == PhaseError {
			t.goodbye(ReasonCancelled)
		}
	case endSession:
		if s.Phase == PhaseSession {
			t.endSession(ReasonEnded)
		}
	case activity:
		t.activity()
	case Language:
		if slices.Contains(s.Config.Languages, in.Lang) {
			s.Lang = in.Lang
		}
	case displayChoice:
		s.LargeText, s.HighContrast = in.LargeText, in.HighContrast
	case timerFired:
		t.timerFired(in)
	case wipeDone:
		t.wipeDone()
	case ReaderLost:
		s.ReaderPresent = false
		t.outOfOrder(ReasonReaderLost)
	case ServiceLost:
		s.ServiceUp, s.ReaderPresent = false, false
		t.outOfOrder(ReasonServiceLost)
	case ReaderFound:
		s.ReaderPresent = true
		t.maybeReady()
	case ServiceRestored:
		s.ServiceUp = true
		t.maybeReady()
	case shellConnected:
		t.shellConnected(in)
	case shellLost:
		t.shellLost(in)
	case shellWiped:
		t.shellWiped(in)
	case shutdown:
		t.shutdown()
	}
}

// afterShutdown: once shutting down, only the wipe's completion and the card's removal
// still matter.
func (t *step) afterShutdown(in Input) {
	s := &t.s
	switch in := in.(type) {
	case wipeDone:
		if s.Phase == PhaseEnding {
			s.Phase = PhaseGoodbye
		}
	case CardRemoved:
		if t.sameReader(in.Reader) {
			s.CardPresent, s.Reader = false, ""
		}
	}
}

func (t *step) cardRead(in cardRead) {
	s := &t.s
	if s.Phase != PhaseReading || in.Op != s.op {
		return
	}
	s.op = 0
	info := in.Info
	switch {
	case info.Expired:
		t.fail(ErrCodeCardExpired)
	case info.PINTriesLeft == 0:
		t.fail(ErrCodePINBlocked)
	default:
		s.Phase = PhasePIN
		s.Citizen = info.Name
		s.PIN = PINState{Min: s.Config.PINMin, Max: s.Config.PINMax, TriesLeft: info.PINTriesLeft}
		// The card may narrow the configured range (its own policy), never widen it:
		// the configuration is already within the PIV format's bounds.
		if lo, hi := max(s.PIN.Min, info.PINMin), min(s.PIN.Max, info.PINMax); info.PINMin > 0 && lo <= hi {
			s.PIN.Min, s.PIN.Max = lo, hi
		}
		if s.PIN.TriesLeft < 0 {
			s.PIN.TriesLeft = -1
		}
	}
}

func (t *step) cardReadFailed(in cardReadFailed) {
	s := &t.s
	if s.Phase != PhaseReading || in.Op != s.op {
		return
	}
	s.op = 0
	switch in.Code {
	case ErrCodeCardUnsupported, ErrCodeCardExpired, ErrCodePINBlocked:
		t.fail(in.Code)
	default:
		t.fail(ErrCodeCardUnreadable)
	}
}

func (t *step) pinSubmitted(in pinSubmitted) {
	s := &t.s
	// At most one VERIFY per submission, and only while the PIN pad is up.
	if s.Phase != PhasePIN || !in.Digits || in.Len < s.PIN.Min || in.Len > s.PIN.Max {
		return
	}
	s.Phase = PhaseVerifying
	s.handle = in.Handle
	t.emit(verifyPIN{Op: t.newOp(), Handle: in.Handle})
}

func (t *step) verifyOK(in verifyOK) {
	s := &t.s
	if !t.verifyResult(in.Op) {
		return
	}
	s.Phase = PhaseConnecting
	s.PIN.Wrong = false
	t.emit(connect{Op: t.newOp()})
}

func (t *step) verifyWrong(in verifyWrong) {
	s := &t.s
	if !t.verifyResult(in.Op) {
		return
	}
	if in.Left == 0 { // the one place a refusal with no tries left becomes "blocked"
		t.fail(ErrCodePINBlocked)
		return
	}
	s.Phase = PhasePIN
	s.PIN.Wrong = true
	s.PIN.TriesLeft = max(in.Left, -1)
}

func (t *step) connectOK(in connectOK) {
	s := &t.s
	if s.Phase != PhaseConnecting || in.Op != s.op {
		return
	}
	s.op = 0
	s.Phase = PhaseSession
	s.PortalURL = in.PortalURL
	s.StartedAt = in.At
	s.EndsAt = in.At.Add(s.Config.MaxLength)
	s.WarningEndsAt = time.Time{}
	t.arm(timerIdleWarning, s.Config.IdleTimeout-s.Config.IdleWarning)
	t.arm(timerMaxLength, s.Config.MaxLength)
}

func (t *step) connectFailed(in connectFailed) {
	s := &t.s
	if s.Phase != PhaseConnecting || in.Op != s.op {
		return
	}
	s.op = 0
	// The card is logged in: wipe before showing the error.
	t.wipe(ReasonConnectFail)
	switch in.Code {
	case ErrCodePortalUntrusted, ErrCodeClientCertRefused:
		t.fail(in.Code)
	default:
		t.fail(ErrCodePortalUnavailable)
	}
}

func (t *step) activity() {
	s := &t.s
	if s.Phase != PhaseSession {
		return
	}
	s.WarningEndsAt = time.Time{}
	t.disarm(timerIdleTimeout)
	t.arm(timerIdleWarning, s.Config.IdleTimeout-s.Config.IdleWarning)
}

func (t *step) timerFired(in timerFired) {
	s := &t.s
	if in.Timer < 0 || in.Timer >= numTimers || in.Gen == 0 || s.gen[in.Timer] != in.Gen {
		return // stale: disarmed or re-armed since
	}
	s.gen[in.Timer] = 0
	switch {
	case in.Timer == timerIdleWarning && s.Phase == PhaseSession:
		s.WarningEndsAt = in.At.Add(s.Config.IdleWarning)
		t.arm(timerIdleTimeout, s.Config.IdleWarning)
	case in.Timer == timerIdleTimeout && s.Phase == PhaseSession:
		t.endSession(ReasonIdleTimeout)
	case in.Timer == timerMaxLength && s.Phase == PhaseSession:
		t.endSession(ReasonMaxLength)
	case in.Timer == timerGoodbye && s.Phase == PhaseGoodbye:
		// The card is still in (its removal would have ended goodbye): the screen keeps
		// asking for it, without the visit's reason, until it is out. The attract screen
		// would invite a card the reader cannot take.
		s.Goodbye = ReasonNone
	case in.Timer == timerShell:
		t.shellTimedOut()
	}
}

func (t *step) wipeDone() {
	s := &t.s
	if s.Phase != PhaseEnding {
		return
	}
	if s.CardPresent {
		t.goodbye(s.Goodbye)
	} else {
		t.idle()
	}
}

func (t *step) shutdown() {
	s := &t.s
	t.disarmAll()
	s.op = 0
	s.ShuttingDown = true
	t.wipe(ReasonShutdown)
	t.forget()
	s.Phase = PhaseEnding
	s.Goodbye = ReasonShutdown
	s.Error = ErrCodeNone
}

func (t *step) sameReader(r string) bool {
	return r == "" || t.s.Reader == "" || r == t.s.Reader
}

func (t *step) cardInserted(in CardInserted) {
	s := &t.s
	switch {
	case s.Phase == PhaseIdle && s.ShellClean:
		s.CardPresent, s.Reader, s.CardPending = true, in.Reader, false
		s.Phase = PhaseReading
		t.emit(readCard{Op: t.newOp(), Reader: in.Reader})
	case s.Phase == PhaseIdle, s.Phase == PhaseStarting, s.Phase == PhaseOutOfOrder:
		// Read once the kiosk is ready: PC/SC, a reader, and a shell that holds nothing of
		// the last citizen.
		s.CardPresent, s.Reader, s.CardPending = true, in.Reader, true
	}
	// In every other phase a card is already being served; a second one is ignored.
}

func (t *step) cardRemoved(in CardRemoved) {
	s := &t.s
	if !t.sameReader(in.Reader) {
		return // another reader's card
	}
	wasPresent := s.CardPresent
	s.CardPresent, s.Reader, s.CardPending = false, "", false
	if s.holdsCitizenData() {
		t.endVisitNow(ReasonCardRemoved)
		return
	}
	if s.Phase == PhaseGoodbye || (s.Phase == PhaseIdle && wasPresent) {
		t.idle()
	}
}

// endVisitNow wipes and goes straight to idle: the card is already out, so no goodbye.
func (t *step) endVisitNow(r Reason) {
	t.disarmAll()
	t.s.op = 0
	t.wipe(r)
	t.idle()
}

// wipe ends the visit's traces: the Wipe effect (operations, portal session, card logout,
// the UI's own memory), and, when the shell is required, an order to the shell to replace
// its browser. No card is read again until the shell confirms.
func (t *step) wipe(r Reason) {
	s := &t.s
	t.emit(wipe{Reason: r})
	if !s.Config.RequireShell {
		return
	}
	s.ShellClean = false
	if s.ShellUp {
		t.orderShellWipe()
	}
}

func (t *step) orderShellWipe() {
	s := &t.s
	s.seq++
	s.shellGen = s.seq
	t.emit(shellWipe{Conn: s.shellConn, Gen: s.shellGen})
	t.arm(timerShell, s.Config.ShellConfirm)
}

// shellConnected: every new shell connection must first prove it shows a fresh browser.
func (t *step) shellConnected(in shellConnected) {
	s := &t.s
	s.ShellUp, s.shellConn, s.shellGen = true, in.Conn, 0
	if s.Config.RequireShell {
		s.ShellClean = false
		t.orderShellWipe()
	}
}

func (t *step) shellLost(in shellLost) {
	s := &t.s
	if !s.ShellUp || in.Conn != s.shellConn {
		return // an older connection, already replaced
	}
	s.ShellUp, s.shellConn, s.shellGen = false, 0, 0
	if !s.Config.RequireShell {
		return
	}
	s.ShellClean = false
	if !s.ShellFailed {
		t.arm(timerShell, s.Config.ShellConfirm) // a restarted shell has this long to confirm
	}
}

func (t *step) shellWiped(in shellWiped) {
	s := &t.s
	if !s.ShellUp || in.Conn != s.shellConn || in.Gen == 0 || in.Gen != s.shellGen {
		return // not the order outstanding: late, forged or from a replaced connection
	}
	s.shellGen = 0
	s.ShellClean, s.ShellFailed = true, false
	t.disarm(timerShell)
	switch {
	case s.Phase == PhaseStarting || s.Phase == PhaseOutOfOrder:
		t.maybeReady()
	case s.Phase == PhaseIdle && s.CardPending:
		t.cardInserted(CardInserted{Reader: s.Reader})
	}
}

// shellTimedOut: the shell did not confirm a wipe (or did not come back) in time. What it
// shows may hold the last citizen's traces, so the kiosk is out of order until a shell
// connects and confirms; the stuck connection is dropped so that only a new one can.
func (t *step) shellTimedOut() {
	s := &t.s
	if s.ShellClean || !s.Config.RequireShell {
		return
	}
	s.ShellFailed = true
	s.shellGen = 0
	if s.ShellUp {
		t.emit(dropShell{Conn: s.shellConn})
		s.ShellUp, s.shellConn = false, 0
	}
	if s.holdsCitizenData() {
		t.endVisitNow(ReasonShellLost)
	}
	if s.Phase == PhaseStarting {
		return // never was ready; stays starting until a shell confirms
	}
	if s.Phase != PhaseIdle {
		s.CardPending = false // a card left in after its visit must come out and go in again
	}
	t.disarmAll()
	s.Phase = PhaseOutOfOrder
	s.Error = t.outOfOrderCode()
}

// outOfOrderCode is the error shown while out of order.
func (t *step) outOfOrderCode() ErrorCode {
	if t.s.ServiceUp && !t.s.ReaderPresent {
		return ErrCodeReaderMissing
	}
	return ErrCodeOutOfOrder
}

// endSession leaves phase session: wipe, show ending, then goodbye or idle on WipeDone.
func (t *step) endSession(r Reason) {
	s := &t.s
	t.disarmAll()
	s.op = 0
	t.wipe(r)
	t.forget()
	s.Phase = PhaseEnding
	s.Goodbye = r
}

// forget drops everything the state knows about the citizen.
func (t *step) forget() {
	s := &t.s
	s.Citizen = ""
	s.PIN = PINState{Min: s.Config.PINMin, Max: s.Config.PINMax, TriesLeft: -1}
	s.PortalURL = ""
	s.StartedAt, s.EndsAt, s.WarningEndsAt = time.Time{}, time.Time{}, time.Time{}
}

func (t *step) verifyResult(op uint64) bool {
	if t.s.Phase != PhaseVerifying || op != t.s.op {
		return false
	}
	t.s.op, t.s.handle = 0, 0
	return true
}

func (t *step) fail(code ErrorCode) {
	s := &t.s
	t.disarmAll()
	s.op = 0
	t.forget()
	s.Phase = PhaseError
	s.Error = code
}

func (t *step) goodbye(r Reason) {
	s := &t.s
	t.disarmAll()
	t.forget()
	s.Phase = PhaseGoodbye
	s.Goodbye = r
	s.Error = ErrCodeNone
	t.arm(timerGoodbye, s.Config.GoodbyeAfter)
}

// idle resets everything of the last visit.
func (t *step) idle() {
	s := &t.s
	t.disarmAll()
	s.op, s.handle = 0, 0
	s.Phase = PhaseIdle
	s.Lang = s.Config.DefaultLanguage
	s.LargeText, s.HighContrast = false, false
	t.forget()
	s.Error = ErrCodeNone
	s.Goodbye = ReasonNone
}

// outOfOrder handles the loss of the reader or of PC/SC in any phase.
func (t *step) outOfOrder(r Reason) {
	s := &t.s
	if s.holdsCitizenData() {
		t.endVisitNow(r)
	} else {
		t.idle()
	}
	s.CardPresent, s.Reader, s.CardPending = false, "", false
	s.Phase = PhaseOutOfOrder
	s.Error = t.outOfOrderCode()
}

// maybeReady leaves starting or out_of_order once PC/SC and a reader are both there.
func (t *step) maybeReady() {
	s := &t.s
	if s.Phase != PhaseStarting && s.Phase != PhaseOutOfOrder {
		return
	}
	if !s.ServiceUp || !s.ReaderPresent || !s.ShellClean {
		if s.Phase == PhaseOutOfOrder {
			s.Error = t.outOfOrderCode()
		}
		return
	}
	pending, reader := s.CardPending, s.Reader
	t.idle()
	if pending {
		t.cardInserted(CardInserted{Reader: reader})
	}
}

func (t *step) newOp() uint64 {
	t.s.seq++
	t.s.op = t.s.seq
	return t.s.op
}

func (t *step) arm(id timerID, after time.Duration) {
	t.s.seq++
	t.s.gen[id] = t.s.seq
	t.emit(armTimer{Timer: id, After: after, Gen: t.s.seq})
}

func (t *step) disarm(id timerID) {
	if t.s.gen[id] != 0 {
		t.s.gen[id] = 0
		t.emit(disarmTimer{Timer: id})
	}
}

// disarmAll stops the visit's timers (not TimerShell, which outlives visits).
func (t *step) disarmAll() {
	for id := timerID(0); id < numTimers; id++ {
		if id != timerShell {
			t.disarm(id)
		}
	}
}
