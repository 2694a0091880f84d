package session

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func testConfig() Config {
	return Config{IdleTimeout: 2 * time.Minute, IdleWarning: 30 * time.Second, MaxLength: 30 * time.Minute,
		GoodbyeAfter: 10 * time.Second, PINMin: 6, PINMax: 8, Languages: []string{"en", "el"}, DefaultLanguage: "en"}
}

const reader = "Virtual PCD 00 00"

// run applies inputs in order (each may be a func(State) Input to use the current op/gen).
func run(t testing.TB, s State, ins ...any) (State, []effect) {
	t.Helper()
	var fx []effect
	for _, x := range ins {
		var in Input
		switch x := x.(type) {
		case Input:
			in = x
		case func(State) Input:
			in = x(s)
		default:
			t.Fatalf("bad input %T", x)
		}
		s, fx = decide(s, in)
	}
	return s, fx
}

func readDone(s State) Input {
	return cardRead{Op: s.op, Info: CardInfo{Name: "Jane Citizen", PINTriesLeft: 3}}
}
func verifyDone(s State) Input { return verifyOK{Op: s.op} }
func connectDone(s State) Input {
	return connectOK{Op: s.op, PortalURL: "http://127.0.0.1:8471/", At: t0}
}
func fire(id timerID, at time.Time) func(State) Input {
	return func(s State) Input { return timerFired{Timer: id, Gen: s.gen[id], At: at} }
}

var pin6 = pinSubmitted{Handle: 7, Len: 6, Digits: true}

// statePaths reaches every phase by a realistic path.
var statePaths = map[Phase][]any{
	PhaseStarting:   nil,
	PhaseIdle:       {ServiceRestored{}, ReaderFound{}},
	PhaseReading:    {ServiceRestored{}, ReaderFound{}, CardInserted{Reader: reader}},
	PhasePIN:        {ServiceRestored{}, ReaderFound{}, CardInserted{Reader: reader}, readDone},
	PhaseVerifying:  {ServiceRestored{}, ReaderFound{}, CardInserted{Reader: reader}, readDone, pin6},
	PhaseConnecting: {ServiceRestored{}, ReaderFound{}, CardInserted{Reader: reader}, readDone, pin6, verifyDone},
	PhaseSession:    {ServiceRestored{}, ReaderFound{}, CardInserted{Reader: reader}, readDone, pin6, verifyDone, connectDone},
	PhaseEnding:     {ServiceRestored{}, ReaderFound{}, CardInserted{Reader: reader}, readDone, pin6, verifyDone, connectDone, endSession{}},
	PhaseGoodbye:    {ServiceRestored{}, ReaderFound{}, CardInserted{Reader: reader}, readDone, pin6, verifyDone, connectDone, endSession{}, wipeDone{}},
	PhaseError:      {ServiceRestored{}, ReaderFound{}, CardInserted{Reader: reader}, func(s State) Input { return cardReadFailed{Op: s.op, Code: ErrCodeCardUnreadable} }},
	PhaseOutOfOrder: {ServiceRestored{}, ReaderFound{}, ReaderLost{}},
}

func stateIn(t testing.TB, p Phase) State {
	s, _ := run(t, newState(testConfig()), statePaths[p]...)
	if s.Phase != p {
		t.Fatalf("path to %s reached %s", p, s.Phase)
	}
	return s
}

