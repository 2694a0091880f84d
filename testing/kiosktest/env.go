package kiosktest

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"smartpath/agent"
	"smartpath/agent/config"
	"smartpath/kiosk-ui/screens"
	"smartpath/testing/pcscdtest"
	"smartpath/testing/pki"
	"smartpath/testing/portal"
	"smartpath/testing/vcard"
)

// Options adjust the kiosk a test runs.
type Options struct {
	// Portal adjusts the demo portal's options before it starts.
	Portal func(*portal.Options)
	// Config adjusts the agent's configuration before it starts.
	Config func(*config.Config)
	// NoPortal leaves the portal down (its origins point at closed ports).
	NoPortal bool
	// Log receives the agent's log (default: the test log at debug level).
	Log io.Writer
	// BeforeAgent, if set, runs once pcscd and the portal are up, just before the agent
	// starts (for example to take a goroutine baseline).
	BeforeAgent func()
}

// Env is a running kiosk.
type Env struct {
	Dir    string
	PCSCD  *pcscdtest.Daemon
	PKI    *pki.PKI
	Portal *portal.Server
	Config *config.Config
	Agent  *agent.Agent

	cancel context.CancelFunc
	done   chan error
	logBuf *syncBuffer

	portalOpts   portal.Options
	portalAddrs  portal.Addrs
	portalCancel context.CancelFunc
}

// Start starts the kiosk; everything stops when the test ends.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	e := &Env{Dir: t.TempDir(), logBuf: &syncBuffer{}}
	e.PCSCD = pcscdtest.Start(t)
	p, err := pki.New("kiosktest")
	if err != nil {
		t.Fatal(err)
	}
	e.PKI = p

	po := portal.Options{ClientCAs: p.Pool(), Logger: slog.New(slog.DiscardHandler)}
	if po.ServerCert, err = p.IssueServer("localhost"); err != nil {
		t.Fatal(err)
	}
	if opts.Portal != nil {
		opts.Portal(&po)
	}
	e.portalOpts = po
	var urls portal.URLs
	if opts.NoPortal {
		urls = portal.URLs{Portal: "https://localhost:1", SSO: "https://localhost:2", Static: "https://localhost:3"}
	} else {
		e.startPortal(t, po, portal.Addrs{})
		urls = e.Portal.URLs()
		e.portalAddrs = portal.Addrs{Portal: loopbackAddr(urls.Portal), SSO: loopbackAddr(urls.SSO), Static: loopbackAddr(urls.Static)}
		t.Cleanup(e.stopPortal)
	}

	caFile := CAFile(t, p)
	cfg := config.Default()
	cfg.UI.Listen = "127.0.0.1:0"
	cfg.UI.Languages = screens.Languages() // every catalog the screens have
	cfg.UI.URLFile = filepath.Join(e.Dir, "ui-url")
	cfg.Admin.Listen = "127.0.0.1:0"
	cfg.Portal.Home = urls.Home()
	cfg.Portal.Origins = []string{urls.SSO, urls.Static}
	cfg.Portal.EndSessionURLs = []string{urls.Portal + "/logout"} // the demo portal's Sign out
	cfg.Portal.CAFile = caFile
	cfg.Portal.FirstPort = 0
	cfg.Portal.ConnectTimeout = 5 * time.Second
	cfg.Log.Level = "debug"
	// Most tests drive the UI channel without a kiosk shell; those that run the real shell
	// (kiosk-ui's) set this back to true, as production has it.
	cfg.UI.RequireShell = false
	if opts.Config != nil {
		opts.Config(cfg)
	}
	e.Config = cfg
	if opts.BeforeAgent != nil {
		opts.BeforeAgent()
	}

	var w io.Writer = e.logBuf
	if opts.Log != nil {
		w = io.MultiWriter(e.logBuf, opts.Log)
	}
	a, err := agent.New(cfg, agent.NewLogger(cfg.Log, w))
	if err != nil {
		t.Fatal(err)
	}
	e.Agent = a
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan error, 1)
	go func() { e.done <- a.Run(ctx) }()
	t.Cleanup(func() {
		if err := e.Stop(); err != nil {
			t.Errorf("agent stopped with: %v", err)
		}
		if t.Failed() {
			t.Logf("agent log (tail):\n%s", tail(e.logBuf.String(), 80))
		}
	})
	return e
}

