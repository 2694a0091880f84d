package proxy

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Host names of the fake council: the dialer maps them to loopback ports.
const (
	portalHost = "portal.council.test"
	ssoHost    = "sso.council.test"
	staticHost = "static.council.test"
	uiOrigin   = "http://127.0.0.1:8470"
)

// testServer is one origin of the fake council: an httptest TLS server that requires a client
// certificate and counts handshakes and connections.
type testServer struct {
	srv     *httptest.Server
	url     *url.URL // https://<name>:<port>
	full    atomic.Int64
	resumed atomic.Int64
	open    atomic.Int64 // connections not yet closed or hijacked
	mu      sync.Mutex
	names   []string      // client certificate CNs of full handshakes
	seen    []seenRequest // every request that reached this origin
}

// seenRequest is what the portal received: the request target and the headers.
type seenRequest struct {
	uri    string
	header http.Header
}

// requests returns every request this origin has received, in order.
func (ts *testServer) requests() []seenRequest {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]seenRequest(nil), ts.seen...)
}

type serverOpts struct {
	maxVersion uint16
	h2         bool
	noTickets  bool           // a server that offers no session resumption
	clientCAs  *x509.CertPool // default: the CA that issues the cards
	cert       *tls.Certificate
}

func startServer(t testing.TB, ca *testCA, name string, h http.Handler, o serverOpts) *testServer {
	t.Helper()
	ts := &testServer{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		ts.seen = append(ts.seen, seenRequest{uri: r.RequestURI, header: r.Header.Clone()})
		ts.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	cert := ca.serverCert(t, portalHost, ssoHost, staticHost)
	if o.cert != nil {
		cert = *o.cert
	}
	clientCAs := ca.pool
	if o.clientCAs != nil {
		clientCAs = o.clientCAs
	}
	srv.TLS = &tls.Config{
		Certificates:           []tls.Certificate{cert},
		ClientAuth:             tls.RequireAndVerifyClientCert,
		ClientCAs:              clientCAs,
		MaxVersion:             o.maxVersion,
		SessionTicketsDisabled: o.noTickets,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if cs.DidResume {
				ts.resumed.Add(1)
			} else {
				ts.full.Add(1)
				if len(cs.PeerCertificates) > 0 {
					ts.mu.Lock()
					ts.names = append(ts.names, cs.PeerCertificates[0].Subject.CommonName)
					ts.mu.Unlock()
				}
			}
			return nil
		},
	}
	srv.EnableHTTP2 = o.h2
	srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			ts.open.Add(1)
		case http.StateClosed, http.StateHijacked:
			ts.open.Add(-1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	ts.srv = srv
	ts.url = &url.URL{Scheme: "https", Host: name + ":" + port}
	return ts
}

// council is a portal with its SSO and static hosts.
type council struct {
	ca                  *testCA
	portal, sso, static *testServer
	stream              chan string // lines for /stream
	wsServerConn        chan *websocket.Conn
}

func newCouncil(t testing.TB, o serverOpts) *council {
	t.Helper()
	c := &council{ca: newCA(t, "Test Council CA"), stream: make(chan string), wsServerConn: make(chan *websocket.Conn, 1)}
	// Handlers look the other origins up lazily: the servers start one after another.
	c.static = startServer(t, c.ca, staticHost, http.HandlerFunc(c.serveStatic), o)
	c.sso = startServer(t, c.ca, ssoHost, http.HandlerFunc(c.serveSSO), o)
	c.portal = startServer(t, c.ca, portalHost, http.HandlerFunc(c.servePortal), o)
	return c
}

func (c *council) serveStatic(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", c.portal.url.String())
	switch {
	case strings.HasSuffix(r.URL.Path, ".css"):
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprintf(w, "body{background:url(%s/img/bg.png)}\n", c.static.url)
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
		fmt.Fprint(w, "static:"+r.URL.Path)
	}
}

func (c *council) serveSSO(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/auth":
		// Sign-in done: set the SSO's own cookie and send the citizen back.
		http.SetCookie(w, &http.Cookie{Name: "sso", Value: "s1", Path: "/", Secure: true, HttpOnly: true})
		http.Redirect(w, r, r.URL.Query().Get("return"), http.StatusFound)
	case "/bounce":
		http.Redirect(w, r, "https://evil.example/steal?c=1", http.StatusFound)
	case "/cookie":
		ck, _ := r.Cookie("sso")
		fmt.Fprintf(w, "sso=%v", ck != nil && ck.Value == "s1")
	default:
		http.NotFound(w, r)
	}
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (c *council) servePortal(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/" || r.URL.Path == "/home":
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "citizen-1", Path: "/", Secure: true, HttpOnly: true})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><link rel="stylesheet" href="%s/app.css"><a href="%s/auth">sso</a><p>Hello %s</p>`,
			c.static.url, c.sso.url, r.TLS.PeerCertificates[0].Subject.CommonName)
	case r.URL.Path == "/app":
		// A page as the kiosk frame shows it: subresources from the static host, a fetch and
		// a websocket on its own origin, an anonymous CORS fetch to the static host; it reports
		// to the parent page, and reloads itself when asked.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>app</title>
<link rel="stylesheet" href="%[1]s/app.css"><img src="%[1]s/pic.png" alt="">
<script>
const out = {href: location.href, cookie: document.cookie};
const ws = new Promise(done => {
  const s = new WebSocket("ws://" + location.host + "/ws");
  s.onopen = () => s.send("hi");
  s.onmessage = e => { done(e.data); s.close(); };
  s.onerror = () => done("error");
});
Promise.all([
  fetch("/page/1").then(r => r.text(), () => "error"),
  ws,
  fetch("%[1]s/anon").then(r => r.status, () => "error"),
]).then(([f, w, a]) => { out.fetch = f; out.ws = w; out.anon = a; parent.postMessage(out, "*"); });
addEventListener("message", e => { if (e.data === "reload") location.reload(); });
</script>`, c.static.url)
	case strings.HasPrefix(r.URL.Path, "/page/"), strings.HasPrefix(r.URL.Path, "/res/"):
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "ok "+r.URL.Path)
	case r.URL.Path == "/whoami":
		ck, _ := r.Cookie("sid")
		v := ""
		if ck != nil {
			v = ck.Value
		}
		fmt.Fprintf(w, "cn=%s sid=%s origin=%s referer=%s query=%s",
			r.TLS.PeerCertificates[0].Subject.CommonName, v, r.Header.Get("Origin"), r.Header.Get("Referer"), r.URL.RawQuery)
	case strings.HasPrefix(r.URL.Path, "/big/"):
		n := 0
		fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/big/"), "%d", &n)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", fmt.Sprint(n))
		w.Write(make([]byte, min(n, 1<<20)))
	case r.URL.Path == "/headers":
		w.Header().Set("Connection", "X-Up-Secret")
		w.Header().Set("X-Up-Secret", "1")
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("Strict-Transport-Security", "max-age=600")
		w.Header().Set("Alt-Svc", `h3=":443"`)
		for k, v := range r.Header {
			fmt.Fprintf(w, "%s: %s\n", k, strings.Join(v, ","))
		}
	case r.URL.Path == "/bigheader":
		w.Header().Set("X-Big", strings.Repeat("a", 200<<10))
	case r.URL.Path == "/slow":
		select {
		case <-time.After(10 * time.Second):
		case <-r.Context().Done():
		}
	case r.URL.Path == "/gz":
		w.Header().Set("Content-Type", "text/html")
		page := fmt.Sprintf(`<img src="%s/i.png">`, c.static.url)
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			fmt.Fprint(w, page)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		fmt.Fprint(zw, page)
		zw.Close()
	case r.URL.Path == "/hugehtml":
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<a href="%s/x">`, c.portal.url)
		w.Write(bytes.Repeat([]byte("x"), 5<<20))
	case strings.HasPrefix(r.URL.Path, "/wait/"):
		us := 0
		fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/wait/"), "%d", &us)
		time.Sleep(time.Duration(min(us, 1e6)) * time.Microsecond) // the portal's own work
		fmt.Fprint(w, "ok")
	case strings.HasPrefix(r.URL.Path, "/attach/"):
		// /attach/<type>/<subtype>: an attachment of that media type that sets a cookie.
		http.SetCookie(w, &http.Cookie{Name: "attached", Value: "1", Path: "/", Secure: true})
		w.Header().Set("Content-Type", strings.TrimPrefix(r.URL.Path, "/attach/"))
		w.Header().Set("Content-Disposition", `attachment; filename="letter"`)
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		fmt.Fprint(w, "DOCUMENT-BODY")
	case r.URL.Path == "/login":
		http.Redirect(w, r, c.sso.url.String()+"/auth?return="+url.QueryEscape(c.portal.url.String()+"/whoami"), http.StatusFound)
	case r.URL.Path == "/leave":
		http.Redirect(w, r, "https://evil.example/", http.StatusFound)
	case r.URL.Path == "/chain":
		http.Redirect(w, r, c.sso.url.String()+"/bounce", http.StatusSeeOther)
	case r.URL.Path == "/refresh":
		w.Header().Set("Refresh", "0; url="+c.sso.url.String()+"/auth")
		fmt.Fprint(w, "refresh")
	case r.URL.Path == "/frame":
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Content-Security-Policy", "default-src 'self' https://"+c.static.url.Host+
			"; frame-ancestors 'none'; upgrade-insecure-requests; connect-src wss://"+c.portal.url.Host)
		fmt.Fprint(w, "frame")
	case r.URL.Path == "/status":
		code := 0
		fmt.Sscanf(r.URL.Query().Get("code"), "%d", &code)
		w.WriteHeader(code)
	case r.URL.Path == "/ws":
		if o := r.Header.Get("Origin"); o != c.portal.url.String() {
			http.Error(w, "bad origin "+o, http.StatusForbidden)
			return
		}
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		select {
		case c.wsServerConn <- conn: // for a test that wants to see it closed
		default: // nobody is looking: a further websocket still echoes
		}
		for {
			mt, msg, err := conn.ReadMessage()
			if err != nil {
				conn.Close()
				return
			}
			conn.WriteMessage(mt, append([]byte("echo:"), msg...))
		}
	case r.URL.Path == "/stream":
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		w.WriteHeader(http.StatusOK)
		rc.Flush()
		for {
			select {
			case line := <-c.stream:
				fmt.Fprintf(w, "data: %s\n\n", line)
				rc.Flush()
			case <-r.Context().Done():
				return
			}
		}
	case r.URL.Path == "/hold":
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
	default:
		http.NotFound(w, r)
	}
}

// config is the proxy configuration for the council, with names dialled on loopback.
func (c *council) config() Config {
	home := *c.portal.url
	home.Path = "/home"
	return Config{
		Home:        &home,
		Origins:     []*url.URL{c.sso.url, c.static.url},
		RootCAs:     c.ca.pool,
		UIOrigin:    uiOrigin,
		Logger:      testLogger(),
		dialAddr:    loopbackAddr,
		IdleTimeout: 30 * time.Second,
	}
}

func loopbackAddr(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return net.JoinHostPort("127.0.0.1", port)
}

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(testLogWriter{}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

type testLogWriter struct{}

func (testLogWriter) Write(b []byte) (int, error) { return io.Discard.Write(b) }

func startSession(t testing.TB, cfg Config, cert tls.Certificate) *Session {
	t.Helper()
	s, err := Start(context.Background(), cfg, cert)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// localClient talks to the proxy like the webview: plain HTTP on loopback and a cookie jar
// (Go's jar keeps host-only cookies of IP hosts, as a browser does). It follows the enter
// endpoint's redirect, so that getting HomeURL lands on the home page with the session's
// cookie, and no other redirect, so that tests see the portal's.
func localClient(t testing.TB) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Transport: tr,
		Jar:       jar,
		CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if strings.HasPrefix(via[len(via)-1].URL.Path, enterPrefix) {
				return nil
			}
			return http.ErrUseLastResponse
		},
		Timeout: 10 * time.Second,
	}
}

// strangerClient is another local process: plain HTTP on loopback, no cookies, no redirects.
func strangerClient(t testing.TB) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
}

// webview is a localClient that holds the session's cookie, as the kiosk UI's frame does
// once it has loaded HomeURL. It takes only the enter endpoint's answer, without following
// its redirect, so that the portal sees no request yet.
func webview(t testing.TB, s *Session) *http.Client {
	t.Helper()
	cl := localClient(t)
	enter := *cl
	enter.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, _ := get(t, &enter, s.HomeURL())
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Fatalf("enter the session: %s, cookies %q", resp.Status, resp.Header.Values("Set-Cookie"))
	}
	return cl
}

// cookieHeader is the Cookie header a webview client sends to the session's local origins.
func cookieHeader(t testing.TB, cl *http.Client, s *Session) string {
	t.Helper()
	u, _ := url.Parse(s.LocalURL(s.cfg.Home))
	var parts []string
	for _, c := range cl.Jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	if len(parts) == 0 {
		t.Fatal("the client holds no cookie for the session")
	}
	return strings.Join(parts, "; ")
}

func get(t testing.TB, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read: %v", u, err)
	}
	return resp, string(b)
}

// freePortBlock finds n consecutive free loopback ports below the ephemeral port range
// (32768 and up on Linux), where the kernel never hands out ports on its own.
func freePortBlock(t testing.TB, n int) int {
	t.Helper()
	for range 100 {
		base := 20000 + rand.IntN(10000)
		var held []net.Listener
		for i := range n {
			ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(base+i)))
			if err != nil {
				break
			}
			held = append(held, ln)
		}
		for _, ln := range held {
			ln.Close()
		}
		if len(held) == n {
			return base
		}
	}
	t.Fatalf("no %d consecutive free ports found in 100 tries", n)
	return 0
}
