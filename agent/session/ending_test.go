package session

import (
	"slices"
	"strings"
	"testing"
)

// Entering ending broadcasts it before the wipe runs: the UI shows "Ending your session…"
// while the portal is closed and the card logged out, instead of the session screen until
// the wipe is over. The wipe still comes before the following goodbye or idle.
func TestEndingBroadcastBeforeWipe(t *testing.T) {
	s := stateIn(t, PhaseSession)
	for _, in := range []Input{endSession{}, shutdown{}} {
		next, fx := decide(s, in)
		if next.Phase != PhaseEnding {
			t.Fatalf("%T: phase %s, want ending", in, next.Phase)
		}
		b := slices.IndexFunc(fx, func(e effect) bool { _, ok := e.(broadcast); return ok })
		w := slices.IndexFunc(fx, func(e effect) bool { _, ok := e.(wipe); return ok })
		if b < 0 || w < 0 || b > w {
			t.Errorf("%T: effects %#v, want the Broadcast of ending before the Wipe", in, fx)
		}
	}
}

func TestMachineShowsEndingDuringWipe(t *testing.T) {
	r := newRig(t, okCard(), &fakePortal{})
	r.toSession()
	r.m.EndSession()
	r.waitPhase(PhaseGoodbye)
	if got := r.ui.log(); !strings.HasSuffix(got, "session ending WIPE goodbye") {
		t.Errorf("UI saw %q; want ending shown before the wipe, and the wipe before goodbye", got)
	}
}
