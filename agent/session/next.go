package session

import (
	"slices"
	"time"
)

// Next is the session state machine: the state after in, and what the driver must do. It is
// a pure function: no I/O, no clock, no randomness; the same arguments give the same result.
func Next(s State, in Input) (State, []Effect) {
	t := step{s: s}
	t.apply(in)
	if visibleOf(t.s) != visibleOf(s) {
		if t.s.Phase == PhaseEnding {
			// "ending" is the wipe in progress: the UI shows it before the wipe runs (the
			// card's logout can take up to the wipe timeout), not after it.
			t.fx = append([]Effect{Broadcast{}}, t.fx...)
		} else {
			t.emit(Broadcast{})
		}
	}
	return t.s, t.fx
}

type step struct {
	s  State
	fx []Effect
}

func (t *step) emit(e Effect) { t.fx = append(t.fx, e) }

func (t *step) apply(in Input) {
	s := &t.s
	if s.ShuttingDown {
		// After Shutdown only the wipe's completion and the card's removal still matter.
		switch in := in.(type) {
		case WipeDone:
			if s.Phase == PhaseEnding {
				s.Phase = PhaseGoodbye
			}
		case CardRemoved:
			if t.sameReader(in.Reader) {
				s.CardPresent, s.Reader = false, ""
			}
		}
		return
	}
	switch in := in.(type) {
	case CardInserted:
		t.cardInserted(in)
	case CardRemoved:
		t.cardRemoved(in)
	case CardRead:
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
			if info.PINMin > 0 && info.PINMax >= info.PINMin {
				s.PIN.Min, s.PIN.Max = info.PINMin, info.PINMax
			}
			if s.PIN.TriesLeft < 0 {
				s.PIN.TriesLeft = -1
			}
		}
	case CardReadFailed:
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
	case PINSubmitted:
		// At most one VERIFY per submission, and only while the PIN pad is up.
		if s.Phase != PhasePIN || !in.Digits || in.Len < s.PIN.Min || in.Len > s.PIN.Max {
			return
		}
		s.Phase = PhaseVerifying
		s.handle = in.Handle
		t.emit(VerifyPIN{Op: t.newOp(), Handle: in.Handle})
	case VerifyOK:
		if !t.verifyResult(in.Op) {
			return
		}
		s.Phase = PhaseConnecting
		s.PIN.Wrong = false
		t.emit(Connect{Op: t.newOp()})
	case VerifyWrong:
		if !t.verifyResult(in.Op) {
			return
		}
		if in.Left == 0 {
			t.fail(ErrCodePINBlocked)
			return
		}
		s.Phase = PhasePIN
		s.PIN.Wrong = true
		s.PIN.TriesLeft = max(in.Left, -1)
	case VerifyBlocked:
		if t.verifyResult(in.Op) {
			t.fail(ErrCodePINBlocked)
		}
	case VerifyFailed:
		if t.verifyResult(in.Op) {
			t.fail(ErrCodeCardUnreadable)
		}
	case ConnectOK:
		if s.Phase != PhaseConnecting || in.Op != s.op {
			return
		}
		s.op = 0
		s.Phase = PhaseSession
		s.PortalURL = in.PortalURL
		s.StartedAt = in.At
		s.EndsAt = in.At.Add(s.Config.MaxLength)
		s.WarningEndsAt = time.Time{}
		t.arm(TimerIdleWarning, s.Config.IdleTimeout-s.Config.IdleWarning)
		t.arm(TimerMaxLength, s.Config.MaxLength)
	case ConnectFailed:
		if s.Phase != PhaseConnecting || in.Op != s.op {
			return
		}
		s.op = 0
		// The card is logged in: wipe before showing the error.
		t.emit(Wipe{Reason: ReasonConnectFail})
		switch in.Code {
		case ErrCodePortalUntrusted, ErrCodeClientCertRefused:
			t.fail(in.Code)
		default:
			t.fail(ErrCodePortalUnavailable)
		}
	case Cancel:
		if s.Phase == PhasePIN || s.Phase == PhaseError {
			t.goodbye(ReasonCancelled)
		}
	case EndSession:
		if s.Phase == PhaseSession {
			t.endSession(ReasonEnded)
		}
	case Activity:
		if s.Phase != PhaseSession {
			return
		}
		s.WarningEndsAt = time.Time{}
		t.disarm(TimerIdleTimeout)
		t.arm(TimerIdleWarning, s.Config.IdleTimeout-s.Config.IdleWarning)
	case Language:
		if slices.Contains(s.Config.Languages, in.Lang) {
			s.Lang = in.Lang
		}
	case TimerFired:
		if in.Timer < 0 || in.Timer >= numTimers || in.Gen == 0 || s.gen[in.Timer] != in.Gen {
			return // stale: disarmed or re-armed since
		}
		s.gen[in.Timer] = 0
		switch {
		case in.Timer == TimerIdleWarning && s.Phase == PhaseSession:
			s.WarningEndsAt = in.At.Add(s.Config.IdleWarning)
			t.arm(TimerIdleTimeout, s.Config.IdleWarning)
		case in.Timer == TimerIdleTimeout && s.Phase == PhaseSession:
			t.endSession(ReasonIdleTimeout)
		case in.Timer == TimerMaxLength && s.Phase == PhaseSession:
			t.endSession(ReasonMaxLength)
		case in.Timer == TimerGoodbye && s.Phase == PhaseGoodbye:
			t.idle()
		}
	case WipeDone:
		if s.Phase != PhaseEnding {
			return
		}
		if s.CardPresent {
			t.goodbye(s.Goodbye)
		} else {
			t.idle()
		}
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
	case Shutdown:
		t.disarmAll()
		s.op = 0
		s.ShuttingDown = true
		t.emit(Wipe{Reason: ReasonShutdown})
		t.forget()
		s.Phase = PhaseEnding
		s.Goodbye = ReasonShutdown
		s.Error = ErrCodeNone
	}
}

