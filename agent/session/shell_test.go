package session

import (
	"testing"
	"time"
)

// The kiosk shell's part of the machine (docs/security.md, invariant 5): with RequireShell,
// no card is read until the shell has confirmed, after the last wipe, that a fresh browser
// shows the UI; a shell that does not confirm in time leaves the kiosk out of order.

func shellConfig() Config {
	c := testConfig()
	c.RequireShell = true
	c.ShellConfirm = 3 * time.Second
	return c
}

// shellConfirms confirms the wipe order outstanding on the current connection.
func shellConfirms(s State) Input { return shellWiped{Conn: s.shellConn, Gen: s.shellGen} }

// readyWithShell is an idle kiosk whose shell (connection 1) has confirmed.
func readyWithShell(t *testing.T) State {
	t.Helper()
	s, _ := run(t, newState(shellConfig()), ServiceRestored{}, ReaderFound{}, shellConnected{Conn: 1}, shellConfirms)
	if s.Phase != PhaseIdle || !s.ShellClean {
		t.Fatalf("phase %s, shell clean %v; want idle with a clean shell", s.Phase, s.ShellClean)
	}
	return s
}

func effectsOf[T effect](fx []effect) []T {
	var out []T
	for _, e := range fx {
		if x, ok := e.(T); ok {
			out = append(out, x)
		}
	}
	return out
}

func TestShellRequiredBeforeTheFirstCard(t *testing.T) {
	s, _ := run(t, newState(shellConfig()), ServiceRestored{}, ReaderFound{})
	if s.Phase != PhaseStarting {
		t.Fatalf("without a shell: phase %s, want starting", s.Phase)
	}
	s, fx := run(t, s, CardInserted{Reader: reader})
	if len(effectsOf[readCard](fx)) != 0 || s.Phase != PhaseStarting {
		t.Fatalf("a card was read before any shell confirmed: phase %s, effects %v", s.Phase, fx)
	}
	s, fx = run(t, s, shellConnected{Conn: 4})
	orders := effectsOf[shellWipe](fx)
	if len(orders) != 1 || orders[0].Conn != 4 || orders[0].Gen == 0 {
		t.Fatalf("a new shell got orders %v, want one wipe order on its connection", orders)
	}
	s, fx = run(t, s, shellConfirms)
	if s.Phase != PhaseReading || len(effectsOf[readCard](fx)) != 1 {
		t.Fatalf("after the shell confirmed: phase %s, effects %v; want the waiting card read", s.Phase, fx)
	}
}

func TestNextCardWaitsForTheShellsConfirmation(t *testing.T) {
	s := readyWithShell(t)
	s, _ = run(t, s, statePaths[PhaseSession][2:]...)
	if s.Phase != PhaseSession {
		t.Fatalf("phase %s, want session", s.Phase)
	}
	s, fx := run(t, s, CardRemoved{Reader: reader})
	orders := effectsOf[shellWipe](fx)
	if len(orders) != 1 || len(effectsOf[wipe](fx)) != 1 {
		t.Fatalf("card out of a session: effects %v; want a Wipe and one shell wipe order", fx)
	}
	if s.ShellClean {
		t.Fatal("the shell counts as clean before it confirmed")
	}
	// The next citizen is quick: their card is not read until the shell confirms.
	s, fx = run(t, s, CardInserted{Reader: reader})
	if len(effectsOf[readCard](fx)) != 0 || s.Phase != PhaseIdle || !s.CardPending {
		t.Fatalf("next card: phase %s pending %v effects %v; want it held", s.Phase, s.CardPending, fx)
	}
	// A confirmation of some other order, or from another connection, changes nothing.
	for _, bad := range []Input{
		shellWiped{Conn: s.shellConn, Gen: s.shellGen + 1},
		shellWiped{Conn: s.shellConn + 1, Gen: s.shellGen},
		shellWiped{Conn: s.shellConn, Gen: 0},
	} {
		if s2, fx := decide(s, bad); s2.ShellClean || len(effectsOf[readCard](fx)) != 0 {
			t.Fatalf("%#v was taken as the confirmation", bad)
		}
	}
	s, fx = run(t, s, shellConfirms)
	if s.Phase != PhaseReading || len(effectsOf[readCard](fx)) != 1 {
		t.Fatalf("after the confirmation: phase %s effects %v; want the card read", s.Phase, fx)
	}
}

