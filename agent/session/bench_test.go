package session

import (
	"testing"
	"time"

	"smartpath/testing/benchstat"
)

// BenchmarkNext is the pure state machine's cost per input over a whole visit.
func BenchmarkNext(b *testing.B) {
	path := statePaths[PhaseGoodbye]
	for b.Loop() {
		run(b, newState(testConfig()), path...)
	}
	b.ReportMetric(float64(len(path)), "inputs/op")
}

// BenchmarkCardRemovalToWiped measures the agent's part of docs/security.md, invariant 5: from the
// card-removed event to the session fully wiped (portal closed, card logged out, UI told) and
// idle published. The card and portal are instant fakes, so this is the machine's own latency.
func BenchmarkCardRemovalToWiped(b *testing.B) {
	r := newRig(b, okCard(), &fakePortal{})
	var ds []time.Duration
	for b.Loop() {
		b.StopTimer()
		r.toSession()
		b.StartTimer()
		start := time.Now()
		r.m.Send(CardRemoved{Reader: reader})
		r.waitPhase(PhaseIdle)
		ds = append(ds, time.Since(start))
	}
	reportPercentiles(b, ds)
}

// BenchmarkPINToSession measures the agent's own time from a PIN submitted to the session
// phase published, with instant card and portal fakes (card operations excluded).
func BenchmarkPINToSession(b *testing.B) {
	r := newRig(b, okCard(), &fakePortal{})
	var ds []time.Duration
	for b.Loop() {
		b.StopTimer()
		r.m.Send(CardInserted{Reader: reader})
		r.waitPhase(PhasePIN)
		b.StartTimer()
		start := time.Now()
		r.m.SubmitPIN([]byte("123456"))
		r.waitPhase(PhaseSession)
		ds = append(ds, time.Since(start))
		b.StopTimer()
		r.m.Send(CardRemoved{Reader: reader})
		r.waitPhase(PhaseIdle)
		b.StartTimer()
	}
	reportPercentiles(b, ds)
}

func reportPercentiles(b *testing.B, ds []time.Duration) {
	b.ReportMetric(benchstat.PercentileMs(ds, 0.5), "p50-ms")
	b.ReportMetric(benchstat.PercentileMs(ds, 0.99), "p99-ms")
}
