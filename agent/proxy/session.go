package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Session is one citizen's portal proxy: its listeners, TLS client, connections, session
// caches and cookie jar. It is safe for concurrent use.
type Session struct {
	cfg     Config
	log     *slog.Logger
	origins *originMap
	signer  *cardSigner
	dialer  *dialer
	h2, h1  *http.Transport
	rt      routeTransport
	jar     *sessionJar
	access  *access
	toUp    *strings.Replacer // local → upstream in query strings and forms
	display atomic.Pointer[Display]

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc

	down, up *connSet // accepted local connections; upstream connections
	servers  []*http.Server
	serving  sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	handlers sync.WaitGroup

	closeOnce sync.Once
}

// Start begins a citizen's session: a fresh TLS client that authenticates with clientCert
// (the card's certificate chain and its crypto.Signer), and one loopback listener per
// configured origin, home first. ctx bounds only the start; the session lives until Close.
func Start(ctx context.Context, cfg Config, clientCert tls.Certificate) (*Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	acc, err := newAccess()
	if err != nil {
		return nil, err
	}
	cert, signer, err := sessionCertificate(clientCert)
	if err != nil {
		return nil, err
	}
	s := &Session{
		cfg:     cfg,
		log:     cfg.Logger,
		origins: newOriginMap(cfg.Home, cfg.Origins, cfg.UIOrigin),
		signer:  signer,
		access:  acc,
		down:    newConnSet(),
		up:      newConnSet(),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	jar, _ := cookiejar.New(nil) // never fails without options
	s.jar = &sessionJar{jar: jar}

	var lns []net.Listener
	lc := net.ListenConfig{}
	for i, o := range s.origins.list {
		port := 0
		if cfg.FirstPort != 0 {
			port = cfg.FirstPort + i
		}
		ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(cfg.ListenHost, strconv.Itoa(port)))
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			s.cancel()
			return nil, fmt.Errorf("portal proxy: listen for %s: %w", o.upOrigin, err)
		}
		lns = append(lns, ln)
		s.origins.bind(o, ln.Addr().String())
	}
	s.toUp = strings.NewReplacer(s.origins.localReplacements()...)
	s.dialer = newDialer(s.ctx, cfg, s.origins, &cert, s.up)
	s.h2, s.h1 = newTransports(cfg, s.dialer)
	s.rt = routeTransport{h2: s.h2, h1: s.h1}

	errLog := slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)
	for i, o := range s.origins.list {
		srv := &http.Server{
			Handler:           s.handler(o),
			ReadHeaderTimeout: 10 * time.Second,
			// "OPTIONS *" is not for the portal: let admit refuse it.
			DisableGeneralOptionsHandler: true,
			IdleTimeout:                  cfg.IdleTimeout,
			MaxHeaderBytes:               cfg.MaxHeaderBytes,
			BaseContext:                  func(net.Listener) context.Context { return s.ctx },
			ErrorLog:                     errLog,
		}
		s.servers = append(s.servers, srv)
		ln := trackingListener{Listener: lns[i], set: s.down}
		s.serving.Add(1)
		go func() {
			defer s.serving.Done()
			srv.Serve(ln)
		}()
	}
	s.log.Debug("portal proxy session started", "origins", len(s.origins.list))
	return s, nil
}

// HomeURL is what the kiosk UI puts in its frame: the session's enter URL on the home
// origin, which carries the session's access secret, for example
// http://127.0.0.1:8471/__smartpath/enter/<secret>/home. Loading it sets the session's cookie
// and redirects to the proxied home page (here http://127.0.0.1:8471/home). Give it only to
// the kiosk UI. It works until Close; afterwards HomeURL returns "".
func (s *Session) HomeURL() string {
	home := s.cfg.Home.EscapedPath()
	if !strings.HasPrefix(home, "/") {
		home = "/" + home
	}
	if s.cfg.Home.RawQuery != "" {
		home += "?" + s.cfg.Home.RawQuery
	}
	return s.access.enterURL(s.origins.list[0].localOrigin, home)
}

// LocalURL maps a URL on a configured origin to the same URL on its local origin. It returns
// "" for anything else. The URL carries no secret: only a client that has loaded HomeURL (and
// so holds the session's cookie) is served there.
func (s *Session) LocalURL(u *url.URL) string {
	if u == nil || u.Host == "" {
		return ""
	}
	l, ok := s.origins.toLocalURL(u.String())
	if !ok {
		return ""
	}
	return l
}

