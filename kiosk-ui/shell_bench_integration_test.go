//go:build integration && linux

package kioskui

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"smartpath/testing/benchstat"
	"smartpath/testing/kiosktest"
)

// BenchmarkShellStartup measures a cold start of the shell: from exec to the test page's
// first animation frame reaching the server, the time from SIGTERM to its exit (with its
// web processes ended and its data directory removed), and the memory of the shell's process tree
// (kiosk-ui, WebKitWebProcess, WebKitNetworkProcess) at that moment: the sum of RSS, and
// of PSS, which counts shared libraries once. Run with WEBKIT_DISABLE_COMPOSITING_MODE=1
// (startShell sets it), as a kiosk without a GPU should.
func BenchmarkShellStartup(b *testing.B) {
	requireTools(b)
	display := startXvfb(b)
	ui := newTestUI(b)
	buildShell(b)
	var total, stop time.Duration
	var rss, pss int64
	var procs []string
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		from := ui.nReports()
		start := time.Now()
		sh := startShell(b, display, nil, "-url", ui.url())
		ui.waitPaint(b, from, "/")
		total += time.Since(start)
		r, p, names := treeRSS(sh.cmd.Process.Pid)
		rss += r
		pss += p
		procs = names
		b.StopTimer()
		start = time.Now()
		if !stopProcess(sh.cmd, 30*time.Second) {
			b.Fatal("kiosk-ui did not stop on SIGTERM")
		}
		stop += time.Since(start)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-to-first-paint")
	b.ReportMetric(float64(stop.Microseconds())/1000/float64(b.N), "ms-to-stop")
	b.ReportMetric(float64(rss)/float64(b.N)/(1<<20), "MiB-rss")
	b.ReportMetric(float64(pss)/float64(b.N)/(1<<20), "MiB-pss")
	b.Logf("processes measured: %s", strings.Join(procs, ", "))
}

// BenchmarkShellWipe measures the agent's wipe order: from the order to the shell's
// confirmation that the old browser is destroyed and the UI shows in a fresh one
// (ms-to-confirm), then to the new UI document's first paint (ms-to-ui-painted), with one
// citizen's worth of storage set before each wipe; and the shell's process tree's memory
// after the first and after the last wipe (MiB-pss-first, MiB-pss-last: it must not grow
// with the number of citizens).
func BenchmarkShellWipe(b *testing.B) {
	requireTools(b)
	display := startXvfb(b)
	ui := newTestUI(b)
	sh := startShell(b, display, nil, "-url", ui.url())
	ui.waitPaint(b, 0, "/")
	var confirm, painted time.Duration
	var paints []time.Duration
	var pssFirst, pssLast int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ui.do(b, "setState", nil)
		n := ui.nReports()
		b.StartTimer()
		start := time.Now()
		confirm += ui.wipe(b)
		p := ui.waitPaint(b, n, "/")
		painted += p.At.Sub(start)
		paints = append(paints, p.At.Sub(start))
		b.StopTimer()
		_, pss, _ := treeRSS(sh.cmd.Process.Pid)
		if i == 0 {
			pssFirst = pss
		}
		pssLast = pss
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(confirm.Microseconds())/1000/float64(b.N), "ms-to-confirm")
	b.ReportMetric(float64(painted.Microseconds())/1000/float64(b.N), "ms-to-ui-painted")
	b.ReportMetric(benchstat.PercentileMs(paints, 0.5), "p50-ms-to-ui-painted")
	b.ReportMetric(benchstat.PercentileMs(paints, 0.99), "p99-ms-to-ui-painted")
	b.ReportMetric(float64(pssFirst)/(1<<20), "MiB-pss-first")
	b.ReportMetric(float64(pssLast)/(1<<20), "MiB-pss-last")
}

// BenchmarkCardOutToAttract measures, with the real agent, pcscd, virtual cards and the
// real shell, one op per citizen: from the card leaving the reader to the attract screen
// of a fresh browser being ready (the new UI document connected to the agent, which then
// shows it the idle screen), split at pcscd reporting the removal; and the memory of the
// shell's process tree after the first and the last citizen (it must not grow). Times come
// from the agent's log timestamps, so polling adds nothing to them.
func BenchmarkCardOutToAttract(b *testing.B) {
	requireTools(b)
	env := kiosktest.Start(b, kiosktest.Options{Config: kiosktest.WithShell})
	display := startXvfb(b)
	sh := startShell(b, display, nil, "-url-file", env.Config.UI.URLFile)
	sh.waitLog(b, 0, `msg="kiosk UI loaded"`, 30*time.Second)
	var total, agentPart []time.Duration
	var pssFirst, pssLast int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		remove := shellSignIn(b, env, display, "Bench Citizen", fmt.Sprintf("C-%04d", i), i)
		b.StartTimer()
		pulled := time.Now()
		remove()
		waitAgentLog(b, env, `uilink: UI connected`, i+1)
		b.StopTimer()
		removedAt := agentLogTime(b, env, `"kind":"card removed"`, i)
		readyAt := agentLogTime(b, env, `uilink: UI connected`, i+1)
		total = append(total, readyAt.Sub(pulled))
		agentPart = append(agentPart, readyAt.Sub(removedAt))
		_, pss, _ := treeRSS(sh.cmd.Process.Pid)
		if i == 0 {
			pssFirst = pss
		}
		pssLast = pss
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(benchstat.PercentileMs(total, 0.5), "p50-ms-card-out-to-attract")
	b.ReportMetric(benchstat.PercentileMs(total, 0.99), "p99-ms-card-out-to-attract")
	b.ReportMetric(benchstat.PercentileMs(agentPart, 0.5), "p50-ms-removal-seen-to-attract")
	b.ReportMetric(benchstat.PercentileMs(agentPart, 0.99), "p99-ms-removal-seen-to-attract")
	b.ReportMetric(float64(pssFirst)/(1<<20), "MiB-pss-first")
	b.ReportMetric(float64(pssLast)/(1<<20), "MiB-pss-last")
}

// agentLogTime returns the timestamp of the n-th (from 0) agent log line matching re.
func agentLogTime(tb testing.TB, env *kiosktest.Env, re string, n int) time.Time {
	tb.Helper()
	rx := regexp.MustCompile(re)
	var seen int
	for _, line := range strings.Split(env.AgentLog(), "\n") {
		if !rx.MatchString(line) {
			continue
		}
		if seen++; seen <= n {
			continue
		}
		var rec struct {
			Time time.Time `json:"time"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			tb.Fatalf("agent log line %q: %v", line, err)
		}
		return rec.Time
	}
	tb.Fatalf("the agent logged %q only %d times", re, seen)
	return time.Time{}
}
