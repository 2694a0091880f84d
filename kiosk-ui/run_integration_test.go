//go:build integration && linux

package kioskui

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestRunInProcess runs Run itself (not the command) until its context ends: it must
// return nil, leave no goroutine behind and remove its data directory. WebKit's default
// context lives for the process, so this is the only in-process Run in the test binary.
func TestRunInProcess(t *testing.T) {
	requireTools(t)
	display := startXvfb(t)
	t.Setenv("DISPLAY", display)
	t.Setenv("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
	ui := newTestUI(t)
	parent := t.TempDir()
	var logs strings.Builder
	sw := &syncWriter{w: &logs}
	logText := func() string { sw.mu.Lock(); defer sw.mu.Unlock(); return logs.String() }
	opts := Options{URL: ui.url(), DataDir: parent, Version: "test", Logger: slog.New(slog.NewTextHandler(sw, nil))}

	ignore := goleak.IgnoreCurrent()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	painted := make(chan bool, 1)
	go func() {
		defer cancel()
		for ctx.Err() == nil {
			if _, ok := ui.findReport(0, 200*time.Millisecond, func(r report) bool { return r.Kind == "paint" }); ok {
				painted <- true
				return
			}
		}
		painted <- false
	}()
	err := Run(ctx, opts)
	if errors.Is(err, ErrAlreadyRunning) && inProcessRuns > 0 {
		// -count > 1: this process ran the shell before; a second Run must refuse, not crash.
		cancel()
		<-painted
		return
	}
	inProcessRuns++
	if !<-painted {
		t.Fatalf("the page never painted; log:\n%s", logText())
	}
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	goleak.VerifyNone(t, ignore)
	ents, _ := os.ReadDir(parent)
	if len(ents) != 0 {
		t.Fatalf("data directory left behind: %v", ents)
	}
	if err := Run(context.Background(), Options{URL: "http://example.org/"}); err == nil {
		t.Fatal("Run accepted a non-loopback start URL")
	}
}

// inProcessRuns counts TestRunInProcess runs in this process (more than one with -count).
var inProcessRuns int

// syncWriter serialises writes from the shell's goroutines into w.
type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