// Signatures is how many times the session has used the card key.
func (s *Session) Signatures() int { return int(s.signer.n.Load()) }

// maxProbeBody bounds how much of the home page Probe reads.
const maxProbeBody = 1 << 20

// Probe requests the home page through the session's TLS client, so that the card signature
// and any failure happen before the portal is shown. Failures wrap ErrPortalUnavailable,
// ErrPortalUntrusted or ErrClientCertRefused.
func (s *Session) Probe(ctx context.Context) error {
	ctx, stop := mergeCancel(ctx, s.ctx)
	defer stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.Home.String(), nil)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPortalUnavailable, err)
	}
	for _, c := range s.jar.cookies(req.URL) {
		req.AddCookie(c)
	}
	start := time.Now()
	resp, err := s.rt.RoundTrip(req)
	if err != nil && s.ctx.Err() == nil && s.needsDiagnosis(err) {
		// Under TLS 1.3 a portal refuses the card's certificate after the handshake, with an
		// alert the HTTP/2 client does not report. Ask once more over HTTP/1.1, which does.
		// This costs a second card signature, on this failure path only.
		s.log.Debug("portal probe: asking again over HTTP/1.1 to learn why the connection failed")
		resp, err = s.h1.RoundTrip(req.Clone(ctx))
	}
	if err != nil {
		if s.ctx.Err() != nil {
			return fmt.Errorf("%w: the session has ended", ErrPortalUnavailable)
		}
		return classify(err)
	}
	defer resp.Body.Close()
	s.jar.setCookies(req.URL, resp.Cookies())
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxProbeBody))
	s.log.Debug("portal probe", "status", resp.StatusCode, "duration", time.Since(start), "proto", resp.Proto)
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%w: the home page answered %s", ErrClientCertRefused, resp.Status)
	case resp.StatusCode >= 500:
		return fmt.Errorf("%w: the home page answered %s", ErrPortalUnavailable, resp.Status)
	case resp.StatusCode >= 400:
		return fmt.Errorf("%w: the home page answered %s: check the portal address in the configuration", ErrPortalUnavailable, resp.Status)
	}
	return nil
}

// needsDiagnosis says whether a failed probe may hide a refused client certificate: the
// failure is not explained, a handshake with the home origin has completed, and the portal
// has given no session ticket (which it does only for a certificate it accepts).
func (s *Session) needsDiagnosis(err error) bool {
	if !errors.Is(classify(err), ErrPortalUnavailable) {
		return false
	}
	u := s.dialer.upstreamFor(s.origins.list[0])
	return u.handshook.Load() && !u.cache.has()
}

// closeWait bounds how long Close waits for request handlers after cutting their connections.
const closeWait = time.Second

// Close ends the session: no more card signatures, listeners and every local and upstream
// connection closed, TLS session caches and cookies dropped. It is idempotent.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		start := time.Now()
		s.signer.close()
		s.access.close()
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.cancel()
		for _, srv := range s.servers {
			srv.Close() // listeners and the connections the server still tracks
		}
		s.down.closeAll() // hijacked ones too
		s.up.closeAll()
		s.h2.CloseIdleConnections()
		s.h1.CloseIdleConnections()
		for _, u := range s.dialer.byAddr {
			u.gate.stop()
			u.cache.drop()
		}
		s.jar.drop()
		s.serving.Wait()
		done := make(chan struct{})
		go func() {
			s.handlers.Wait()
			close(done)
		}()
		t := time.NewTimer(closeWait)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			s.log.Warn("portal proxy: request handlers still running after session end")
		}
		s.log.Debug("portal proxy session closed", "duration", time.Since(start))
	})
	return nil
}

// enter registers a request handler; false once the session is closed.
func (s *Session) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.handlers.Add(1)
	return true
}

// mergeCancel returns a context done when either a or b is.
func mergeCancel(a, b context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(a)
	stop := context.AfterFunc(b, cancel)
	return ctx, func() { stop(); cancel() }
}

// sessionJar is the per-session cookie jar; it is dropped when the session ends.
type sessionJar struct {
	mu  sync.Mutex
	jar *cookiejar.Jar
}

func (j *sessionJar) cookies(u *url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.jar == nil {
		return nil
	}
	return j.jar.Cookies(u)
}

func (j *sessionJar) setCookies(u *url.URL, cs []*http.Cookie) {
	if len(cs) == 0 {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.jar != nil {
		j.jar.SetCookies(u, cs)
	}
}

func (j *sessionJar) drop() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.jar = nil
}
