package installer

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/kardianos/service"
)

// Name is the service's name in the service manager.
const Name = "smartpath-kiosk-agent"

// RunFunc runs the agent until ctx ends and returns once it has stopped.
type RunFunc func(ctx context.Context) error

// program adapts a RunFunc to the service manager's Start/Stop calls.
type program struct {
	run    RunFunc
	cancel context.CancelFunc
	done   chan error
	mu     sync.Mutex
}

// Start runs the agent in its own goroutine, which Stop cancels and waits for.
func (p *program) Start(service.Service) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cancel != nil {
		return errors.New("the agent is already running in this process")
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan error, 1)
	go func() { p.done <- p.run(ctx) }()
	return nil
}

// Stop cancels the run and waits for it to return; it may be called more than once.
func (p *program) Stop(service.Service) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cancel == nil {
		return nil
	}
	p.cancel()
	err := <-p.done
	p.cancel, p.done = nil, nil // a second Stop must not wait on the drained channel
	return err
}

// New describes the service; args are the arguments the service manager starts the
// binary with (e.g. "run", "--config", "/etc/smartpath/kiosk.yaml").
func New(run RunFunc, args []string) (service.Service, error) {
	cfg := &service.Config{
		Name:        Name,
		DisplayName: "SmartPath kiosk agent",
		Description: "Reads council smart cards and shows the citizen's portal on this library kiosk.",
		Arguments:   args,
		Option: service.KeyValue{
			"Restart":     "always",
			"LimitNOFILE": 4096,
		},
	}
	return service.New(&program{run: run}, cfg)
}

// Control carries out a technician's service command: install, uninstall, start, stop,
// restart.
func Control(s service.Service, action string) error {
	if err := service.Control(s, action); err != nil {
		return fmt.Errorf("%s the %s service: %w", action, Name, err)
	}
	return nil
}

// Status describes the service's state for `kiosk-agent status`.
func Status(s service.Service) (string, error) {
	st, err := s.Status()
	if errors.Is(err, service.ErrNotInstalled) {
		return "not installed (run: kiosk-agent install)", nil
	}
	if err != nil {
		return "", fmt.Errorf("status of the %s service: %w", Name, err)
	}
	switch st {
	case service.StatusRunning:
		return "running", nil
	case service.StatusStopped:
		return "stopped (run: kiosk-agent start)", nil
	default:
		return "unknown", nil
	}
}
