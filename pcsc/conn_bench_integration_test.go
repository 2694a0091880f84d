//go:build integration

package pcsc

import (
	"context"
	"errors"
	"testing"
	"time"

	"smartpath/testing/benchstat"
	"smartpath/testing/pcscdtest"
	"smartpath/testing/waitfor"
)

// BenchmarkTransmitCancelled is how long Transmit takes to return once its ctx ends while the
// card, through the real pcscd, holds its answer (pcsc-lite cannot interrupt SCardTransmit, so
// the Conn gives up on the call; TestIntegrationTransmitCancelled asserts only that it does).
// One op is one connection: connect, send a command the card holds, cancel once the card has
// it, then let the card answer so that the abandoned call resets it. Reports cancel → return
// p50, p99 and worst.
func BenchmarkTransmitCancelled(b *testing.B) {
	d := pcscdtest.Start(b)
	arrived, release := make(chan struct{}, 1), make(chan struct{}, 1)
	insertVPCD(b, d.VPCDAddr(0), func(apdu []byte) ([]byte, bool) {
		if apdu[1] == 0xED {
			arrived <- struct{}{}
			<-release
		}
		return []byte{0x90, 0x00}, false
	})
	b.Cleanup(func() { close(release) }) // before the card is pulled
	_ = connectWorking(b, d, "once the card is in").Close()
	var took []time.Duration
	for b.Loop() {
		c := connectWorking(b, d, "after the last op's abandoned call")
		ctx, cancel := context.WithCancel(context.Background())
		var err error
		returned := make(chan time.Time, 1)
		go func() {
			_, err = c.Transmit(ctx, []byte{0x00, 0xED, 0x00, 0x00})
			returned <- time.Now()
		}()
		select {
		case <-arrived:
		case <-returned:
			b.Fatalf("Transmit = %v before the card had the command", err)
		case <-time.After(waitfor.Timeout):
			b.Fatalf("the card did not get the command within %v", waitfor.Timeout)
		}
		start := time.Now()
		cancel()
		select {
		case at := <-returned:
			took = append(took, at.Sub(start))
		case <-time.After(waitfor.Timeout):
			b.Fatalf("Transmit did not return within %v of its ctx ending", waitfor.Timeout)
		}
		if !errors.Is(err, context.Canceled) {
			b.Fatalf("Transmit = %v, want context.Canceled", err)
		}
		release <- struct{}{}
		_ = c.Close()
		// The next op's connection must not be reset by this op's abandoned call.
		waitfor.Until(b, waitfor.Timeout, "the abandoned call's teardown", func() bool { return released(c) })
	}
	b.ReportMetric(benchstat.PercentileMs(took, 0.5), "cancel-to-return-p50-ms")
	b.ReportMetric(benchstat.PercentileMs(took, 0.99), "cancel-to-return-p99-ms")
	b.ReportMetric(benchstat.PercentileMs(took, 1), "cancel-to-return-max-ms")
}
