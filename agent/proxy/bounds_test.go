package proxy

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"smartpath/testing/waitfor"
)

func TestHopByHopAndDroppedHeaders(t *testing.T) {
	c := newCouncil(t, serverOpts{})
	cd := c.ca.card(t, "p256", "Jane Citizen")
	s := startSession(t, c.config(), cd.cert)
	req, _ := http.NewRequest("GET", s.LocalURL(c.portal.url)+"/headers", nil)
	req.Header.Set("Connection", "X-Local-Secret")
	req.Header.Set("X-Local-Secret", "1")
	req.Header.Set("Proxy-Authorization", "Basic eDp5")
	req.Header.Set("X-Forwarded-For", "10.0.0.1")
	req.Header.Set("Forwarded", "for=10.0.0.1")
	resp, err := webview(t, s).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	for _, leak := range []string{"X-Local-Secret", "Proxy-Authorization", "X-Forwarded-For", "Forwarded", "127.0.0.1"} {
		if strings.Contains(body, leak) {
			t.Errorf("upstream saw %q:\n%s", leak, body)
		}
	}
	for _, h := range []string{"X-Up-Secret", "Keep-Alive", "Strict-Transport-Security", "Alt-Svc"} {
		if v := resp.Header.Get(h); v != "" {
			t.Errorf("response header %s: %q reached the webview", h, v)
		}
	}
}

func TestBoundsAndTimeouts(t *testing.T) {
	c := newCouncil(t, serverOpts{})
	cd := c.ca.card(t, "p256", "Jane Citizen")
	cfg := c.config()
	cfg.MaxHeaderBytes = 16 << 10
	cfg.ResponseHeaderTimeout = 200 * time.Millisecond
	s := startSession(t, cfg, cd.cert)
	cl := webview(t, s)
	portal := s.LocalURL(c.portal.url)

	req, _ := http.NewRequest("GET", portal+"/page/1", nil)
	req.Header.Set("X-Huge", strings.Repeat("b", 64<<10))
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("huge request header: %s, want 431", resp.Status)
	}
	resp, _ = get(t, cl, portal+"/bigheader")
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("huge response header: %s, want 502", resp.Status)
	}
	start := time.Now()
	resp, _ = get(t, cl, portal+"/slow")
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Errorf("slow portal: %s after %v, want 504", resp.Status, time.Since(start))
	}
	// The proxy still works afterwards.
	if resp, _ := get(t, cl, portal+"/page/2"); resp.StatusCode != http.StatusOK {
		t.Errorf("after errors: %s", resp.Status)
	}
}

// syncBuffer is a log sink safe for the proxy's goroutines.
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

