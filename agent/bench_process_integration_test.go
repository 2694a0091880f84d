//go:build integration

package agent_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"smartpath/testing/benchstat"
	"smartpath/testing/kiosktest"
	"smartpath/testing/vcard"
)

// benchAgentBinEnv names a built kiosk-agent for BenchmarkAgentProcess (make bench sets it to
// bin/kiosk-agent); without it the benchmark builds one.
const benchAgentBinEnv = "SMARTPATH_AGENT_BIN"

// BenchmarkAgentProcess runs the built kiosk-agent binary as a child process, as a kiosk
// runs it (`kiosk-agent run --config FILE`), against the private pcscd and the demo portal
// of a kiosktest environment whose in-process agent is stopped, with a UI connected as
// kiosk-ui would be. It reports the agent's memory (VmRSS from /proc/PID/status) and its
// CPU use while nothing happens.
func BenchmarkAgentProcess(b *testing.B) {
	bin := benchAgentBinary(b)
	env := kiosktest.Start(b, kiosktest.Options{})
	if err := env.Stop(); err != nil {
		b.Fatal(err)
	}
	child := startBenchAgentProcess(b, bin, env)
	child.waitIdle(b)
	idleRSS := child.status(b, "VmRSS")

	// idle-cpu: one op is ten seconds with a reader and no card, and the UI connected: the
	// kiosk's state for most of the day. The target is no CPU use while nothing changes;
	// what there is comes from the UI channel's ping every 20 s, so a run of 3 ops sees at
	// least one.
	b.Run("idle-cpu", func(b *testing.B) {
		kiosktest.DialUIURL(b, child.startURL).WaitPhase("idle", wait)
		child.reportIdleCPU(b)
	})

	// idle-cpu-card-in: the same with a card in and the PIN pad shown (a citizen who walked
	// away; the agent holds a PC/SC connection to the card and pcscd polls its presence).
	b.Run("idle-cpu-card-in", func(b *testing.B) {
		ui := kiosktest.DialUIURL(b, child.startURL)
		ui.WaitPhase("idle", wait)
		card := env.NewCard(b, "Bench Citizen", "C-9005", vcard.AlgP256)
		remove := env.Insert(b, card)
		ui.WaitPhase("pin", wait)
		child.reportIdleCPU(b)
		b.StopTimer()
		remove()
		ui.WaitPhase("idle", wait)
	})

	// rss: one op is one citizen's visit loading the home page and 5 pages with 20
	// subresources each. Reports the resident memory at idle before any visit (and before a
	// UI connected), the largest seen with a session open, after the last visit, and the
	// peak (VmHWM); and, from the agent's /metrics, its goroutines before and after this
	// run's visits (with the UI connected) and its heap in use after them. Growth with b.N
	// would be a leak.
	b.Run("rss", func(b *testing.B) {
		ui := kiosktest.DialUIURL(b, child.startURL)
		ui.WaitPhase("idle", wait)
		goroutinesBefore := child.metric(b, "go_goroutines")
		card := env.NewCard(b, "Bench Citizen", "C-9004", vcard.AlgP256)
		card.SetEmulation(vcard.RealCardTiming)
		var inSession int64
		for range b.N {
			remove := env.Insert(b, card)
			ui.WaitPhase("pin", wait)
			ui.SendPIN(vcard.DefaultPIN)
			st := ui.WaitPhase("session", wait)
			c := benchBrowser()
			if err := benchLoadSession(c, st.Session.PortalURL, 5); err != nil {
				b.Fatal(err)
			}
			inSession = max(inSession, child.status(b, "VmRSS"))
			benchCloseBrowser(c)
			remove()
			ui.WaitPhase("idle", wait)
		}
		b.ReportMetric(benchMiB(idleRSS), "rss-idle-MiB")
		b.ReportMetric(benchMiB(inSession), "rss-session-MiB")
		b.ReportMetric(benchMiB(child.status(b, "VmRSS")), "rss-after-MiB")
		b.ReportMetric(benchMiB(child.status(b, "VmHWM")), "rss-peak-MiB")
		b.ReportMetric(goroutinesBefore, "goroutines-before")
		b.ReportMetric(child.metric(b, "go_goroutines"), "goroutines-after")
		b.ReportMetric(child.metric(b, "go_memstats_heap_inuse_bytes")/(1<<20), "heap-after-MiB")
	})
}

// reportIdleCPU measures b.N windows of ten seconds in which the benchmark does nothing.
func (p *benchAgentProcess) reportIdleCPU(b *testing.B) {
	before := p.cpu(b)
	start := time.Now()
	for range b.N {
		time.Sleep(10 * time.Second) // the measurement window, not synchronisation
	}
	used, elapsed := p.cpu(b)-before, time.Since(start)
	b.ReportMetric(benchstat.Ms(used)/elapsed.Seconds(), "cpu-ms/idle-s")
	b.ReportMetric(100*used.Seconds()/elapsed.Seconds(), "cpu-%")
}

func benchMiB(kB int64) float64 { return float64(kB) / 1024 }

