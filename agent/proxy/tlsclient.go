package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxConnsPerOrigin bounds the session's connections to one origin (per transport). The
// webview opens at most 6 per local origin over HTTP/1.1; HTTP/2 needs one.
const maxConnsPerOrigin = 16

// ticketCache is one origin's per-session TLS session cache. It tells the origin's gate when a
// ticket arrives, and is emptied when the session ends.
type ticketCache struct {
	mu      sync.Mutex
	m       map[string]*tls.ClientSessionState
	dropped bool
	onPut   func()
}

const maxTickets = 8

func (c *ticketCache) Get(key string) (*tls.ClientSessionState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[key]
	return s, ok
}

func (c *ticketCache) Put(key string, cs *tls.ClientSessionState) {
	c.mu.Lock()
	if c.dropped {
		c.mu.Unlock()
		return
	}
	if cs == nil {
		delete(c.m, key)
		c.mu.Unlock()
		return
	}
	if _, ok := c.m[key]; !ok && len(c.m) >= maxTickets {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[key] = cs
	c.mu.Unlock()
	if c.onPut != nil {
		c.onPut()
	}
}

func (c *ticketCache) has() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m) > 0
}

// drop empties the cache for good.
func (c *ticketCache) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m, c.dropped = nil, true
}

// upstream is one origin's TLS client state for the session.
type upstream struct {
	origin *origin
	tlsH2  *tls.Config // ALPN h2, http/1.1
	tlsH1  *tls.Config // ALPN http/1.1, for websocket upgrades
	cache  *ticketCache
	gate   gate
	// handshook is set once a handshake with the origin has completed: a later failure
	// happened after the portal saw the card's certificate.
	handshook atomic.Bool
}

// dialer makes the session's TLS connections to the configured origins, and nothing else.
type dialer struct {
	ctx      context.Context // the session's; cancelled by Close
	timeout  time.Duration
	byAddr   map[string]*upstream // "host:port" as the transport asks for it
	conns    *connSet
	dialAddr func(string) string
}

func newDialer(ctx context.Context, cfg Config, om *originMap, cert *tls.Certificate, conns *connSet) *dialer {
	d := &dialer{ctx: ctx, timeout: cfg.ConnectTimeout, byAddr: map[string]*upstream{}, conns: conns, dialAddr: cfg.dialAddr}
	getCert := func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	for _, o := range om.list {
		u := &upstream{origin: o, cache: &ticketCache{m: map[string]*tls.ClientSessionState{}}}
		u.gate.hasTicket = u.cache.has
		u.cache.onPut = u.gate.release
		base := &tls.Config{
			RootCAs:              cfg.RootCAs,
			ServerName:           o.hostname,
			MinVersion:           tls.VersionTLS12,
			MaxVersion:           tls.VersionTLS13,
			ClientSessionCache:   u.cache,
			GetClientCertificate: getCert,
			Renegotiation:        tls.RenegotiateNever,
		}
		u.tlsH2 = base.Clone()
		u.tlsH2.NextProtos = []string{"h2", "http/1.1"}
		u.tlsH1 = base.Clone()
		u.tlsH1.NextProtos = []string{"http/1.1"}
		d.byAddr[net.JoinHostPort(o.hostname, o.port)] = u
	}
	return d
}

// errNotConfigured is returned when something asks the dialer for an origin that is not
// configured: it never happens through the proxy, which only forwards to its own origin.
var errNotConfigured = errors.New("portal proxy: refusing to connect to an origin that is not configured")

func (d *dialer) dialTLS(ctx context.Context, addr string, h1 bool) (net.Conn, error) {
	host, port := splitHostPort(addr)
	u := d.byAddr[net.JoinHostPort(strings.ToLower(strings.Trim(host, "[]")), port)]
	if u == nil {
		return nil, errNotConfigured
	}
	for {
		adm, wait := u.gate.enter(h1)
		if adm == dialWait {
			select {
			case <-wait:
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-d.ctx.Done():
				return nil, net.ErrClosed
			}
			continue
		}
		trial := adm == dialTrial
		conn, tracked, asked, err := d.handshake(ctx, u, addr, h1, trial)
		if trial {
			resumed := err == nil && conn.ConnectionState().DidResume
			u.gate.tried(resumed, asked || (err == nil && !resumed))
			if !resumed {
				if err == nil {
					tracked.Close() // the portal did not resume: this connection has no card
				}
				if err == nil || asked {
					continue // ask the gate again: now without counting on tickets
				}
				return nil, err
			}
		}
		if adm == dialLead {
			u.gate.led(conn, tracked, err, !h1)
		}
		if err != nil {
			return nil, err
		}
		u.handshook.Store(true)
		return conn, nil
	}
}

