// Command kiosk-agent is the SmartPath kiosk's system service: it watches the card reader,
// runs the citizen's session, proxies the council portal with the card's key and serves
// the kiosk screens. Run `kiosk-agent -h` for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/kardianos/service"

	"smartpath/agent"
	"smartpath/agent/config"
	"smartpath/installer"
)

const usage = `kiosk-agent — the SmartPath library kiosk agent

Usage:
  kiosk-agent run [--config FILE]           run in the foreground (or under the service manager)
  kiosk-agent config check [--config FILE]  check the configuration and exit
  kiosk-agent install [--config FILE]       install the system service (then: kiosk-agent start)
  kiosk-agent uninstall|start|stop|restart  control the system service
  kiosk-agent status                        say whether the service is installed and running
  kiosk-agent version                       print the version

The configuration file defaults to ` + config.DefaultPath + `; see docs/configuration.md.
Health and metrics are served on the admin address (default http://127.0.0.1:8479/healthz
and /metrics).
`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "kiosk-agent:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Print(usage)
		return nil
	}
	cmd, rest := args[0], args[1:]
	if cmd == "config" {
		if len(rest) == 0 || rest[0] != "check" {
			return errors.New("usage: kiosk-agent config check [--config FILE]")
		}
		cmd, rest = "config check", rest[1:]
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	cfgPath := fs.String("config", config.DefaultPath, "the configuration file")
	if err := fs.Parse(rest); err != nil {
		return err
	}
	switch cmd {
	case "version":
		fmt.Println(version())
		return nil
	case "config check":
		if _, err := config.Load(*cfgPath); err != nil {
			return err
		}
		fmt.Printf("%s: ok\n", *cfgPath)
		return nil
	case "run":
		return runAgent(*cfgPath)
	case "install", "uninstall", "start", "stop", "restart", "status":
		svc, err := installer.New(nil, []string{"run", "--config", *cfgPath})
		if err != nil {
			return err
		}
		if cmd == "status" {
			st, err := installer.Status(svc)
			if err == nil {
				fmt.Println(installer.Name+":", st)
			}
			return err
		}
		return installer.Control(svc, cmd)
	}
	return fmt.Errorf("unknown command %q; run kiosk-agent -h", cmd)
}

func runAgent(cfgPath string) error {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	logger := agent.NewLogger(cfg.Log, os.Stderr)
	a, err := agent.New(cfg, logger)
	if err != nil {
		return err
	}
	if !service.Interactive() {
		svc, err := installer.New(func(ctx context.Context) error {
			err := a.Run(ctx)
			if ctx.Err() == nil {
				// Stopped by itself (e.g. ui.url_file not writable), not by the service
				// manager: exit non-zero so that it restarts the agent, rather than leave a
				// "running" service that serves nothing.
				fmt.Fprintln(os.Stderr, "kiosk-agent: stopped unexpectedly:", err)
				os.Exit(1)
			}
			return err
		}, nil)
		if err != nil {
			return err
		}
		return svc.Run()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The UI's address is in the "kiosk-agent running" log line: every line on standard
	// error is the logger's, so a collector can parse each one (log.format json).
	return a.Run(ctx)
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return "kiosk-agent " + bi.Main.Version + " " + bi.GoVersion
	}
	return "kiosk-agent (unknown version)"
}
