package proxy

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Config is what a portal proxy session needs. The zero values of the optional fields are
// replaced by the defaults documented on each field.
type Config struct {
	// Home is the portal's home page (https). Its origin is served on the first listener.
	Home *url.URL
	// Origins are further https origins the portal uses, such as an SSO host and a static
	// host. Paths are ignored; an origin equal to the home origin is ignored.
	Origins []*url.URL
	// RootCAs verifies the portal's certificates. Required: pass x509.SystemCertPool()
	// explicitly to trust the system roots.
	RootCAs *x509.CertPool
	// ListenHost is the loopback address the listeners bind to. Default 127.0.0.1.
	ListenHost string
	// FirstPort is the port of the home origin's listener; further origins get the following
	// ports. 0 picks free ports.
	FirstPort int
	// UIOrigin is the kiosk UI's origin (e.g. http://127.0.0.1:8470), the only page allowed to
	// frame the portal.
	UIOrigin string
	// ConnectTimeout bounds the TCP connect and TLS handshake (card signature included) to
	// an origin. Default 10s.
	ConnectTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for the portal's response headers. Default 30s.
	ResponseHeaderTimeout time.Duration
	// IdleTimeout closes idle upstream and local keep-alive connections. Default 90s.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds request headers from the webview and response headers from the
	// portal. Default 64 KiB.
	MaxHeaderBytes int
	// Logger receives one debug line per request and warnings for refused requests.
	// Default: discard.
	Logger *slog.Logger
	// OnRequest, when set, is called once for every request the proxy admits, before it is
	// forwarded, with the portal origin it goes to (https://host[:port], the port only when
	// not 443) and the request (its URL is the path and query on that origin). The agent
	// counts some of these as the citizen's activity (the kiosk UI cannot see input inside
	// the portal's frame). It runs on the request's goroutine: it must be quick, must not
	// block and must not keep r.
	OnRequest func(portalOrigin string, r *http.Request)
	// OnResponse, when set, is called like OnRequest once the portal's answer to the request
	// has been passed on (or the proxy answered with an error), with the status sent. The
	// agent ends the session when the citizen has signed out in the portal.
	OnResponse func(portalOrigin string, r *http.Request, status int)

	// dialAddr, when set (tests only), maps an upstream "host:port" to the address dialled,
	// so tests can give loopback servers real-looking host names.
	dialAddr func(addr string) string
}

// Defaults of the optional Config fields.
const (
	DefaultListenHost            = "127.0.0.1"
	DefaultConnectTimeout        = 10 * time.Second
	DefaultResponseHeaderTimeout = 30 * time.Second
	DefaultIdleTimeout           = 90 * time.Second
	DefaultMaxHeaderBytes        = 64 << 10
)

// maxOrigins bounds the number of listeners one session opens.
const maxOrigins = 16

// validate checks cfg and fills in the defaults.
func (cfg Config) validate() (Config, error) {
	if cfg.Home == nil {
		return cfg, errors.New("proxy config: home URL missing: set the portal's https home page")
	}
	if err := checkUpstream(cfg.Home); err != nil {
		return cfg, fmt.Errorf("proxy config: home: %w", err)
	}
	for i, o := range cfg.Origins {
		if o == nil {
			return cfg, fmt.Errorf("proxy config: origins[%d] is empty", i)
		}
		if err := checkUpstream(o); err != nil {
			return cfg, fmt.Errorf("proxy config: origins[%d]: %w", i, err)
		}
	}
	if len(cfg.Origins)+1 > maxOrigins {
		return cfg, fmt.Errorf("proxy config: %d origins configured, at most %d are allowed", len(cfg.Origins)+1, maxOrigins)
	}
	if cfg.RootCAs == nil {
		return cfg, errors.New("proxy config: no CA pool for the portal's certificate: configure the portal CA bundle")
	}
	if cfg.ListenHost == "" {
		cfg.ListenHost = DefaultListenHost
	}
	if ip := net.ParseIP(cfg.ListenHost); ip == nil || !ip.IsLoopback() {
		return cfg, fmt.Errorf("proxy config: listen host %q is not a loopback IP address: the proxy binds loopback only", cfg.ListenHost)
	}
	if cfg.FirstPort < 0 || cfg.FirstPort+len(cfg.Origins) > 65535 {
		return cfg, fmt.Errorf("proxy config: first port %d out of range", cfg.FirstPort)
	}
	ui, err := url.Parse(cfg.UIOrigin)
	if err != nil || (ui.Scheme != "http" && ui.Scheme != "https") || ui.Host == "" || ui.User != nil ||
		(ui.Path != "" && ui.Path != "/") || ui.RawQuery != "" || ui.Fragment != "" ||
		strings.ContainsAny(cfg.UIOrigin, " ;,'\"\t\r\n") {
		return cfg, fmt.Errorf("proxy config: UI origin %q is not an origin like http://127.0.0.1:8470", cfg.UIOrigin)
	}
	cfg.UIOrigin = ui.Scheme + "://" + strings.ToLower(ui.Host)
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.ResponseHeaderTimeout <= 0 {
		cfg.ResponseHeaderTimeout = DefaultResponseHeaderTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg, nil
}

func checkUpstream(u *url.URL) error {
	if u.Scheme != "https" {
		return fmt.Errorf("%q is not an https URL: the portal is reached over TLS only", u.Redacted())
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%q has no host", u.Redacted())
	}
	if u.User != nil {
		return errors.New("URL carries user information: remove it")
	}
	if p := u.Port(); p != "" {
		if _, err := net.LookupPort("tcp", p); err != nil || p == "0" {
			return fmt.Errorf("%q has a bad port", u.Redacted())
		}
	}
	return nil
}