// upstreamFor returns the state of a configured origin.
func (d *dialer) upstreamFor(o *origin) *upstream {
	return d.byAddr[net.JoinHostPort(o.hostname, o.port)]
}

// handshake dials addr and makes the TLS handshake. A trial offers the cached ticket and no
// card: asked reports whether the portal asked for a client certificate anyway (it did not
// resume), in which case an empty certificate was sent and the card did not sign.
func (d *dialer) handshake(ctx context.Context, u *upstream, addr string, h1, trial bool) (conn *tls.Conn, tracked *trackedConn, asked bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	stop := context.AfterFunc(d.ctx, cancel)
	defer stop()
	target := addr
	if d.dialAddr != nil {
		target = d.dialAddr(addr)
	}
	var nd net.Dialer
	raw, err := nd.DialContext(ctx, "tcp", target)
	if err != nil {
		return nil, nil, false, fmt.Errorf("connect to %s: %w", u.origin.upOrigin, err)
	}
	tracked, ok := d.conns.add(raw)
	if !ok {
		return nil, nil, false, net.ErrClosed
	}
	cfg := u.tlsH2
	if h1 {
		cfg = u.tlsH1
	}
	if trial {
		cfg = cfg.Clone()
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			asked = true
			return &tls.Certificate{}, nil // no card on a trial
		}
	}
	tc := tls.Client(tracked, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		tracked.Close()
		return nil, nil, asked, fmt.Errorf("TLS handshake with %s: %w", u.origin.upOrigin, err)
	}
	return tc, tracked, asked, nil
}

// newTransports builds the session's transports: one that speaks HTTP/2 where the origin
// offers it, and one for websocket upgrades, which need HTTP/1.1.
func newTransports(cfg Config, d *dialer) (h2, h1 *http.Transport) {
	mk := func(onlyH1 bool) *http.Transport {
		t := &http.Transport{
			Proxy: nil, // never an environment proxy
			DialTLSContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
				return d.dialTLS(ctx, addr, onlyH1)
			},
			DialContext: func(context.Context, string, string) (net.Conn, error) {
				return nil, errNotConfigured // plain http upstream is never used
			},
			ForceAttemptHTTP2:      !onlyH1,
			MaxIdleConns:           64,
			MaxIdleConnsPerHost:    maxConnsPerOrigin,
			MaxConnsPerHost:        maxConnsPerOrigin,
			IdleConnTimeout:        cfg.IdleTimeout,
			ResponseHeaderTimeout:  cfg.ResponseHeaderTimeout,
			ExpectContinueTimeout:  time.Second,
			MaxResponseHeaderBytes: int64(cfg.MaxHeaderBytes),
			DisableCompression:     true, // Accept-Encoding is decided per request by the proxy
			// Beyond the portal's stream limit, queue on the connection rather than dial
			// another: the handshake gate holds such dials while the connection lives.
			HTTP2: &http.HTTP2Config{StrictMaxConcurrentRequests: true},
		}
		if onlyH1 {
			t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		return t
	}
	return mk(false), mk(true)
}

// routeTransport sends websocket upgrades over HTTP/1.1 and everything else over h2.
type routeTransport struct{ h2, h1 *http.Transport }

func (r routeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if isUpgrade(req.Header) {
		return r.h1.RoundTrip(req)
	}
	return r.h2.RoundTrip(req)
}

func isUpgrade(h http.Header) bool {
	for _, v := range h["Connection"] {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), "upgrade") {
				return h.Get("Upgrade") != ""
			}
		}
	}
	return false
}
