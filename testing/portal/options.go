package portal

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Options configure a [Server]. ServerCert and ClientCAs are required; everything else has a
// working default.
type Options struct {
	// ServerCert is presented on all three origins. It must name Hostname.
	ServerCert tls.Certificate
	// ClientCAs holds the council CA: only citizen certificates that chain to it are let in.
	ClientCAs *x509.CertPool
	// Logger receives one record per request and per connection. Default: discard.
	Logger *slog.Logger

	// Hostname is the host name used in the origins' URLs, redirects and page links
	// (default "localhost"). The kiosk's configured portal origins must use the same name.
	Hostname string
	// MinTLS and MaxTLS bound the TLS versions (defaults tls.VersionTLS12 and tls.VersionTLS13).
	MinTLS, MaxTLS uint16
	// DisableHTTP2 makes the origins speak HTTP/1.1 only (default: h2 and http/1.1 via ALPN).
	DisableHTTP2 bool

	// RefuseInHandshake makes the portal reject a missing or foreign client certificate with a
	// TLS alert (certificate_required, handshake_failure or bad_certificate) instead of the default: complete the
	// handshake and answer every request with a 403 page that says what is wrong.
	RefuseInHandshake bool
	// SSORequiresClientCert makes the SSO origin require a council certificate too. By default
	// only the portal origin asks for one, so that a whole session costs the card one
	// signature; the SSO then only vouches for the browser's round trip.
	SSORequiresClientCert bool

	// Seed mixes into the generated repair histories, so two portals can differ (default "").
	Seed string
	// Repairs replaces the generated history of the given citizen numbers.
	Repairs map[string][]Repair
	// EventInterval is the period of /events ticks (default 1s).
	EventInterval time.Duration
	// WebSocketOrigins lists extra Origin values /ws accepts besides the portal's own origin.
	WebSocketOrigins []string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Extra, if set, serves every path under /_extra/ on the portal origin, for a signed-in
	// citizen: tests put pages of their own (a hostile portal page) behind the real portal.
	Extra http.Handler
}

// Addrs are the listen addresses of the three origins. An empty address means
// "127.0.0.1:0" (a free loopback port).
type Addrs struct {
	Portal, SSO, Static string
}

// URLs are the origins a client (or the kiosk's proxy configuration) uses, without a
// trailing slash, e.g. "https://localhost:9443".
type URLs struct {
	Portal, SSO, Static string
}

// Home is the portal's start page.
func (u URLs) Home() string { return u.Portal + "/" }

// Defaults for [Options].
const (
	DefaultHostname      = "localhost"
	DefaultEventInterval = time.Second
)

func (o Options) withDefaults() (Options, error) {
	if len(o.ServerCert.Certificate) == 0 || o.ServerCert.PrivateKey == nil {
		return o, errors.New("portal: Options.ServerCert is empty: issue a server certificate for the portal's host name")
	}
	if o.ClientCAs == nil {
		return o, errors.New("portal: Options.ClientCAs is nil: pass the council CA pool that issues citizen cards")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Hostname == "" {
		o.Hostname = DefaultHostname
	}
	if o.MinTLS == 0 {
		o.MinTLS = tls.VersionTLS12
	}
	if o.MaxTLS == 0 {
		o.MaxTLS = tls.VersionTLS13
	}
	if o.MinTLS < tls.VersionTLS12 || o.MaxTLS > tls.VersionTLS13 || o.MinTLS > o.MaxTLS {
		return o, fmt.Errorf("portal: TLS versions %#x..%#x: choose within TLS 1.2..1.3", o.MinTLS, o.MaxTLS)
	}
	if o.EventInterval <= 0 {
		o.EventInterval = DefaultEventInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}