// inputs are one of each input kind, made to match the state's outstanding op and timers.
var inputs = []struct {
	name string
	make func(State) Input
}{
	{"card_inserted", func(State) Input { return CardInserted{Reader: reader} }},
	{"card_removed", func(State) Input { return CardRemoved{Reader: reader} }},
	{"card_read", readDone},
	{"card_read_failed", func(s State) Input { return cardReadFailed{Op: s.op, Code: ErrCodeCardUnsupported} }},
	{"pin", func(State) Input { return pin6 }},
	{"verify_ok", verifyDone},
	{"verify_wrong", func(s State) Input { return verifyWrong{Op: s.op, Left: 2} }},
	{"verify_blocked", func(s State) Input { return verifyWrong{Op: s.op, Left: 0} }},
	{"verify_failed", func(s State) Input { return verifyFailed{Op: s.op} }},
	{"connect_ok", connectDone},
	{"connect_failed", func(s State) Input { return connectFailed{Op: s.op, Code: ErrCodePortalUntrusted} }},
	{"cancel", func(State) Input { return cancel{} }},
	{"end_session", func(State) Input { return endSession{} }},
	{"activity", func(State) Input { return activity{At: t0.Add(time.Minute)} }},
	{"language", func(State) Input { return Language{Lang: "el"} }},
	{"idle_warning", fire(timerIdleWarning, t0.Add(90*time.Second))},
	{"idle_timeout", fire(timerIdleTimeout, t0.Add(2*time.Minute))},
	{"max_length", fire(timerMaxLength, t0.Add(30*time.Minute))},
	{"goodbye_done", fire(timerGoodbye, t0.Add(time.Hour))},
	{"wipe_done", func(State) Input { return wipeDone{} }},
	{"reader_lost", func(State) Input { return ReaderLost{} }},
	{"reader_found", func(State) Input { return ReaderFound{} }},
	{"service_lost", func(State) Input { return ServiceLost{} }},
	{"service_restored", func(State) Input { return ServiceRestored{} }},
	{"shutdown", func(State) Input { return shutdown{} }},
}

// transitions lists every phase change; any (phase, input) not listed keeps the phase.
var transitions = map[Phase]map[string]Phase{
	PhaseStarting: {
		"reader_lost": PhaseOutOfOrder, "service_lost": PhaseOutOfOrder, "shutdown": PhaseEnding,
	},
	PhaseIdle: {
		"card_inserted": PhaseReading, "reader_lost": PhaseOutOfOrder, "service_lost": PhaseOutOfOrder,
		"shutdown": PhaseEnding,
	},
	PhaseReading: {
		"card_removed": PhaseIdle, "card_read": PhasePIN, "card_read_failed": PhaseError,
		"reader_lost": PhaseOutOfOrder, "service_lost": PhaseOutOfOrder, "shutdown": PhaseEnding,
	},
	PhasePIN: {
		"card_removed": PhaseIdle, "pin": PhaseVerifying, "cancel": PhaseGoodbye,
		"reader_lost": PhaseOutOfOrder, "service_lost": PhaseOutOfOrder, "shutdown": PhaseEnding,
	},
	PhaseVerifying: {
		"card_removed": PhaseIdle, "verify_ok": PhaseConnecting, "verify_wrong": PhasePIN,
		"verify_blocked": PhaseError, "verify_failed": PhaseError,
		"reader_lost": PhaseOutOfOrder, "service_lost": PhaseOutOfOrder, "shutdown": PhaseEnding,
	},
	PhaseConnecting: {
		"card_removed": PhaseIdle, "connect_ok": PhaseSession, "connect_failed": PhaseError,
		"reader_lost": PhaseOutOfOrder, "service_lost": PhaseOutOfOrder, "shutdown": PhaseEnding,
	},
	PhaseSession: {
		"card_removed": PhaseIdle, "end_session": PhaseEnding, "idle_timeout": PhaseSession,
		"max_length": PhaseEnding, "reader_lost": PhaseOutOfOrder, "service_lost": PhaseOutOfOrder,
		"shutdown": PhaseEnding,
	},
	PhaseEnding: {
		"card_removed": PhaseIdle, "wipe_done": PhaseGoodbye,
		"reader_lost": PhaseOutOfOrder, "service_lost": PhaseOutOfOrder, "shutdown": PhaseEnding,
	},
	PhaseGoodbye: {
		"card_removed": PhaseIdle, "goodbye_done": PhaseGoodbye,
		"reader_lost": PhaseOutOfOrder, "service_lost": PhaseOutOfOrder, "shutdown": PhaseEnding,
	},
	PhaseError: {
		"card_removed": PhaseIdle, "cancel": PhaseGoodbye,
		"reader_lost": PhaseOutOfOrder, "service_lost": PhaseOutOfOrder, "shutdown": PhaseEnding,
	},
	PhaseOutOfOrder: {
		"reader_found": PhaseIdle, "shutdown": PhaseEnding,
	},
}