// TestRequestLog: one debug line per request with method, origin index, status and duration,
// and nothing of the citizen: no query strings, paths, cookies or certificate names.
func TestRequestLog(t *testing.T) {
	c := newCouncil(t, serverOpts{h2: true})
	cd := c.ca.card(t, "p256", "Jane Citizen")
	cfg := c.config()
	var logs syncBuffer
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := startSession(t, cfg, cd.cert)
	if err := s.Probe(context.Background()); err != nil {
		t.Fatal(err)
	}
	cl := localClient(t)
	portal := s.LocalURL(c.portal.url)
	get(t, cl, s.HomeURL())
	get(t, cl, portal+"/whoami?nino=AB123456C")
	get(t, cl, s.LocalURL(c.static.url)+"/app.css")
	get(t, cl, portal+"/leave")
	rawRequest(t, strings.TrimPrefix(portal, "http://"), "GET /x?secret=1 HTTP/1.1\r\nHost: evil.example\r\n\r\n")
	s.Close()
	out := logs.String()
	for _, bad := range []string{"AB123456C", "nino", "secret", "citizen-1", "Jane", "whoami", "/home", "sid=", "evil"} {
		if strings.Contains(out, bad) {
			t.Errorf("log contains %q:\n%s", bad, out)
		}
	}
	// The enter endpoint's redirect, the home page and four more.
	if n := strings.Count(out, `"msg":"portal proxy request"`); n != 6 {
		t.Errorf("%d request lines, want 6:\n%s", n, out)
	}
	for _, want := range []string{`"method":"GET"`, `"origin":2`, `"status":200`, `"status":303`, `"status":502`, `"status":403`, `"duration":`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	c := newCouncil(t, serverOpts{})
	cd := c.ca.card(t, "p256", "Jane Citizen")
	mod := func(f func(*Config)) Config {
		cfg := c.config()
		f(&cfg)
		return cfg
	}
	mustURL := func(s string) *url.URL { u, _ := url.Parse(s); return u }
	cases := map[string]Config{
		"no home":        mod(func(c *Config) { c.Home = nil }),
		"http home":      mod(func(c *Config) { c.Home = mustURL("http://portal.council.test/") }),
		"userinfo":       mod(func(c *Config) { c.Home = mustURL("https://u:p@portal.council.test/") }),
		"http origin":    mod(func(c *Config) { c.Origins = []*url.URL{mustURL("http://sso.council.test")} }),
		"nil origin":     mod(func(c *Config) { c.Origins = []*url.URL{nil} }),
		"no CAs":         mod(func(c *Config) { c.RootCAs = nil }),
		"public listen":  mod(func(c *Config) { c.ListenHost = "0.0.0.0" }),
		"name listen":    mod(func(c *Config) { c.ListenHost = "localhost" }),
		"no UI origin":   mod(func(c *Config) { c.UIOrigin = "" }),
		"UI path":        mod(func(c *Config) { c.UIOrigin = "http://127.0.0.1:8470/ui" }),
		"UI injection":   mod(func(c *Config) { c.UIOrigin = "http://127.0.0.1:8470; script-src *" }),
		"bad first port": mod(func(c *Config) { c.FirstPort = 70000 }),
	}
	for name, cfg := range cases {
		if s, err := Start(context.Background(), cfg, cd.cert); err == nil {
			s.Close()
			t.Errorf("%s: Start succeeded", name)
		}
	}
	// Card problems.
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	other := c.ca.card(t, "p256", "Someone Else")
	cards := map[string]tls.Certificate{
		"no certificate":  {PrivateKey: cd.cert.PrivateKey},
		"no key":          {Certificate: cd.cert.Certificate},
		"ed25519":         {Certificate: cd.cert.Certificate, PrivateKey: edKey},
		"key mismatch":    {Certificate: cd.cert.Certificate, PrivateKey: testKey(t, "p384", "card/x")},
		"garbage":         {Certificate: [][]byte{{1, 2, 3}}, PrivateKey: cd.cert.PrivateKey},
		"other card cert": {Certificate: other.cert.Certificate, PrivateKey: cd.cert.PrivateKey},
	}
	for name, cert := range cards {
		if s, err := Start(context.Background(), c.config(), cert); err == nil {
			s.Close()
			t.Errorf("%s: Start succeeded", name)
		}
	}
	// A taken port: Start fails and leaves nothing listening.
	s := startSession(t, c.config(), cd.cert)
	cfg := c.config()
	u, _ := url.Parse(s.LocalURL(c.sso.url))
	port := 0
	for _, ch := range u.Port() {
		port = port*10 + int(ch-'0')
	}
	cfg.FirstPort = port - 1 // the SSO origin's port is taken
	if s2, err := Start(context.Background(), cfg, cd.cert); err == nil {
		s2.Close()
		t.Error("Start on a taken port succeeded")
	}
}

// TestCloseDuringSignature: session end while the card is signing does not wait for the
// card, and the card is not used again.
func TestCloseDuringSignature(t *testing.T) {
	c := newCouncil(t, serverOpts{h2: true})
	cd := c.ca.card(t, "p256", "Jane Citizen")
	slow := &countingSigner{key: cd.signer.key, delay: 300 * time.Millisecond}
	signing := make(chan struct{})
	cert := cd.cert
	cert.PrivateKey = &notifySigner{countingSigner: slow, started: signing}
	s := startSession(t, c.config(), cert)
	done := make(chan error, 1)
	go func() { done <- s.Probe(context.Background()) }()
	<-signing
	start := time.Now()
	s.Close()
	t.Logf("Close during a signature took %v", time.Since(start))
	if err := <-done; err == nil {
		t.Error("Probe succeeded across Close")
	}
	// The signature already under way finishes on the card; no other one starts.
	waitfor.Until(t, waitfor.Timeout, "the card to finish", func() bool { return slow.n.Load() == 1 && slow.busy.Load() == 0 })
	if _, err := s.signer.Sign(rand.Reader, make([]byte, 32), crypto.SHA256); err == nil {
		t.Error("the session signer still signs after Close")
	}
	if n := slow.n.Load(); n != 1 {
		t.Errorf("card signatures = %d, want 1", n)
	}
}

type notifySigner struct {
	*countingSigner
	once    sync.Once
	started chan struct{}
}

func (s *notifySigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	s.once.Do(func() { close(s.started) })
	return s.countingSigner.Sign(r, d, o)
}

// TestSignaturesPerOrigin: each origin that asks for the client certificate costs one
// signature for the whole session (TLS sessions cannot be shared between servers).
func TestSignaturesPerOrigin(t *testing.T) {
	c := newCouncil(t, serverOpts{h2: true})
	cd := c.ca.card(t, "p256", "Jane Citizen")
	s := startSession(t, c.config(), cd.cert)
	cl := localClient(t)
	for range 3 {
		get(t, cl, s.HomeURL())
		get(t, cl, s.LocalURL(c.static.url)+"/app.css")
		get(t, cl, s.LocalURL(c.sso.url)+"/cookie")
	}
	if got := s.Signatures(); got != 3 {
		t.Errorf("signatures = %d, want 3 (portal, SSO and static host all ask for the card)", got)
	}
}
