package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"smartpath/agent/config"
	"smartpath/agent/session"
	"smartpath/agent/shelllink"
	"smartpath/agent/telemetry"
	"smartpath/agent/uilink"
	"smartpath/kiosk-ui/screens"
	"smartpath/pcsc"
)

// Agent is one running kiosk-agent.
type Agent struct {
	cfg       *config.Config
	logger    *slog.Logger
	token     string
	uiOrigin  string
	telemetry *telemetry.Telemetry
	machine   *session.Machine
	ui        *uilink.Server
	shell     *shelllink.Server

	uiLn, adminLn net.Listener
	closeOnce     sync.Once
}

// New prepares an agent from a checked configuration: it reads the portal's CA bundle,
// binds the UI and admin listeners (so a port clash is reported before anything runs), and
// builds the session machine, then the UI and shell links that feed it. Nothing runs until
// Run; an agent that will not run is released with Close.
func New(cfg *config.Config, logger *slog.Logger) (*Agent, error) {
	roots, err := cfg.Portal.CertPool()
	if err != nil {
		return nil, err
	}
	a := &Agent{cfg: cfg, logger: logger, token: uilink.NewToken(), telemetry: telemetry.New()}
	if err := a.listen(); err != nil {
		return nil, err
	}
	a.machine = session.New(sessionConfig(cfg), session.Deps{
		Card:    newPIVCard(cfg.Card.PIVSlot(), logger),
		Portal:  newPortalOpener(cfg, roots, a.uiOrigin, logger, a.telemetry),
		Metrics: a.telemetry,
		Logger:  logger.With("component", "session"),
	})
	a.ui = uilink.New(uilink.Options{
		Origin:        a.uiOrigin,
		Token:         a.token,
		Logger:        logger.With("component", "uilink"),
		Handler:       uilink.Dispatch(a.machine),
		OnConnections: a.telemetry.SetUIConnections,
	})
	a.shell = shelllink.New(shelllink.Options{
		Token:       a.token,
		Events:      a.machine,
		Logger:      logger.With("component", "shelllink"),
		OnConfirmed: a.telemetry.ShellWipeConfirmed,
	})
	return a, nil
}

// listen binds the UI and admin listeners, on loopback only.
func (a *Agent) listen() error {
	cfg := a.cfg
	for _, l := range []struct{ key, addr string }{{"ui.listen", cfg.UI.Listen}, {"admin.listen", cfg.Admin.Listen}} {
		if err := loopbackOnly(l.key, l.addr); err != nil {
			return err
		}
	}
	var err error
	if a.uiLn, err = net.Listen("tcp", cfg.UI.Listen); err != nil {
		return fmt.Errorf("ui.listen: %w (is another kiosk-agent running?)", err)
	}
	if a.adminLn, err = net.Listen("tcp", cfg.Admin.Listen); err != nil {
		a.uiLn.Close()
		return fmt.Errorf("admin.listen: %w (is another kiosk-agent running?)", err)
	}
	a.uiOrigin = "http://" + a.uiLn.Addr().String()
	return nil
}

// sessionConfig is the session machine's part of the configuration.
func sessionConfig(cfg *config.Config) session.Config {
	return session.Config{
		IdleTimeout:     cfg.Session.IdleTimeout,
		IdleWarning:     cfg.Session.IdleWarning,
		MaxLength:       cfg.Session.MaxLength,
		GoodbyeAfter:    cfg.Session.GoodbyeAfter,
		PINMin:          cfg.Session.PINMin,
		PINMax:          cfg.Session.PINMax,
		Languages:       cfg.UI.Languages,
		DefaultLanguage: cfg.UI.DefaultLanguage,
		RequireShell:    cfg.UI.RequireShell,
		ShellConfirm:    cfg.UI.ShellConfirmTimeout,
	}
}

// UIURL is the kiosk UI's start URL, with the per-boot token. It is a secret of the kiosk
// user: it is written to ui.url_file and must not be logged.
func (a *Agent) UIURL() string { return a.uiOrigin + "/#token=" + a.token }

// UIOrigin is the origin of the kiosk UI, e.g. http://127.0.0.1:8470.
func (a *Agent) UIOrigin() string { return a.uiOrigin }