func count[T effect](fx []effect) int {
	n := 0
	for _, e := range fx {
		if _, ok := e.(T); ok {
			n++
		}
	}
	return n
}

// TestNextEveryPhaseEveryInput runs each input in each phase and checks the transition table
// and the invariants that must hold everywhere.
func TestNextEveryPhaseEveryInput(t *testing.T) {
	for _, p := range Phases {
		for _, in := range inputs {
			t.Run(fmt.Sprintf("%s/%s", p, in.name), func(t *testing.T) {
				s := stateIn(t, p)
				input := in.make(s)
				got, fx := decide(s, input)
				want, ok := transitions[p][in.name]
				if !ok {
					want = p
				}
				if got.Phase != want {
					t.Fatalf("phase %s after %s, want %s", got.Phase, in.name, want)
				}
				// Invariant 1: at most one VERIFY, and only for a PIN submitted in phase pin.
				nv := count[verifyPIN](fx)
				if nv > 1 || (nv == 1 && !(p == PhasePIN && in.name == "pin")) {
					t.Errorf("%d VerifyPIN effects from %s/%s: %v", nv, p, in.name, fx)
				}
				// Leaving a session (or anything after VERIFY ok) always wipes, exactly once.
				nw := count[wipe](fx)
				if s.InSession() && p != PhaseEnding && !got.InSession() && nw != 1 {
					// ending itself is reached by a wipe too, checked below
					t.Errorf("left %s for %s with %d Wipe effects: %v", p, got.Phase, nw, fx)
				}
				if got.Phase == PhaseEnding && p != PhaseEnding && nw != 1 {
					t.Errorf("entered ending with %d Wipe effects", nw)
				}
				if nw > 1 {
					t.Errorf("%d Wipe effects", nw)
				}
				// Card removal: wipe wherever citizen data may be, and go to idle.
				if in.name == "card_removed" {
					if (nw == 1) != s.holdsCitizenData() {
						t.Errorf("card removed in %s: %d Wipe effects", p, nw)
					}
					if got.CardPresent {
						t.Error("card still present after removal")
					}
				}
				// broadcast exactly when the visible state changed.
				if (count[broadcast](fx) == 1) != (got.Visible() != s.Visible()) {
					t.Errorf("broadcast %d but visible changed %v", count[broadcast](fx), got.Visible() != s.Visible())
				}
				// Every armed timer is the state's current generation.
				for _, e := range fx {
					if a, ok := e.(armTimer); ok && (got.gen[a.Timer] != a.Gen || a.After <= 0) {
						t.Errorf("ArmTimer %+v does not match state gen %v", a, got.gen)
					}
				}
				// decide is pure: the same call gives the same answer.
				again, fx2 := decide(s, input)
				if !reflect.DeepEqual(again, got) || !reflect.DeepEqual(fx, fx2) {
					t.Error("decide is not deterministic")
				}
			})
		}
	}
}

