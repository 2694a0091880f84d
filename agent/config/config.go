package config

import (
	"log/slog"
	"time"

	"smartpath/pcsc/piv"
)

// DefaultPath is where the agent looks for its configuration when not told otherwise.
const DefaultPath = "/etc/smartpath/kiosk.yaml"

// Config is the whole configuration of kiosk-agent. The yaml tags are the keys of the file.
type Config struct {
	UI      UI      `yaml:"ui"`
	Portal  Portal  `yaml:"portal"`
	Session Session `yaml:"session"`
	Card    Card    `yaml:"card"`
	Admin   Admin   `yaml:"admin"`
	Log     Log     `yaml:"log"`
}

// UI configures the kiosk UI's origin and the control channel.
type UI struct {
	// Listen is the loopback address serving the kiosk UI and its websocket (origin
	// http://Listen).
	Listen string `yaml:"listen"`
	// URLFile receives the UI start URL with the per-boot token (mode 0640).
	URLFile string `yaml:"url_file"`
	// Languages the citizen can choose, as two- or three-letter codes.
	Languages []string `yaml:"languages"`
	// DefaultLanguage is shown at idle; it must be one of Languages.
	DefaultLanguage string `yaml:"default_language"`
	// WarningSound: the idle warning also sounds a short tone (for citizens who are not
	// looking at the screen). Off by default: libraries are quiet places.
	WarningSound bool `yaml:"warning_sound"`
	// RequireShell: read no card until the kiosk shell (kiosk-ui) has confirmed a fresh
	// browser since the last session (docs/security.md). Turn it off only to develop with a
	// plain browser and no shell.
	RequireShell bool `yaml:"require_shell"`
	// ShellConfirmTimeout bounds the wait for that confirmation; past it the kiosk is out
	// of order until a shell connects and confirms.
	ShellConfirmTimeout time.Duration `yaml:"shell_confirm_timeout"`
}

// Portal configures the council portal and the local proxy in front of it.
type Portal struct {
	// Home is the portal page shown when a session opens (https).
	Home string `yaml:"home"`
	// Origins are further https origins the portal needs (an SSO host, a static host).
	Origins []string `yaml:"origins"`
	// EndSessionURLs are the portal's own sign-out addresses (https, on Home's origin or one
	// of Origins; the path is compared, not the query): when the citizen's browser has opened
	// one, the kiosk session ends as with End session.
	EndSessionURLs []string `yaml:"end_session_urls"`
	// CAFile is a PEM bundle of the CAs that may sign the portal's certificates.
	CAFile string `yaml:"ca_file"`
	// ListenHost is the loopback address the proxy's ports bind.
	ListenHost string `yaml:"listen_host"`
	// FirstPort serves Home's origin; Origins[i] is served on FirstPort+1+i.
	FirstPort int `yaml:"first_port"`
	// ConnectTimeout bounds the TCP connect and TLS handshake to the portal.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// ResponseHeaderTimeout bounds the wait for the portal's response headers.
	ResponseHeaderTimeout time.Duration `yaml:"response_header_timeout"`
}

// Session configures the citizen's session.
type Session struct {
	// IdleTimeout ends a session after this long without activity. The warning
	// countdown is the last IdleWarning of it.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// IdleWarning is how long the "are you still there?" countdown shows.
	IdleWarning time.Duration `yaml:"idle_warning"`
	// MaxLength ends any session after this long.
	MaxLength time.Duration `yaml:"max_length"`
	// GoodbyeAfter is how long "take your card" shows before the attract screen returns.
	GoodbyeAfter time.Duration `yaml:"goodbye_after"`
	// PINMin and PINMax bound the PIN's length in digits, within piv.PINMinLen and
	// piv.PINMaxLen.
	PINMin int `yaml:"pin_min"`
	PINMax int `yaml:"pin_max"`
}

// Card selects the reader and the key.
type Card struct {
	// Reader is a substring of the reader name to use; empty means any reader.
	Reader string `yaml:"reader"`
	// Slot is the PIV key slot that authenticates the citizen (lower-case hex). Only 9a
	// passes validation (unusableSlots says why not the others).
	Slot string `yaml:"slot"`
}

// Admin configures the technician's endpoints (/healthz, /metrics).
type Admin struct {
	// Listen is the loopback address serving /healthz and /metrics.
	Listen string `yaml:"listen"`
}

// Log configures the structured logs.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is json or text.
	Format string `yaml:"format"`
}

// Default returns the configuration used for every key the file leaves out.
func Default() *Config {
	return &Config{
		UI: UI{
			Listen:          "127.0.0.1:8470",
			URLFile:         "/run/smartpath/ui-url",
			Languages:       []string{"en", "el"},
			DefaultLanguage: "en",
			RequireShell:    true,
			// A fresh web view with a new web process and the UI loaded takes about 0.3 s;
			// this leaves room for a busy machine.
			ShellConfirmTimeout: 3 * time.Second,
		},
		Portal: Portal{
			Home:                  "https://portal.council.example/",
			Origins:               []string{},
			EndSessionURLs:        []string{},
			CAFile:                "/etc/smartpath/portal-ca.pem",
			ListenHost:            "127.0.0.1",
			FirstPort:             8471,
			ConnectTimeout:        10 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
		},
		Session: Session{
			IdleTimeout:  2 * time.Minute,
			IdleWarning:  30 * time.Second,
			MaxLength:    30 * time.Minute,
			GoodbyeAfter: 10 * time.Second,
			PINMin:       piv.PINMinLen,
			PINMax:       piv.PINMaxLen,
		},
		Card:  Card{Reader: "", Slot: "9a"},
		Admin: Admin{Listen: "127.0.0.1:8479"},
		Log:   Log{Level: "info", Format: "json"},
	}
}

// SlogLevel is Log.Level as a slog.Level (info if the level is unknown, which Parse rejects).
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// PIVSlot is the key slot Slot names, once the configuration is valid.
func (c Card) PIVSlot() piv.Slot {
	s, _ := piv.SlotNamed(c.Slot)
	return s
}
