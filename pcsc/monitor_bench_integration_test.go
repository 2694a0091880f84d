//go:build integration

package pcsc

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ebfe/scard"

	"smartpath/testing/pcscdtest"
)

// The raw waiter runs in a child process (the test binary again): it waits on one reader with
// a bare SCardGetStatusChange and prints when pcscd told it the card came or went. That is
// pcscd's own notification, the baseline the Monitor's overhead is measured against. It runs
// in its own process because github.com/ebfe/scard cannot have two waits on one reader name
// in one process (see Monitor).
const waiterEnv = "SMARTPATH_PCSC_RAW_WAITER"

// TestRawWaiterProcess is the child process of BenchmarkMonitorInsert; run on its own it
// does nothing.
func TestRawWaiterProcess(t *testing.T) {
	reader := os.Getenv(waiterEnv)
	if reader == "" {
		return
	}
	ctx, err := scard.EstablishContext()
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	states := []scard.ReaderState{{Reader: reader, CurrentState: scard.StateUnaware}}
	for {
		if err := ctx.GetStatusChange(states, -1); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		now := time.Now().UnixNano()
		states[0].CurrentState = states[0].EventState &^ scard.StateChanged
		fmt.Println(states[0].EventState&scard.StatePresent != 0, now)
	}
}

type rawEvent struct {
	present bool
	at      time.Time
}

func startRawWaiter(b *testing.B, reader string) <-chan rawEvent {
	cmd := exec.Command(os.Args[0], "-test.run=^TestRawWaiterProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), waiterEnv+"="+reader)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatalf("start the raw waiter: %v", err)
	}
	events := make(chan rawEvent, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 2 || (f[0] != "true" && f[0] != "false") {
				continue
			}
			ns, _ := strconv.ParseInt(f[1], 10, 64)
			events <- rawEvent{present: f[0] == "true", at: time.Unix(0, ns)}
		}
	}()
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		<-done
	})
	return events
}

func waitRaw(b *testing.B, events <-chan rawEvent, present bool) rawEvent {
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.present == present {
				return ev
			}
		case <-deadline:
			b.Fatalf("the raw waiter saw no present=%v within 10s", present)
		}
	}
}

func waitMonitor(b *testing.B, events <-chan Event, kind EventKind, reader string) Event {
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Kind == kind && ev.Reader == reader {
				return ev
			}
		case <-deadline:
			b.Fatalf("no %v for %q within 10s", kind, reader)
		}
	}
}

// BenchmarkMonitorInsert measures, per insertion through the real pcscd:
//   - insert-to-event-ns: from the virtual card connecting to the vpcd socket to CardInserted
//     delivered on the channel (dominated by pcscd's ~400 ms presence poll);
//   - overhead-ns: CardInserted delivered minus the moment a bare SCardGetStatusChange in
//     another process returned for the same insertion (the Monitor's own cost; the target
//     is under 5 ms).
func BenchmarkMonitorInsert(b *testing.B) {
	d := pcscdtest.Start(b)
	reader := d.Readers()[0].Name
	m := NewMonitor(MonitorOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan Event, 16)
	runDone := make(chan error, 1)
	go func() { runDone <- m.Run(ctx, events) }()
	b.Cleanup(func() { cancel(); <-runDone })
	waitMonitor(b, events, ReaderAdded, reader)
	raw := startRawWaiter(b, reader)
	waitRaw(b, raw, false)

	var total, overhead time.Duration
	worst := time.Duration(math.MinInt64)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		card := insertVPCD(b, d.VPCDAddr(0), nil)
		ev := waitMonitor(b, events, CardInserted, reader)
		base := waitRaw(b, raw, true)
		total += ev.At.Sub(start)
		o := ev.At.Sub(base.at)
		overhead += o
		worst = max(worst, o)
		card.pull()
		waitMonitor(b, events, CardRemoved, reader)
		waitRaw(b, raw, false)
	}
	b.StopTimer()
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "insert-to-event-ns")
	b.ReportMetric(float64(overhead.Nanoseconds())/float64(b.N), "overhead-ns")
	b.ReportMetric(float64(worst.Nanoseconds()), "worst-overhead-ns")
}

// BenchmarkMonitorIdleCPU measures the CPU time this process spends while the Monitor waits
// and nothing changes (cpu-ns per idle second; ideally ~0).
func BenchmarkMonitorIdleCPU(b *testing.B) {
	d := pcscdtest.Start(b)
	reader := d.Readers()[0].Name
	m := NewMonitor(MonitorOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan Event, 16)
	runDone := make(chan error, 1)
	go func() { runDone <- m.Run(ctx, events) }()
	b.Cleanup(func() { cancel(); <-runDone })
	_ = insertVPCD(b, d.VPCDAddr(0), nil)
	waitMonitor(b, events, CardInserted, reader)

	const idle = 200 * time.Millisecond
	cpu := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b.ResetTimer()
	before := cpu()
	for range b.N {
		time.Sleep(idle) // the measurement window, not synchronisation
	}
	used := cpu() - before
	b.StopTimer()
	select {
	case ev := <-events:
		b.Fatalf("event while idle: %v", ev)
	default:
	}
	b.ReportMetric(float64(used.Nanoseconds())/(float64(b.N)*idle.Seconds()), "cpu-ns/idle-s")
}
