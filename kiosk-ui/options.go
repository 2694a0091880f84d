package kioskui

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// DefaultURLFile is where kiosk-agent writes the start URL (docs/ui-protocol.md).
const DefaultURLFile = "/run/smartpath/ui-url"

// LoopbackAnyPort is the frame origin pattern the shell allows when Options.FrameOrigins
// is empty: any port on 127.0.0.1 over plain HTTP, where every agent listener lives.
const LoopbackAnyPort = "http://127.0.0.1:*"

// Options configure [Run]. The zero value reads the start URL from [DefaultURLFile].
type Options struct {
	// URL is the start URL, http://127.0.0.1:<port>/#token=<token>. When empty it is read
	// from URLFile, and read again whenever the page must be (re)loaded, so a restarted
	// agent's new token is picked up.
	URL string
	// URLFile is read when URL is empty. Default DefaultURLFile.
	URLFile string
	// FrameOrigins are the origins (scheme://host:port) allowed inside frames and for
	// subresources besides the UI origin: the portal proxy. A port of "*" allows any port
	// ("http://127.0.0.1:*"). Empty means [LoopbackAnyPort]. The top-level document is
	// always the UI origin only.
	FrameOrigins []string
	// DataDir is the parent of the private data directory made fresh at every start and
	// removed on exit. Default: $XDG_RUNTIME_DIR/smartpath-kiosk-ui, else
	// <temp>/smartpath-kiosk-ui-<uid>.
	DataDir string
	// Version is the shell's build version, logged at start. Default "dev".
	Version string
	// RetryMin and RetryMax bound the backoff between attempts to load the UI while the
	// agent cannot be reached. Defaults 250 ms and 5 s.
	RetryMin, RetryMax time.Duration
	// Logger receives the shell's events (never page content). Default: discard.
	Logger *slog.Logger
}

// ErrNoDisplay is returned by [Run] when no graphical display can be opened (no $DISPLAY
// or $WAYLAND_DISPLAY, or the server refuses the connection).
var ErrNoDisplay = errors.New("no graphical display: run kiosk-ui inside the kiosk user's graphical session (check DISPLAY or WAYLAND_DISPLAY)")

// ErrAlreadyRunning is returned by [Run] when Run was called before in this process: the
// native toolkit (GTK, WebKit's default context and its data directories) lives for the
// whole process, so a shell runs once per process.
var ErrAlreadyRunning = errors.New("the kiosk shell runs once per process; start a new process")

// withDefaults returns o with its defaults filled in and checked.
func (o Options) withDefaults() (Options, error) {
	if o.URL == "" && o.URLFile == "" {
		o.URLFile = DefaultURLFile
	}
	if o.URL != "" {
		if _, err := parseStartURL(o.URL); err != nil {
			return o, fmt.Errorf("start URL: %w", redactErr(err))
		}
	}
	if len(o.FrameOrigins) == 0 {
		o.FrameOrigins = []string{LoopbackAnyPort}
	}
	for _, f := range o.FrameOrigins {
		if _, err := parseOriginPattern(f); err != nil {
			return o, fmt.Errorf("frame origin %q: %w", f, err)
		}
	}
	if o.DataDir == "" {
		o.DataDir = defaultDataParent()
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.RetryMin <= 0 {
		o.RetryMin = 250 * time.Millisecond
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 5 * time.Second
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = o.RetryMin
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

func defaultDataParent() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "smartpath-kiosk-ui")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("smartpath-kiosk-ui-%d", os.Getuid()))
}