// AdminAddr is the address serving /healthz and /metrics.
func (a *Agent) AdminAddr() string { return a.adminLn.Addr().String() }

// Close releases what New acquired, the two listeners, for an agent that will not run. Run
// releases them itself when it returns; Close after Run, or twice, does nothing.
func (a *Agent) Close() error {
	var err error
	a.closeOnce.Do(func() { err = errors.Join(a.uiLn.Close(), a.adminLn.Close()) })
	return err
}

// Machine is the session machine (for tests and the fleet link).
func (a *Agent) Machine() *session.Machine { return a.machine }

// Run runs the agent until ctx ends; then it ends any session (wiping it), stops the
// monitor and the servers, and returns once every goroutine has stopped.
func (a *Agent) Run(ctx context.Context) error {
	defer a.Close()
	if err := writeURLFile(a.cfg.UI.URLFile, a.UIURL()); err != nil {
		return err
	}
	defer os.Remove(a.cfg.UI.URLFile)

	uiMux := http.NewServeMux()
	uiMux.Handle("/ws", a.ui)
	uiMux.Handle(shelllink.Path, a.shell)
	uiMux.Handle("/", screens.Handler(screens.Options{Languages: a.cfg.UI.Languages,
		DefaultLanguage: a.cfg.UI.DefaultLanguage, WarningSound: a.cfg.UI.WarningSound}))
	uiSrv := &http.Server{Handler: uiMux, ReadHeaderTimeout: 5 * time.Second, MaxHeaderBytes: 16 << 10,
		ErrorLog: slog.NewLogLogger(a.logger.Handler(), slog.LevelDebug)}
	adminSrv := &http.Server{Handler: a.telemetry.Handler(), ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: slog.NewLogLogger(a.logger.Handler(), slog.LevelDebug)}

	var wg sync.WaitGroup
	serve := func(srv *http.Server, ln net.Listener, name string) {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.logger.Error("server stopped", "server", name, "err", err)
		}
	}
	wg.Add(2)
	go serve(uiSrv, a.uiLn, "ui")
	go serve(adminSrv, a.adminLn, "admin")

	// The links and the reader monitor outlive the machine's Run: its shutdown wipe and
	// goodbye still reach the UI and the shell.
	linkCtx, stopLinks := context.WithCancel(context.Background())
	var links sync.WaitGroup
	links.Add(2)
	go func() { defer links.Done(); _ = a.ui.Run(linkCtx) }()
	go func() { defer links.Done(); _ = a.shell.Run(linkCtx) }()
	wg.Add(1)
	go func() {
		defer wg.Done()
		err := watchReaders(linkCtx, a.cfg.Card.Reader, a.onCardEvent, a.machine.Send)
		if err != nil {
			a.logger.Error("reader monitor stopped", "err", err)
		}
	}()

	// The machine logs every phase change itself and feeds health and metrics.
	a.logger.Info("kiosk-agent running", "ui", a.uiOrigin, "admin", a.AdminAddr(),
		"portal", a.cfg.Portal.Home)
	err := a.machine.Run(ctx, session.Links{UI: a.ui, Shell: a.shell}) // returns after the shutdown wipe

	stopLinks()
	links.Wait() // the UI link has flushed what was queued
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = uiSrv.Shutdown(shutdownCtx)
	_ = adminSrv.Shutdown(shutdownCtx)
	wg.Wait()
	a.logger.Info("kiosk-agent stopped")
	return err
}

func (a *Agent) onCardEvent(ev pcsc.Event) {
	switch ev.Kind {
	case pcsc.ServiceRestored:
		a.telemetry.PCSCDRestarted()
	case pcsc.ReaderAdded:
		a.telemetry.CardEvent("reader_added")
	case pcsc.ReaderRemoved:
		a.telemetry.CardEvent("reader_removed")
	}
	a.logger.Debug("pc/sc event", "kind", ev.Kind.String(), "reader", ev.Reader)
}

// loopbackOnly refuses a listen address off loopback (docs/security.md, invariant 3). config.Load
// refuses one too; New checks again because it accepts any *config.Config.
func loopbackOnly(key, addr string) error {
	if _, err := config.LoopbackAddr(addr); err != nil {
		return fmt.Errorf("%s: %w; use 127.0.0.1:<port>: the agent listens on loopback only", key, err)
	}
	return nil
}
