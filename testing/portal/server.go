package portal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Server is the demo council portal: three HTTPS origins (portal, SSO, static) with shared
// state. Make one with [New], start it with [Server.Start] or [Server.Serve], stop it with
// [Server.Close].
type Server struct {
	opts     Options
	log      *slog.Logger
	reg      *registry
	pages    pages
	assets   *assets
	repairs  *repairStore
	sessions *sessionStore
	tickets  *ticketStore
	inflight inflight

	ctx    context.Context // cancelled by Close; the base of every request's context
	cancel context.CancelFunc

	mu        sync.Mutex
	started   bool
	urls      URLs // fixed once serving starts
	servers   []*http.Server
	listeners []net.Listener
	wg        sync.WaitGroup // Serve goroutines and the context watcher
	stopWatch func() bool
	closeOnce sync.Once
}

// Listeners are the three listeners [Server.Serve] takes over.
type Listeners struct {
	Portal, SSO, Static net.Listener
}

// New checks the options and prepares a server; nothing listens yet.
func New(opts Options) (*Server, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	ps, err := parsePages()
	if err != nil {
		return nil, err
	}
	as, err := newAssets()
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:     opts,
		log:      opts.Logger,
		reg:      newRegistry(opts.Logger),
		pages:    ps,
		assets:   as,
		repairs:  newRepairStore(opts.Seed, opts.Repairs, opts.Now),
		sessions: newSessionStore(opts.Now),
		tickets:  newTicketStore(opts.Now),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Start listens on the three addresses (an empty one: a free port on 127.0.0.1) and serves
// in the background. Cancelling ctx stops the server as Close does; call Close anyway to
// wait for it.
func (s *Server) Start(ctx context.Context, addrs Addrs) error {
	var lc net.ListenConfig
	var ls [3]net.Listener
	for i, a := range []string{addrs.Portal, addrs.SSO, addrs.Static} {
		if a == "" {
			a = "127.0.0.1:0"
		}
		l, err := lc.Listen(ctx, "tcp", a)
		if err != nil {
			for _, o := range ls[:i] {
				o.Close()
			}
			return fmt.Errorf("portal: listen on %s: %w (choose a free address)", a, err)
		}
		ls[i] = l
	}
	if err := s.Serve(Listeners{Portal: ls[0], SSO: ls[1], Static: ls[2]}); err != nil {
		return err
	}
	s.mu.Lock()
	s.wg.Add(1)
	s.stopWatch = context.AfterFunc(ctx, func() {
		defer s.wg.Done()
		s.shutdown()
	})
	s.mu.Unlock()
	return nil
}

// Serve takes over the three listeners (it closes them on every path) and serves them in
// the background. URLs use Options.Hostname with each listener's port.
func (s *Server) Serve(ls Listeners) error {
	closeAll := func() {
		for _, l := range []net.Listener{ls.Portal, ls.SSO, ls.Static} {
			if l != nil {
				l.Close()
			}
		}
	}
	if ls.Portal == nil || ls.SSO == nil || ls.Static == nil {
		closeAll()
		return errors.New("portal: Serve needs all three listeners (portal, SSO, static)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.ctx.Err() != nil {
		closeAll()
		return errors.New("portal: server already started or closed: make a new one with New")
	}
	s.started = true
	s.urls = URLs{Portal: s.origin(ls.Portal), SSO: s.origin(ls.SSO), Static: s.origin(ls.Static)}

	for _, o := range []struct {
		name origin
		l    net.Listener
		h    http.Handler
	}{
		{originPortal, ls.Portal, s.portalHandler()},
		{originSSO, ls.SSO, s.ssoHandler()},
		{originStatic, ls.Static, s.staticHandler()},
	} {
		srv := &http.Server{
			Handler:           s.observe(o.name, o.h),
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(s.log.With("origin", o.name).Handler(), slog.LevelInfo),
			BaseContext:       func(net.Listener) context.Context { return s.ctx },
			ConnContext: func(ctx context.Context, c net.Conn) context.Context {
				if ci := connOf(c); ci != nil {
					return context.WithValue(ctx, connCtxKey{}, ci)
				}
				return ctx
			},
		}
		tl := &trackingListener{Listener: o.l, origin: o.name, tls: s.tlsConfig(o.name), reg: s.reg}
		s.servers = append(s.servers, srv)
		s.listeners = append(s.listeners, o.l)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := srv.Serve(tl); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("origin stopped serving", "origin", o.name, "err", err)
			}
		}()
	}
	s.log.Info("demo portal serving", "portal", s.urls.Portal, "sso", s.urls.SSO, "static", s.urls.Static)
	return nil
}