// Every way out of a session emits the same wipe: one Wipe, all timers disarmed, and the
// portal URL gone from the state.
func TestEveryWayOutOfSessionWipes(t *testing.T) {
	ways := []struct {
		name   string
		ins    []any
		reason Reason
		phase  Phase
	}{
		{"card removed", []any{CardRemoved{Reader: reader}}, ReasonCardRemoved, PhaseIdle},
		{"idle timeout after warning", []any{fire(timerIdleWarning, t0.Add(90*time.Second)), fire(timerIdleTimeout, t0.Add(2*time.Minute))}, ReasonIdleTimeout, PhaseEnding},
		{"end session", []any{endSession{}}, ReasonEnded, PhaseEnding},
		{"max length", []any{fire(timerMaxLength, t0.Add(30*time.Minute))}, ReasonMaxLength, PhaseEnding},
		{"shutdown", []any{shutdown{}}, ReasonShutdown, PhaseEnding},
		{"reader lost", []any{ReaderLost{}}, ReasonReaderLost, PhaseOutOfOrder},
		{"pcscd lost", []any{ServiceLost{}}, ReasonServiceLost, PhaseOutOfOrder},
	}
	for _, w := range ways {
		t.Run(w.name, func(t *testing.T) {
			s := stateIn(t, PhaseSession)
			s, fx := run(t, s, w.ins...)
			if s.Phase != w.phase {
				t.Fatalf("phase %s, want %s", s.Phase, w.phase)
			}
			var wipes []wipe
			disarmed := map[timerID]bool{}
			for _, e := range fx {
				switch e := e.(type) {
				case wipe:
					wipes = append(wipes, e)
				case disarmTimer:
					disarmed[e.Timer] = true
				case verifyPIN, connect, readCard:
					t.Errorf("unexpected %T", e)
				}
			}
			if len(wipes) != 1 || wipes[0].Reason != w.reason {
				t.Errorf("wipes %v, want one with reason %s", wipes, w.reason)
			}
			if s.gen != [numTimers]uint64{} {
				t.Errorf("timers still armed: %v", s.gen)
			}
			if !disarmed[timerMaxLength] && w.reason != ReasonMaxLength {
				t.Error("max length timer not disarmed")
			}
			if s.PortalURL != "" && s.Phase != PhaseEnding {
				t.Error("portal URL kept")
			}
			if s.Phase == PhaseEnding {
				s2, _ := decide(s, wipeDone{})
				if s2.Phase != PhaseGoodbye || s2.Goodbye != w.reason || s2.PortalURL != "" || s2.Citizen != "" {
					t.Errorf("after WipeDone: %+v", s2)
				}
			}
		})
	}
}

func TestWrongPINThenBlocked(t *testing.T) {
	s := stateIn(t, PhaseVerifying)
	s, fx := decide(s, verifyWrong{Op: s.op, Left: 2})
	if s.Phase != PhasePIN || !s.PIN.Wrong || s.PIN.TriesLeft != 2 || count[verifyPIN](fx) != 0 {
		t.Fatalf("after wrong PIN: %+v %v", s.PIN, fx)
	}
	s, fx = decide(s, pinSubmitted{Handle: 8, Len: 6, Digits: true})
	if v := fx[0].(verifyPIN); v.Handle != 8 || s.Phase != PhaseVerifying {
		t.Fatalf("second PIN: %v", fx)
	}
	s, _ = decide(s, verifyWrong{Op: s.op, Left: 0})
	if s.Phase != PhaseError || s.Error != ErrCodePINBlocked {
		t.Fatalf("after last try: %s %s", s.Phase, s.Error)
	}
	// Blocked: no PIN is ever verified again, however often it is submitted.
	for i := 0; i < 3; i++ {
		var fx []effect
		s, fx = decide(s, pinSubmitted{Handle: uint64(10 + i), Len: 6, Digits: true})
		if count[verifyPIN](fx) != 0 {
			t.Fatal("VerifyPIN in blocked state")
		}
	}
	// Leaving: cancel shows goodbye, card out goes to idle.
	s, _ = decide(s, cancel{})
	if s.Phase != PhaseGoodbye || s.Goodbye != ReasonCancelled {
		t.Fatalf("cancel: %s %s", s.Phase, s.Goodbye)
	}
	s, _ = decide(s, CardRemoved{Reader: reader})
	if s.Phase != PhaseIdle {
		t.Fatalf("removed: %s", s.Phase)
	}
}

func TestBlockedCardNeverAsksForPIN(t *testing.T) {
	s := stateIn(t, PhaseReading)
	s, _ = decide(s, cardRead{Op: s.op, Info: CardInfo{Name: "X", PINTriesLeft: 0}})
	if s.Phase != PhaseError || s.Error != ErrCodePINBlocked {
		t.Fatalf("%s %s", s.Phase, s.Error)
	}
}

