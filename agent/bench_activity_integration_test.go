//go:build integration

package agent_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"smartpath/agent/config"
	"smartpath/testing/benchstat"
	"smartpath/testing/kiosktest"
	"smartpath/testing/vcard"
)

// BenchmarkPortalActivityToWarning is how long after the citizen's last navigation in the
// portal's frame the idle warning reaches the UI (TestPortalRequestsAreActivity asserts only
// that browsing keeps the session and that the warning comes once it stops). With the test's
// idle timeout of 3 s and warning of 1 s the warning is due 2 s after the last navigation the
// agent counted; it counts at most one a second (the proxy's activity throttle), so the last
// navigation of a burst may come up to 1 s after the counted one: due 1–2 s after the last
// request, plus the agent's timer and the UI channel. One op is a burst of navigations every
// 300 ms for 1.2 s (the first clears the previous op's warning), then none until the warning
// shows. Reports last request → warning at the UI, p50 and p99.
func BenchmarkPortalActivityToWarning(b *testing.B) {
	const idle, warning = 3 * time.Second, time.Second
	env := kiosktest.Start(b, kiosktest.Options{Config: func(c *config.Config) {
		c.Session.IdleTimeout, c.Session.IdleWarning = idle, warning
	}})
	ui := env.DialUI(b)
	ui.WaitPhase("idle", wait)
	home := benchOpenSession(b, env, ui, env.NewCard(b, "Bench Citizen", "C-9004", vcard.AlgP256)).home
	c := benchBrowser()
	defer benchCloseBrowser(c)
	navigate := func() time.Time {
		sent := time.Now()
		resp, err := c.Do(frameNavigation(b, home))
		if err != nil {
			b.Fatalf("portal page: %v", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("portal page: %s", resp.Status)
		}
		return sent
	}
	var took []time.Duration
	for b.Loop() {
		last := navigate()
		ui.WaitState("the warning cleared by the navigation", wait, func(s kiosktest.State) bool {
			return s.Phase == "session" && s.Warning == nil
		})
		tick := time.NewTicker(300 * time.Millisecond)
		for range 4 {
			<-tick.C
			last = navigate()
		}
		tick.Stop()
		st := ui.WaitState("the idle warning", idle+wait, func(s kiosktest.State) bool { return s.Phase == "session" && s.Warning != nil })
		took = append(took, time.Since(last))
		if st.Warning.EndsAt < last.Add(warning).UnixMilli() {
			b.Fatalf("the warning (ending %v) came during the burst, before the last request at %v",
				time.UnixMilli(st.Warning.EndsAt), last)
		}
	}
	b.ReportMetric(benchstat.PercentileMs(took, 0.5), "last-request-to-warning-p50-ms")
	b.ReportMetric(benchstat.PercentileMs(took, 0.99), "last-request-to-warning-p99-ms")
}