// agentBinary is the kiosk-agent to run: $SMARTPATH_AGENT_BIN, or one built now.
func benchAgentBinary(b *testing.B) string {
	if p := os.Getenv(benchAgentBinEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			b.Fatalf("%s=%s: %v (run make build, or unset it to build one here)", benchAgentBinEnv, p, err)
		}
		return p
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		b.Fatalf("the go command is not on PATH to build kiosk-agent (or set %s): %v", benchAgentBinEnv, err)
	}
	out := filepath.Join(b.TempDir(), "kiosk-agent")
	build := exec.Command(goCmd, "build", "-o", out, "smartpath/cmd/kiosk-agent")
	if msg, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build kiosk-agent: %v\n%s", err, msg)
	}
	return out
}

// benchAdminListen is the child agent's /healthz and /metrics address.
const benchAdminListen = "127.0.0.1:18479"

type benchAgentProcess struct {
	pid      int
	startURL string
}

// startAgentProcess runs bin with a configuration for env's portal and pcscd, and waits
// until it has written its UI start URL. The process gets SIGTERM when the benchmark ends.
func startBenchAgentProcess(b *testing.B, bin string, env *kiosktest.Env) *benchAgentProcess {
	dir := b.TempDir()
	urlFile := filepath.Join(dir, "ui-url")
	var origins strings.Builder
	for _, o := range env.Config.Portal.Origins {
		fmt.Fprintf(&origins, "\n    - %s", o)
	}
	// Fixed ports are free: the benchmark runs in its own network namespace.
	// No kiosk shell here (the benchmark measures the agent): require_shell off.
	conf := fmt.Sprintf(`ui:
  listen: 127.0.0.1:18470
  url_file: %s
  require_shell: false
portal:
  home: %s
  origins:%s
  ca_file: %s
  first_port: 18471
admin:
  listen: %s
log:
  level: info
`, urlFile, env.Config.Portal.Home, origins.String(), env.Config.Portal.CAFile, benchAdminListen)
	confFile := filepath.Join(dir, "kiosk.yaml")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		b.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(dir, "agent.log"))
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", confFile)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		b.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	logTail := func() string {
		data, _ := os.ReadFile(logFile.Name())
		if len(data) > 4000 {
			data = data[len(data)-4000:]
		}
		return string(data)
	}
	b.Cleanup(func() {
		defer logFile.Close()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				b.Errorf("kiosk-agent exited with %v after SIGTERM; its log:\n%s", err, logTail())
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			b.Errorf("kiosk-agent did not stop within 10s of SIGTERM; its log:\n%s", logTail())
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		if data, err := os.ReadFile(urlFile); err == nil && len(bytes.TrimSpace(data)) > 0 {
			return &benchAgentProcess{pid: cmd.Process.Pid, startURL: string(bytes.TrimSpace(data))}
		}
		select {
		case err := <-exited:
			exited <- err
			b.Fatalf("kiosk-agent exited at start (%v); its log:\n%s", err, logTail())
		case <-ctx.Done():
			b.Fatalf("kiosk-agent wrote no %s within %v; its log:\n%s", urlFile, wait, logTail())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// status reads a kB field of /proc/PID/status, such as VmRSS.
func (p *benchAgentProcess) status(b *testing.B, field string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			b.Fatalf("/proc/%d/status %s: %v", p.pid, field, err)
		}
		return kb
	}
	b.Fatalf("/proc/%d/status has no %s", p.pid, field)
	return 0
}

// waitIdle waits until the agent's /metrics says it is idle (a reader, no card).
func (p *benchAgentProcess) waitIdle(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for p.metric(b, `kiosk_state{phase="idle"}`) != 1 {
		select {
		case <-ctx.Done():
			b.Fatalf("kiosk-agent did not reach the idle phase within %v", wait)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// metric reads one sample from the agent's /metrics, by its name and labels as printed.
func (p *benchAgentProcess) metric(b *testing.B, name string) float64 {
	resp, err := http.Get("http://" + benchAdminListen + "/metrics")
	if err != nil {
		b.Fatalf("the agent's /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				b.Fatalf("/metrics %s: %v", name, err)
			}
			return f
		}
	}
	b.Fatalf("the agent's /metrics has no %s", name)
	return 0
}

// cpu is the CPU time the process's threads have run, in nanoseconds, from
// /proc/PID/task/*/schedstat (utime+stime in /proc/PID/stat counts only 10 ms ticks).
func (p *benchAgentProcess) cpu(b *testing.B) time.Duration {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", p.pid))
	if err != nil || len(tasks) == 0 {
		b.Fatalf("no schedstat for process %d: %v", p.pid, err)
	}
	var total time.Duration
	for _, f := range tasks {
		data, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue // the thread has just exited
		}
		if err != nil {
			b.Fatal(err)
		}
		fields := strings.Fields(string(data))
		if len(fields) == 0 {
			continue
		}
		ns, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			b.Fatalf("%s: %v", f, err)
		}
		total += time.Duration(ns)
	}
	return total
}
