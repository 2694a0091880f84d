// Command kiosk-ui is the SmartPath kiosk shell: a locked-down full-screen web view showing
// the kiosk UI that kiosk-agent serves on loopback. It runs in the kiosk user's graphical
// session; the session supervisor restarts it when it exits non-zero.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	kioskui "smartpath/kiosk-ui"
)

// version is set at build time: -ldflags "-X main.version=1.2.3".
var version = "dev"

type originList []string

func (l *originList) String() string     { return strings.Join(*l, ",") }
func (l *originList) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	os.Exit(run())
}

func run() int {
	var opts kioskui.Options
	var origins originList
	var showVersion bool
	fs := flag.NewFlagSet("kiosk-ui", flag.ContinueOnError)
	fs.StringVar(&opts.URL, "url", "", "start URL of the kiosk UI, http://127.0.0.1:<port>/#token=<token>\n(default: read from -url-file, again before every (re)load)")
	fs.StringVar(&opts.URLFile, "url-file", kioskui.DefaultURLFile, "file where kiosk-agent writes the start URL")
	fs.Var(&origins, "allow-origin", "origin allowed inside frames and for subresources besides the UI origin,\n`scheme://host:port` (port * = any); repeatable. Pass the portal proxy origin.\n(default "+kioskui.LoopbackAnyPort+")")
	fs.StringVar(&opts.DataDir, "data-dir", "", "parent of the private website-data directory made fresh at every start\nand removed on exit (default $XDG_RUNTIME_DIR/smartpath-kiosk-ui)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	fs.BoolVar(&showVersion, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: kiosk-ui [flags]

The SmartPath kiosk shell: a full-screen, locked-down web view showing the kiosk UI served
by kiosk-agent. It needs a graphical session (DISPLAY or WAYLAND_DISPLAY). While the agent
cannot be reached it shows "Starting…" and retries. It exits 0 on SIGTERM or SIGINT and
non-zero on a fatal error (no display, bad flags), for the session supervisor to restart it.
Set WEBKIT_DISABLE_COMPOSITING_MODE=1 on machines without a GPU to save memory.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "kiosk-ui: unexpected arguments %q (see kiosk-ui -h)\n", fs.Args())
		return 2
	}
	if showVersion {
		fmt.Println("kiosk-ui", version)
		return 0
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "kiosk-ui: -log-level: %v\n", err)
		return 2
	}
	opts.FrameOrigins = origins
	opts.Version = version
	opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := kioskui.Run(ctx, opts); err != nil {
		fmt.Fprintf(os.Stderr, "kiosk-ui: %v\n", err)
		return 1
	}
	return 0
}