func TestShellThatDoesNotConfirmPutsTheKioskOutOfOrder(t *testing.T) {
	s := readyWithShell(t)
	s, _ = run(t, s, statePaths[PhaseSession][2:]...)
	s, fx := run(t, s, endSession{}, wipeDone{})
	_ = fx
	if s.Phase != PhaseGoodbye {
		t.Fatalf("phase %s, want goodbye", s.Phase)
	}
	stuck := s.shellConn
	staleGen := s.shellGen
	s, fx = run(t, s, fire(timerShell, t0))
	if s.Phase != PhaseOutOfOrder || s.Error != ErrCodeOutOfOrder || !s.ShellFailed {
		t.Fatalf("after the bound: phase %s error %s failed %v; want out_of_order", s.Phase, s.Error, s.ShellFailed)
	}
	if d := effectsOf[dropShell](fx); len(d) != 1 || d[0].Conn != stuck {
		t.Fatalf("effects %v; want the stuck shell's connection dropped", fx)
	}
	// Its late confirmation does not count; neither does anything short of a new shell.
	s, _ = run(t, s, shellWiped{Conn: stuck, Gen: staleGen}, CardRemoved{Reader: reader},
		CardInserted{Reader: reader}, ReaderFound{}, ServiceRestored{})
	if s.Phase != PhaseOutOfOrder {
		t.Fatalf("phase %s, want still out_of_order without a new shell", s.Phase)
	}
	// A new shell connects and confirms: the kiosk serves again, starting with the waiting card.
	s, fx = run(t, s, shellConnected{Conn: stuck + 1})
	if len(effectsOf[shellWipe](fx)) != 1 {
		t.Fatalf("effects %v; want a wipe order for the new shell", fx)
	}
	s, fx = run(t, s, shellConfirms)
	if s.Phase != PhaseReading || s.ShellFailed || len(effectsOf[readCard](fx)) != 1 {
		t.Fatalf("after a new shell confirmed: phase %s failed %v effects %v", s.Phase, s.ShellFailed, fx)
	}
}

func TestShellLostMidSessionAndNeverBack(t *testing.T) {
	s := readyWithShell(t)
	s, _ = run(t, s, statePaths[PhaseSession][2:]...)
	s, _ = run(t, s, shellLost{Conn: s.shellConn})
	if s.Phase != PhaseSession {
		t.Fatalf("phase %s: losing the shell alone should not end the session at once", s.Phase)
	}
	s, fx := run(t, s, fire(timerShell, t0))
	if len(effectsOf[wipe](fx)) != 1 || s.Phase != PhaseOutOfOrder || s.Citizen != "" {
		t.Fatalf("shell gone for good: phase %s effects %v citizen %q; want the visit wiped, out of order",
			s.Phase, fx, s.Citizen)
	}
}

func TestShellReconnectsInTime(t *testing.T) {
	s := readyWithShell(t)
	old := s.shellConn
	s, _ = run(t, s, shellLost{Conn: old}, CardInserted{Reader: reader})
	if s.Phase != PhaseIdle || !s.CardPending {
		t.Fatalf("phase %s pending %v: a card must wait while no shell is there", s.Phase, s.CardPending)
	}
	// A replaced connection's late "lost" must not unseat the new one.
	s, _ = run(t, s, shellConnected{Conn: old + 1}, shellLost{Conn: old})
	if !s.ShellUp {
		t.Fatal("an old connection's loss unseated the new shell")
	}
	s, fx := run(t, s, shellConfirms)
	if s.Phase != PhaseReading || len(effectsOf[readCard](fx)) != 1 {
		t.Fatalf("phase %s effects %v; want the card read once the new shell confirmed", s.Phase, fx)
	}
	// The timer armed when the shell was lost is now stale.
	if s.gen[timerShell] != 0 {
		t.Fatal("the shell timer is still armed after the confirmation")
	}
}

func TestWithoutRequireShellTheShellIsIgnored(t *testing.T) {
	s, fx := run(t, newState(testConfig()), ServiceRestored{}, ReaderFound{}, CardInserted{Reader: reader})
	if s.Phase != PhaseReading || len(effectsOf[readCard](fx)) != 1 {
		t.Fatalf("phase %s: without RequireShell a card is read at once", s.Phase)
	}
	s, fx = run(t, s, shellConnected{Conn: 1})
	if len(effectsOf[shellWipe](fx)) != 0 {
		t.Fatalf("effects %v: no orders without RequireShell", fx)
	}
}

func TestWaitingCardIsReadOnceANewShellConfirms(t *testing.T) {
	s := readyWithShell(t)
	s, _ = run(t, s, statePaths[PhaseSession][2:]...)
	s, _ = run(t, s, CardRemoved{Reader: reader}, CardInserted{Reader: reader}, fire(timerShell, t0))
	if s.Phase != PhaseOutOfOrder || !s.CardPending {
		t.Fatalf("phase %s pending %v; want out of order with the new card waiting", s.Phase, s.CardPending)
	}
	s, fx := run(t, s, shellConnected{Conn: 9}, shellConfirms)
	if s.Phase != PhaseReading || len(effectsOf[readCard](fx)) != 1 {
		t.Fatalf("phase %s effects %v; want the waiting card read", s.Phase, fx)
	}
}
