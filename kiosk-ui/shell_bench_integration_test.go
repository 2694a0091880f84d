//go:build integration && linux

package kioskui

import (
	"strings"
	"testing"
	"time"
)

// BenchmarkShellStartup measures a cold start of the shell: from exec to the test page's
// first animation frame reaching the server, and the memory of the shell's process tree
// (kiosk-ui, WebKitWebProcess, WebKitNetworkProcess) at that moment: the sum of RSS, and
// of PSS, which counts shared libraries once. Run with WEBKIT_DISABLE_COMPOSITING_MODE=1
// (startShell sets it), as a kiosk without a GPU should.
func BenchmarkShellStartup(b *testing.B) {
	requireTools(b)
	display := startXvfb(b)
	ui := newTestUI(b)
	buildShell(b)
	var total time.Duration
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
		stopProcess(sh.cmd, 10*time.Second)
	}
	b.StopTimer()
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-to-first-paint")
	b.ReportMetric(float64(rss)/float64(b.N)/(1<<20), "MiB-rss")
	b.ReportMetric(float64(pss)/float64(b.N)/(1<<20), "MiB-pss")
	b.Logf("processes measured: %s", strings.Join(procs, ", "))
}

// BenchmarkShellWipe measures window.kioskShell.wipe() from the page's call to the
// resolved promise, with one citizen's worth of storage set before each wipe.
func BenchmarkShellWipe(b *testing.B) {
	requireTools(b)
	display := startXvfb(b)
	ui := newTestUI(b)
	startShell(b, display, nil, "-url", ui.url())
	ui.waitPaint(b, 0, "/")
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ui.do(b, "setState", nil)
		b.StartTimer()
		start := time.Now()
		ui.do(b, "wipe", nil)
		total += time.Since(start)
	}
	b.StopTimer()
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-per-wipe")
}
