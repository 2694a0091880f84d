package installer

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// The service manager's Stop cancels the agent and waits for it; a second Stop (a stop
// request racing the shutdown, say) returns at once instead of hanging the process, and a
// second Start cannot leak a run nobody waits for.
func TestProgramStartStop(t *testing.T) {
	defer goleak.VerifyNone(t)
	stopped := errors.New("stopped")
	p := &program{run: func(ctx context.Context) error { <-ctx.Done(); return stopped }}
	if err := p.Stop(nil); err != nil {
		t.Fatalf("Stop before Start: %v", err)
	}
	if err := p.Start(nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(nil); err == nil {
		t.Error("a second Start was accepted while the agent runs")
	}
	if err := p.Stop(nil); !errors.Is(err, stopped) {
		t.Fatalf("Stop = %v, want the run's error", err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Stop(nil) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("second Stop = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a second Stop hangs")
	}
}