func (t *step) sameReader(r string) bool {
	return r == "" || t.s.Reader == "" || r == t.s.Reader
}

func (t *step) cardInserted(in CardInserted) {
	s := &t.s
	switch s.Phase {
	case PhaseIdle:
		s.CardPresent, s.Reader = true, in.Reader
		s.Phase = PhaseReading
		t.emit(ReadCard{Op: t.newOp(), Reader: in.Reader})
	case PhaseStarting, PhaseOutOfOrder:
		s.CardPresent, s.Reader = true, in.Reader // read once the kiosk is ready
	}
	// In every other phase a card is already being served; a second one is ignored.
}

func (t *step) cardRemoved(in CardRemoved) {
	s := &t.s
	if !t.sameReader(in.Reader) {
		return // another reader's card
	}
	wasPresent := s.CardPresent
	s.CardPresent, s.Reader = false, ""
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
	t.emit(Wipe{Reason: r})
	t.idle()
}

// endSession leaves phase session: wipe, show ending, then goodbye or idle on WipeDone.
func (t *step) endSession(r Reason) {
	s := &t.s
	t.disarmAll()
	s.op = 0
	t.emit(Wipe{Reason: r})
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
	t.arm(TimerGoodbye, s.Config.GoodbyeAfter)
}

// idle resets everything of the last visit.
func (t *step) idle() {
	s := &t.s
	t.disarmAll()
	s.op, s.handle = 0, 0
	s.Phase = PhaseIdle
	s.Lang = s.Config.DefaultLanguage
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
	s.CardPresent, s.Reader = false, ""
	s.Phase = PhaseOutOfOrder
	s.Error = ErrCodeReaderMissing
	if !s.ServiceUp {
		s.Error = ErrCodeOutOfOrder
	}
}

// maybeReady leaves starting or out_of_order once PC/SC and a reader are both there.
func (t *step) maybeReady() {
	s := &t.s
	if s.Phase != PhaseStarting && s.Phase != PhaseOutOfOrder {
		return
	}
	if !s.ServiceUp || !s.ReaderPresent {
		if s.Phase == PhaseOutOfOrder && s.ServiceUp {
			s.Error = ErrCodeReaderMissing
		}
		return
	}
	card, reader := s.CardPresent, s.Reader
	t.idle()
	s.CardPresent = false
	if card {
		t.cardInserted(CardInserted{Reader: reader})
	}
}

func (t *step) newOp() uint64 {
	t.s.seq++
	t.s.op = t.s.seq
	return t.s.op
}

func (t *step) arm(id TimerID, after time.Duration) {
	t.s.seq++
	t.s.gen[id] = t.s.seq
	t.emit(ArmTimer{Timer: id, After: after, Gen: t.s.seq})
}

func (t *step) disarm(id TimerID) {
	if t.s.gen[id] != 0 {
		t.s.gen[id] = 0
		t.emit(DisarmTimer{Timer: id})
	}
}

func (t *step) disarmAll() {
	for id := TimerID(0); id < numTimers; id++ {
		t.disarm(id)
	}
}

// visible is the part of a State the UI shows; a change of it is broadcast.
type visible struct {
	phase              Phase
	lang               string
	pin                PINState
	citizen, portalURL string
	endsAt, warnEndsAt time.Time
	err                ErrorCode
	goodbye            Reason
}

func visibleOf(s State) visible {
	v := visible{phase: s.Phase, lang: s.Lang, err: s.Error, goodbye: s.Goodbye}
	switch s.Phase {
	case PhasePIN, PhaseVerifying:
		v.pin = s.PIN
	case PhaseConnecting:
		v.citizen = s.Citizen
	case PhaseSession:
		v.citizen, v.portalURL, v.endsAt, v.warnEndsAt = s.Citizen, s.PortalURL, s.EndsAt, s.WarningEndsAt
	}
	return v
}