func (s *Server) origin(l net.Listener) string {
	port := "0"
	if ta, ok := l.Addr().(*net.TCPAddr); ok {
		port = strconv.Itoa(ta.Port)
	} else if _, p, err := net.SplitHostPort(l.Addr().String()); err == nil {
		port = p
	}
	return "https://" + net.JoinHostPort(s.opts.Hostname, port)
}

// URLs returns the three origins; zero before the server starts.
func (s *Server) URLs() URLs {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.urls
}

// shutdown stops accepting, closes every connection (websockets included) and cancels
// running requests. It does not wait.
func (s *Server) shutdown() {
	s.closeOnce.Do(func() {
		s.cancel()
		s.mu.Lock()
		servers := s.servers
		s.mu.Unlock()
		for _, srv := range servers {
			srv.Close()
		}
		s.reg.closeAll()
	})
}

// Close stops the server and waits until every goroutine and handler it started has
// returned and every connection is closed. It is safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	stop := s.stopWatch
	s.mu.Unlock()
	if stop != nil && stop() {
		s.wg.Done() // the watcher will never run
	}
	s.shutdown()
	s.inflight.closeAndWait()
	s.wg.Wait()
	s.reg.closeAll() // connections a handler was still finishing on
	return nil
}

// requestCitizen verifies the client certificate of the request's connection.
func (s *Server) requestCitizen(r *http.Request) (*Citizen, *Refusal) {
	if r.TLS == nil {
		return nil, &Refusal{Code: RefusalMissing, Title: "No council card was presented",
			Advice: "This service is only available over HTTPS with a council card.", Err: errNoTLS}
	}
	if ci := connFrom(r.Context()); ci != nil {
		return s.citizenOf(ci, r.TLS.PeerCertificates)
	}
	return verifyCitizen(r.TLS.PeerCertificates, s.opts.ClientCAs, s.opts.Now())
}

// withCitizen lets only requests with a valid council certificate through.
func (s *Server) withCitizen(h func(http.ResponseWriter, *http.Request, *Citizen)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, ref := s.requestCitizen(r)
		if ref != nil {
			s.renderRefusal(w, r, ref)
			return
		}
		h(w, r, c)
	}
}

// withSession also needs a signed-in session for that certificate; without one the
// visitor is bounced through the SSO origin.
func (s *Server) withSession(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return s.withCitizen(func(w http.ResponseWriter, r *http.Request, c *Citizen) {
		se := s.sessions.lookup(r, c)
		if se == nil {
			s.bounce(w, r)
			return
		}
		h(w, r, se)
	})
}

func (s *Server) portalHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_test/stats", s.handleStats)
	mux.HandleFunc("GET /_test/ping", s.withCitizen(handlePing))
	mux.HandleFunc("GET /assets/img/{name}", s.withCitizen(s.handlePortalImage))
	mux.HandleFunc("GET "+callbackPath, s.withCitizen(s.handleCallback))
	mux.HandleFunc("GET /events", s.withCitizen(s.handleEvents))
	mux.HandleFunc("GET /ws", s.withCitizen(s.handleWS))
	mux.HandleFunc("GET /{$}", s.withSession(s.handleHome))
	mux.HandleFunc("GET /repairs", s.withSession(s.handleRepairs))
	mux.HandleFunc("GET /repairs/new", s.withSession(s.handleRepairForm))
	mux.HandleFunc("POST /repairs/new", s.withSession(s.handleRepairPost))
	mux.HandleFunc("GET /gallery", s.withSession(s.handleGallery))
	mux.HandleFunc("GET /load/{n}", s.withSession(s.handleLoad))
	mux.HandleFunc("GET /documents", s.withSession(s.handleDocuments))
	mux.HandleFunc("GET /documents/{id}", s.withSession(s.handleDocument))
	mux.HandleFunc("GET /documents/{id}/download", s.withSession(s.handleDocumentDownload))
	mux.HandleFunc("GET /live", s.withSession(s.handleLive))
	mux.HandleFunc("POST /logout", s.withSession(s.handleLogout))
	if s.opts.Extra != nil {
		mux.Handle("/_extra/", s.withSession(func(w http.ResponseWriter, r *http.Request, _ *session) {
			s.opts.Extra.ServeHTTP(w, r)
		}))
	}
	mux.HandleFunc("/", s.withCitizen(func(w http.ResponseWriter, r *http.Request, c *Citizen) {
		s.render(w, r, http.StatusNotFound, "message", pageData{Title: "Page not found", Citizen: c,
			Data: messageData{Advice: "Check the address, or go to the home page."}})
	}))
	return mux
}