func TestPINSubmissionRules(t *testing.T) {
	tests := []struct {
		name string
		in   pinSubmitted
		ok   bool
	}{
		{"six digits", pinSubmitted{Handle: 1, Len: 6, Digits: true}, true},
		{"eight digits", pinSubmitted{Handle: 1, Len: 8, Digits: true}, true},
		{"too short", pinSubmitted{Handle: 1, Len: 5, Digits: true}, false},
		{"too long", pinSubmitted{Handle: 1, Len: 9, Digits: true}, false},
		{"not digits", pinSubmitted{Handle: 1, Len: 6, Digits: false}, false},
	}
	for _, tt := range tests {
		s := stateIn(t, PhasePIN)
		s, fx := decide(s, tt.in)
		if (count[verifyPIN](fx) == 1) != tt.ok {
			t.Errorf("%s: effects %v", tt.name, fx)
		}
		// A second submission while verifying is ignored.
		_, fx = decide(s, tt.in)
		if count[verifyPIN](fx) != 0 {
			t.Errorf("%s: second submission verified", tt.name)
		}
	}
}

// The card may narrow the configured PIN length, never widen it: a PIN the PIV format
// refuses must never be asked for (it would reach the card path and fail as unreadable).
func TestCardPINLengthNarrowsConfig(t *testing.T) {
	for _, tt := range []struct{ cardMin, cardMax, wantMin, wantMax int }{
		{7, 8, 7, 8},
		{4, 6, 6, 6},
		{4, 4, 6, 8}, // no overlap: the configuration stands
		{0, 0, 6, 8},
	} {
		s := stateIn(t, PhaseReading)
		s, _ = decide(s, cardRead{Op: s.op, Info: CardInfo{Name: "X", PINTriesLeft: -5, PINMin: tt.cardMin, PINMax: tt.cardMax}})
		if want := (PINState{Min: tt.wantMin, Max: tt.wantMax, TriesLeft: -1}); s.PIN != want {
			t.Errorf("card %d–%d: PIN %+v, want %+v", tt.cardMin, tt.cardMax, s.PIN, want)
		}
	}
}

func TestStaleResultsIgnored(t *testing.T) {
	// A card is removed while being read and another inserted: the first read's result
	// must not be taken for the second card.
	s := stateIn(t, PhaseReading)
	oldOp := s.op
	s, _ = run(t, s, CardRemoved{Reader: reader}, CardInserted{Reader: reader})
	s2, fx := decide(s, cardRead{Op: oldOp, Info: CardInfo{Name: "Previous Citizen", PINTriesLeft: 3}})
	if s2.Phase != PhaseReading || len(fx) != 0 {
		t.Errorf("stale read accepted: %s %v", s2.Phase, fx)
	}
	// A late ConnectOK after the card came out does not open a session.
	s = stateIn(t, PhaseConnecting)
	op := s.op
	s, _ = decide(s, CardRemoved{Reader: reader})
	s, fx = decide(s, connectOK{Op: op, PortalURL: "http://x/", At: t0})
	if s.Phase != PhaseIdle || len(fx) != 0 {
		t.Errorf("late connect accepted: %s %v", s.Phase, fx)
	}
	// A timer from before an activity is ignored.
	s = stateIn(t, PhaseSession)
	oldGen := s.gen[timerIdleWarning]
	s, _ = decide(s, activity{At: t0.Add(time.Minute)})
	s2, fx = decide(s, timerFired{Timer: timerIdleWarning, Gen: oldGen, At: t0.Add(90 * time.Second)})
	if !s2.WarningEndsAt.IsZero() || len(fx) != 0 {
		t.Errorf("stale timer accepted: %v", fx)
	}
}

