package pcscdtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	runDir     = "/run/pcscd"
	socketPath = runDir + "/pcscd.comm"
	vpcdConf   = "/etc/reader.conf.d/vpcd"
)

// Reader is one virtual reader of the private pcscd.
type Reader struct {
	Name string // PC/SC reader name, e.g. "Virtual PCD 00 00"
	Port int    // TCP port the virtual card connects to
}

// Daemon is a private pcscd run by a test.
type Daemon struct {
	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	logPath string
	starts  int
}

// Start starts a private pcscd and returns once it answers on its socket. It is stopped
// when the test ends. Set SMARTPATH_PCSCD_DEBUG=1 to run it with --debug --apdu; its log
// is printed when the test fails.
func Start(t testing.TB) *Daemon {
	t.Helper()
	if os.Getenv("SMARTPATH_ISOLATED") != "1" {
		t.Fatal("this test needs its own pcscd in a private namespace: run it with " +
			"`make test-integration` or `testing/scripts/isolated.sh go test -tags integration ./...`")
	}
	if _, err := exec.LookPath("pcscd"); err != nil {
		t.Fatal("pcscd is not installed: run `make deps` (apt-get install pcscd vsmartcard-vpcd)")
	}
	if _, err := os.Stat(vpcdConf); err != nil {
		t.Fatalf("the vpcd reader driver is not configured (%v): run `make deps` (apt-get install vsmartcard-vpcd)", err)
	}
	d := &Daemon{logPath: filepath.Join(t.TempDir(), "pcscd.log")}
	d.Start(t)
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			if log, err := os.ReadFile(d.logPath); err == nil {
				t.Logf("pcscd log (tail):\n%s", tail(log, 60))
			}
		}
	})
	return d
}

// Start starts pcscd again after Kill. It returns once pcscd answers.
func (d *Daemon) Start(t testing.TB) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd != nil {
		t.Fatal("pcscdtest: pcscd is already running")
	}
	// A killed pcscd leaves its socket and pid file behind.
	_ = os.Remove(socketPath)
	_ = os.Remove(filepath.Join(runDir, "pcscd.pid"))
	args := []string{"--foreground"}
	if os.Getenv("SMARTPATH_PCSCD_DEBUG") == "1" {
		args = append(args, "--debug", "--apdu")
	}
	logf, err := os.OpenFile(d.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "--- pcscd start %d\n", d.starts+1)
	cmd := exec.Command("pcscd", args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("pcscdtest: start pcscd: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	d.cmd, d.done = cmd, done
	d.starts++

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		c, err := net.Dial("unix", socketPath)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-done:
			t.Fatalf("pcscdtest: pcscd exited at start; log:\n%s", d.logTail())
		case <-ctx.Done():
			t.Fatalf("pcscdtest: pcscd did not answer on %s within 10s; log:\n%s", socketPath, d.logTail())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Kill kills pcscd with SIGKILL, as a crash would, and waits until it is gone.
func (d *Daemon) Kill(t testing.TB) {
	t.Helper()
	if err := d.stop(); err != nil {
		t.Fatalf("pcscdtest: %v", err)
	}
}

// PID is the process id of the running pcscd, 0 when none runs.
func (d *Daemon) PID() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd == nil {
		return 0
	}
	return d.cmd.Process.Pid
}

func (d *Daemon) stop() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd == nil {
		return nil
	}
	_ = d.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		return errors.New("pcscd did not exit within 10s of SIGKILL")
	}
	d.cmd, d.done = nil, nil
	return nil
}

// Readers lists the virtual readers, in the order pcscd numbers them.
func (d *Daemon) Readers() []Reader {
	return []Reader{
		{Name: "Virtual PCD 00 00", Port: 35963},
		{Name: "Virtual PCD 00 01", Port: 35964},
	}
}

// VPCDAddr is the address a virtual card connects to in order to be inserted in reader i.
func (d *Daemon) VPCDAddr(i int) string {
	return fmt.Sprintf("127.0.0.1:%d", d.Readers()[i].Port)
}

// Log returns what pcscd has logged so far.
func (d *Daemon) Log() string {
	b, _ := os.ReadFile(d.logPath)
	return string(b)
}

func (d *Daemon) logTail() string {
	b, _ := os.ReadFile(d.logPath)
	return tail(b, 40)
}

func tail(b []byte, n int) string {
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(string(bytes.Join(lines, []byte("\n"))))
}
