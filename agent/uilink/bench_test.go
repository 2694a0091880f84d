package uilink

import (
	"strings"
	"testing"
	"time"

	"smartpath/agent/session"
	"smartpath/testing/benchstat"
	"smartpath/testing/waitfor"
)

// BenchmarkBroadcastWithSlowClient is how long Broadcast takes while a UI that never reads is
// connected, until its queue is full and it is dropped (TestSlowClientDoesNotBlock asserts
// only that Broadcast returns and the slow client goes). One op is one slow client's life: it
// connects, and 3 kB states are broadcast, each read by a fast client, until the server drops
// it. Reports Broadcast's p50, p99 and worst time, and the broadcasts it took to drop the slow
// client (its queue, 4 here, plus what the sockets buffer).
func BenchmarkBroadcastWithSlowClient(b *testing.B) {
	ts := newTestServer(b, func(o *Options) { o.QueueSize = 4 })
	_, got := ts.connectReader(b)
	st := session.State{Phase: session.PhaseConnecting, Citizen: strings.Repeat("N", 3000)}
	var took []time.Duration
	for b.Loop() {
		slow, _, err := ts.dial(b, testOrigin, ts.token) // never reads
		if err != nil {
			b.Fatal(err)
		}
		waitfor.Until(b, waitfor.Timeout, "the slow client connected", func() bool { return ts.Connections() == 2 })
		for ts.Connections() > 1 {
			start := time.Now()
			ts.Broadcast(st)
			took = append(took, time.Since(start))
			if _, ok := <-got; !ok {
				b.Fatal("the fast client was dropped")
			}
		}
		slow.Close()
	}
	b.ReportMetric(benchstat.PercentileMs(took, 0.5), "broadcast-p50-ms")
	b.ReportMetric(benchstat.PercentileMs(took, 0.99), "broadcast-p99-ms")
	b.ReportMetric(benchstat.PercentileMs(took, 1), "broadcast-max-ms")
	b.ReportMetric(float64(len(took))/float64(b.N), "broadcasts/drop")
}