func TestIdleWarningAndActivity(t *testing.T) {
	s := stateIn(t, PhaseSession)
	if s.EndsAt != t0.Add(30*time.Minute) || s.StartedAt != t0 || s.Citizen != "Jane Citizen" {
		t.Fatalf("session state %+v", s)
	}
	at := t0.Add(90 * time.Second)
	s, fx := run(t, s, fire(timerIdleWarning, at))
	if s.WarningEndsAt != at.Add(30*time.Second) {
		t.Fatalf("warning ends %v", s.WarningEndsAt)
	}
	if !reflect.DeepEqual(fx, []effect{armTimer{Timer: timerIdleTimeout, After: 30 * time.Second, Gen: s.gen[timerIdleTimeout]}, broadcast{}}) {
		t.Fatalf("effects %v", fx)
	}
	// "I'm still here": the warning goes, the countdown is disarmed, the idle timer restarts.
	s, fx = decide(s, activity{At: at.Add(5 * time.Second)})
	if !s.WarningEndsAt.IsZero() || s.gen[timerIdleTimeout] != 0 || s.Phase != PhaseSession {
		t.Fatalf("after activity %+v", s)
	}
	if !reflect.DeepEqual(fx, []effect{disarmTimer{Timer: timerIdleTimeout},
		armTimer{Timer: timerIdleWarning, After: 90 * time.Second, Gen: s.gen[timerIdleWarning]}, broadcast{}}) {
		t.Fatalf("effects %v", fx)
	}
	// activity without a warning re-arms quietly (no broadcast).
	_, fx = decide(s, activity{At: at.Add(6 * time.Second)})
	if count[broadcast](fx) != 0 || count[armTimer](fx) != 1 {
		t.Fatalf("effects %v", fx)
	}
}

func TestGoodbye(t *testing.T) {
	s := stateIn(t, PhaseGoodbye)
	if s.Goodbye != ReasonEnded || s.gen[timerGoodbye] == 0 {
		t.Fatalf("%+v", s)
	}
	// The card left in: after goodbye_after the screen still asks for the card (never the
	// attract screen, which would invite a card the reader cannot take), without the reason.
	s2, _ := run(t, s, fire(timerGoodbye, t0.Add(time.Hour)))
	if s2.Phase != PhaseGoodbye || !s2.CardPresent || s2.Goodbye != ReasonNone || s2.Visible().Goodbye != ReasonNone {
		t.Fatalf("%s card %v reason %q", s2.Phase, s2.CardPresent, s2.Goodbye)
	}
	// However long it stays in.
	s2, _ = run(t, s2, activity{At: t0.Add(2 * time.Hour)}, fire(timerGoodbye, t0.Add(3*time.Hour)))
	if s2.Phase != PhaseGoodbye {
		t.Fatalf("the card still in: %s", s2.Phase)
	}
	// Taken out: the attract screen, with nothing to wipe.
	s3, fx := decide(s2, CardRemoved{Reader: reader})
	if s3.Phase != PhaseIdle || count[wipe](fx) != 0 {
		t.Fatalf("%s %v", s3.Phase, fx)
	}
	// Session ended by card removal skips goodbye.
	s = stateIn(t, PhaseSession)
	s, _ = decide(s, CardRemoved{Reader: reader})
	if s.Phase != PhaseIdle || s.Goodbye != ReasonNone {
		t.Fatalf("%s %s", s.Phase, s.Goodbye)
	}
}

func TestLanguageResetsAtIdle(t *testing.T) {
	s := stateIn(t, PhasePIN)
	s, _ = decide(s, Language{Lang: "el"})
	s, _ = decide(s, Language{Lang: "xx"})
	if s.Lang != "el" {
		t.Fatalf("lang %s", s.Lang)
	}
	s, _ = decide(s, CardRemoved{Reader: reader})
	if s.Lang != "en" || s.Citizen != "" {
		t.Fatalf("idle keeps %q %q", s.Lang, s.Citizen)
	}
}

func TestConnectFailureWipesAndShowsError(t *testing.T) {
	for _, code := range []ErrorCode{ErrCodePortalUnavailable, ErrCodePortalUntrusted, ErrCodeClientCertRefused, "weird"} {
		s := stateIn(t, PhaseConnecting)
		s, fx := decide(s, connectFailed{Op: s.op, Code: code})
		want := code
		if code == "weird" {
			want = ErrCodePortalUnavailable
		}
		if s.Phase != PhaseError || s.Error != want || count[wipe](fx) != 1 {
			t.Errorf("%s: %s %s %v", code, s.Phase, s.Error, fx)
		}
		s, _ = decide(s, CardRemoved{Reader: reader})
		if s.Phase != PhaseIdle {
			t.Errorf("%s: not idle after removal", code)
		}
	}
}