// Stop stops the agent (ending any session) and waits for it. It may be called twice.
func (e *Env) Stop() error {
	if e.cancel == nil {
		return nil
	}
	e.cancel()
	e.cancel = nil
	select {
	case err := <-e.done:
		return err
	case <-time.After(10 * time.Second):
		return errors.New("the agent did not stop within 10s")
	}
}

// CAFile writes the root and issuing certificates of p as a PEM bundle in a temporary
// directory of t and returns its path (for the agent's portal.ca_file).
func CAFile(t testing.TB, p *pki.PKI) string {
	t.Helper()
	var bundle bytes.Buffer
	for _, c := range []*[]byte{&p.Root().Raw, &p.Issuing().Raw} {
		_ = pem.Encode(&bundle, &pem.Block{Type: "CERTIFICATE", Bytes: *c})
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, bundle.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// StopPortal stops the demo portal (as a portal outage would) and waits until every one of
// its connections is closed. StartPortal brings it back on the same addresses.
func (e *Env) StopPortal(t testing.TB) {
	t.Helper()
	if e.Portal == nil {
		t.Fatal("kiosktest: StopPortal: the portal is not running")
	}
	e.stopPortal()
}

// StartPortal starts a new demo portal on the addresses of the first one, with the options
// of Start adjusted by adjust (may be nil), and makes it e.Portal. The old one is stopped
// first if it still runs. Its statistics start from zero.
func (e *Env) StartPortal(t testing.TB, adjust func(*portal.Options)) {
	t.Helper()
	if e.portalAddrs == (portal.Addrs{}) {
		t.Fatal("kiosktest: StartPortal needs a kiosk started with a portal (not NoPortal)")
	}
	e.stopPortal()
	po := e.portalOpts
	if adjust != nil {
		adjust(&po)
	}
	e.startPortal(t, po, e.portalAddrs)
}

func (e *Env) startPortal(t testing.TB, po portal.Options, addrs portal.Addrs) {
	t.Helper()
	srv, err := portal.New(po)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Start(ctx, addrs); err != nil {
		cancel()
		t.Fatal(err)
	}
	e.Portal, e.portalCancel = srv, cancel
}

func (e *Env) stopPortal() {
	if e.portalCancel == nil {
		return
	}
	e.portalCancel()
	e.Portal.Close()
	e.portalCancel = nil
}

// loopbackAddr is the 127.0.0.1 listen address of a portal origin such as https://localhost:9443.
func loopbackAddr(origin string) string {
	u, err := url.Parse(origin)
	if err != nil {
		return ""
	}
	return net.JoinHostPort("127.0.0.1", u.Port())
}

// AgentLog is everything the agent has logged so far.
func (e *Env) AgentLog() string { return e.logBuf.String() }

// NewCard makes a citizen card issued by the test council.
func (e *Env) NewCard(t testing.TB, name, number string, alg vcard.Alg) *vcard.Card {
	t.Helper()
	c, err := vcard.NewCitizenCard(e.PKI, vcard.Citizen{Name: name, Number: number, Alg: alg})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Insert puts card into reader 0 through pcscd's vpcd driver. The returned function
// removes it and waits until the card's connection has closed.
func (e *Env) Insert(t testing.TB, card *vcard.Card) (remove func()) {
	t.Helper()
	return e.holdCard(t, func(ctx context.Context) error { return vcard.Insert(ctx, card, e.PCSCD.VPCDAddr(0)) })
}

// InsertToStay puts card into reader 0 like Insert, but keeps it there across pcscd
// restarts, as a real card stays in its reader when pcscd dies: whenever vpcd drops the
// connection the card is inserted again. The returned function removes it.
func (e *Env) InsertToStay(t testing.TB, card *vcard.Card) (remove func()) {
	t.Helper()
	return e.holdCard(t, func(ctx context.Context) error { return vcard.Serve(ctx, card, e.PCSCD.VPCDAddr(0), nil) })
}

// holdCard runs serve (which keeps a card in the reader until its ctx ends) in a goroutine
// that the returned function, also run at cleanup, cancels and waits for.
func (e *Env) holdCard(t testing.TB, serve func(ctx context.Context) error) (remove func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx) }()
	var once sync.Once
	remove = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Errorf("virtual card did not come out within 10s")
			}
		})
	}
	t.Cleanup(remove)
	return remove
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func tail(s string, n int) string {
	lines := bytes.Split([]byte(s), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// WithShell is an Options.Config for tests that run the real kiosk shell: the agent waits
// for the shell's confirmation between citizens, as in production.
func WithShell(c *config.Config) { c.UI.RequireShell = true }
