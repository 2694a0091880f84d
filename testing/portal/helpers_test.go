package portal

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"sync"
	"testing"
	"time"

	"smartpath/testing/pki"
)

// world is one portal with its council PKI and a few cards.
type world struct {
	pki   *pki.PKI
	other *pki.PKI
	srv   *Server
	urls  URLs
	log   *logBuffer
}

// logBuffer collects the portal's log for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

var (
	pkiOnce          sync.Once
	sharedPKI, other *pki.PKI
	pkiErr           error
)

func testPKI(t testing.TB) (*pki.PKI, *pki.PKI) {
	pkiOnce.Do(func() {
		sharedPKI, pkiErr = pki.New("portal-test")
		if pkiErr == nil {
			other, pkiErr = pki.NewOther("portal-test")
		}
	})
	if pkiErr != nil {
		t.Fatalf("test PKI: %v", pkiErr)
	}
	return sharedPKI, other
}

func newWorld(t testing.TB, mod func(*Options)) *world {
	t.Helper()
	p, o := testPKI(t)
	cert, err := p.IssueServer()
	if err != nil {
		t.Fatal(err)
	}
	lb := &logBuffer{}
	opts := Options{
		ServerCert: cert,
		ClientCAs:  p.Pool(),
		Logger:     slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})),
		// 127.0.0.1 keeps the tests independent of how this machine resolves localhost.
		Hostname:      "127.0.0.1",
		EventInterval: 5 * time.Millisecond,
	}
	if mod != nil {
		mod(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background(), Addrs{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &world{pki: p, other: o, srv: srv, urls: srv.URLs(), log: lb}
}

// card issues a client certificate (with a fresh P-256 key) from ca.
func card(t testing.TB, ca *pki.PKI, name, number string) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ca.IssueCitizen(name, number, key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{c.Raw}, PrivateKey: key, Leaf: c}
}

// clientTLS trusts the council CA and presents cert (nil: none). sigs counts the client's
// private-key operations.
func (w *world) clientTLS(cert *tls.Certificate, sigs *int) *tls.Config {
	roots := x509.NewCertPool()
	roots.AddCert(w.pki.Root())
	return &tls.Config{
		RootCAs:            roots,
		ClientSessionCache: tls.NewLRUClientSessionCache(16),
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if cert == nil {
				return &tls.Certificate{}, nil
			}
			if sigs != nil {
				*sigs++
			}
			return cert, nil
		},
	}
}

// browser is a client with a cookie jar that follows redirects and records them.
type browser struct {
	*http.Client
	tr   *http.Transport
	hops []string // every redirect target, in order
}

func (w *world) browser(t testing.TB, cert *tls.Certificate) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{DialTLSContext: perOriginSessions(w.clientTLS(cert, nil))}
	b := &browser{tr: tr}
	b.Client = &http.Client{Transport: tr, Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			b.hops = append(b.hops, req.URL.String())
			if len(via) > 10 {
				return http.ErrUseLastResponse
			}
			return nil
		}}
	t.Cleanup(tr.CloseIdleConnections)
	return b
}

// perOriginSessions dials TLS with one session cache per address. Go's client session cache
// is keyed by the server name alone, so the three origins on one host name would otherwise
// overwrite each other's tickets, and a portal connection would offer the static origin's
// ticket, be refused resumption and cost a new signature.
func perOriginSessions(base *tls.Config) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var mu sync.Mutex
	caches := map[string]tls.ClientSessionCache{}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		cache := caches[addr]
		if cache == nil {
			cache = tls.NewLRUClientSessionCache(4)
			caches[addr] = cache
		}
		mu.Unlock()
		cfg := base.Clone()
		cfg.ClientSessionCache = cache
		cfg.ServerName, _, _ = net.SplitHostPort(addr)
		d := tls.Dialer{Config: cfg}
		return d.DialContext(ctx, network, addr)
	}
}

// get fetches u and returns the status, headers and body.
func (b *browser) get(t testing.TB, u string) (int, http.Header, string) {
	t.Helper()
	res, err := b.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", u, err)
	}
	return res.StatusCode, res.Header, string(body)
}

func (b *browser) post(t testing.TB, u string, form url.Values) (int, http.Header, string) {
	t.Helper()
	res, err := b.PostForm(u, form)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(body)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t testing.TB, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field in page:\n%s", page)
	}
	return m[1]
}

var refRE = regexp.MustCompile(`Reference <strong>(HR-[A-Za-z0-9]+-\d+)</strong>`)

func refsOf(page string) []string {
	var refs []string
	for _, m := range refRE.FindAllStringSubmatch(page, -1) {
		refs = append(refs, m[1])
	}
	return refs
}

func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Host
}

func originOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Scheme + "://" + p.Host
}