func TestOutOfOrderAndRecovery(t *testing.T) {
	s := stateIn(t, PhaseSession)
	s, _ = decide(s, ServiceLost{})
	if s.Phase != PhaseOutOfOrder || s.Error != ErrCodeOutOfOrder || s.CardPresent {
		t.Fatalf("%+v", s)
	}
	s, _ = decide(s, ServiceRestored{})
	if s.Phase != PhaseOutOfOrder || s.Error != ErrCodeReaderMissing {
		t.Fatalf("restored, no reader yet: %s %s", s.Phase, s.Error)
	}
	s, _ = decide(s, CardInserted{Reader: reader}) // the monitor re-reports the card
	s, fx := decide(s, ReaderFound{})
	if s.Phase != PhaseReading || count[readCard](fx) != 1 {
		t.Fatalf("ready with a card in: %s %v", s.Phase, fx)
	}
}

func TestShutdownIsFinal(t *testing.T) {
	s := stateIn(t, PhasePIN)
	s, fx := decide(s, shutdown{})
	if count[wipe](fx) != 1 || s.Phase != PhaseEnding {
		t.Fatal(fx)
	}
	for _, in := range inputs {
		s2, fx := decide(s, in.make(s))
		if in.name == "wipe_done" {
			if s2.Phase != PhaseGoodbye || s2.Goodbye != ReasonShutdown {
				t.Errorf("wipe done: %s", s2.Phase)
			}
			continue
		}
		for _, e := range fx {
			if _, ok := e.(broadcast); !ok {
				t.Errorf("%s after shutdown: %T", in.name, e)
			}
		}
		if s2.Phase != PhaseEnding {
			t.Errorf("%s after shutdown: %s", in.name, s2.Phase)
		}
	}
}

// FuzzNext drives the machine with arbitrary input sequences and checks the invariants that
// must hold whatever happens.
func FuzzNext(f *testing.F) {
	f.Add([]byte{21, 23, 0, 2, 4, 5, 9, 13, 15, 16, 19, 1})
	f.Add([]byte{21, 23, 0, 2, 4, 4, 4, 6, 4, 7, 4, 11, 4})
	f.Add([]byte{23, 21, 0, 2, 4, 5, 24, 4, 19, 1, 0})
	f.Fuzz(func(t *testing.T, seq []byte) {
		if len(seq) > 200 {
			seq = seq[:200]
		}
		s := newState(testConfig())
		for i, b := range seq {
			in := inputs[int(b)%len(inputs)]
			x := in.make(s)
			if p, ok := x.(pinSubmitted); ok {
				p.Handle = uint64(i + 1)
				p.Len = int(b)%4 + 5
				x = p
			}
			prev := s
			var fx []effect
			s, fx = decide(s, x)
			nv := count[verifyPIN](fx)
			if nv > 1 || nv == 1 && (prev.Phase != PhasePIN || in.name != "pin") {
				t.Fatalf("step %d: VerifyPIN from %s on %s", i, prev.Phase, in.name)
			}
			if nv == 1 && fx[0].(verifyPIN).Handle != uint64(i+1) {
				t.Fatal("VerifyPIN for another submission")
			}
			if prev.InSession() && !s.InSession() && count[wipe](fx) != 1 && !prev.ShuttingDown {
				t.Fatalf("step %d: left %s for %s without a wipe", i, prev.Phase, s.Phase)
			}
			if s.Phase == PhaseSession && (s.PortalURL == "" || s.gen[timerMaxLength] == 0) {
				t.Fatalf("step %d: session without portal or max length timer", i)
			}
			if s.Phase == PhaseIdle && (s.Citizen != "" || s.PortalURL != "") {
				t.Fatalf("step %d: idle keeps citizen data", i)
			}
		}
	})
}
