package portal

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"

	"smartpath/agent/proxy"
	"smartpath/testing/waitfor"
)

// proxied starts the kiosk's portal proxy (agent/proxy) in front of w for one card. This is
// the demo portal's reason to exist, so its compatibility with the proxy is tested here too.
func (w *world) proxied(t *testing.T, cert *tls.Certificate) (*proxy.Session, *browser) {
	t.Helper()
	home, _ := url.Parse(w.urls.Home())
	sso, _ := url.Parse(w.urls.SSO)
	static, _ := url.Parse(w.urls.Static)
	roots := w.clientTLS(nil, nil).RootCAs
	ps, err := proxy.Start(context.Background(), proxy.Config{
		Home: home, Origins: []*url.URL{sso, static}, RootCAs: roots, UIOrigin: "http://127.0.0.1:1",
	}, *cert)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	b := &browser{tr: &http.Transport{}}
	jar, _ := cookiejar.New(nil) // the proxy admits only the client that holds its session cookie
	b.Client = &http.Client{Transport: b.tr, Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		b.hops = append(b.hops, req.URL.String())
		return nil
	}}
	t.Cleanup(b.tr.CloseIdleConnections)
	return ps, b
}

func TestThroughKioskProxy(t *testing.T) {
	w := newWorld(t, func(o *Options) { o.Hostname = "localhost" })
	jane := card(t, w.pki, "Jane Citizen", "C-1001")
	ps, b := w.proxied(t, jane)
	if err := ps.Probe(context.Background()); err != nil {
		t.Fatalf("probe: %v", err)
	}
	status, _, body := b.get(t, ps.HomeURL())
	if status != http.StatusOK || !strings.Contains(body, "Welcome, Jane Citizen") {
		t.Fatalf("home through the proxy: status %d, hops %q:\n%s", status, b.hops, body)
	}

	// Five gallery pages and their 20 subresources each, in parallel.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []string
	fail := func(s string) { mu.Lock(); errs = append(errs, s); mu.Unlock() }
	for n := 1; n <= 5; n++ {
		wg.Go(func() {
			u, _ := url.Parse(w.urls.Portal + "/load/" + string(rune('0'+n)))
			res, err := b.Get(ps.LocalURL(u))
			if err != nil {
				fail(err.Error())
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				fail("page " + res.Status)
			}
			for _, sub := range w.srv.Subresources(n) {
				wg.Go(func() {
					su, _ := url.Parse(sub)
					res, err := b.Get(ps.LocalURL(su))
					if err != nil {
						fail(err.Error())
						return
					}
					res.Body.Close()
					if res.StatusCode != http.StatusOK {
						fail(sub + ": " + res.Status)
					}
				})
			}
		})
	}
	wg.Wait()
	for _, e := range errs {
		t.Error(e)
	}
	if got := ps.Signatures(); got != 1 {
		t.Errorf("card signatures %d, want 1", got)
	}
	if got := w.srv.Handshakes(); got != 1 {
		t.Errorf("portal full handshakes with a card %d, want 1", got)
	}

	// Session end closes every upstream connection.
	ps.Close()
	waitfor.Until(t, waitfor.Timeout, "upstream connections to close", func() bool { return w.srv.ConnsOpen() == 0 })
}

func TestForeignCardThroughKioskProxy(t *testing.T) {
	w := newWorld(t, func(o *Options) { o.Hostname = "localhost" })
	ps, _ := w.proxied(t, card(t, w.other, "Mallory Elsewhere", "X-666"))
	if err := ps.Probe(context.Background()); !errors.Is(err, proxy.ErrClientCertRefused) {
		t.Errorf("probe with a foreign card: %v, want ErrClientCertRefused", err)
	}
	// TLS 1.2 only: in TLS 1.3 the alert reaches the client after its handshake has completed,
	// and the HTTP/2 transport reports "client conn could not be established" without it.
	w2 := newWorld(t, func(o *Options) { o.Hostname = "localhost"; o.RefuseInHandshake = true; o.MaxTLS = tls.VersionTLS12 })
	ps2, _ := w2.proxied(t, card(t, w2.other, "Mallory Elsewhere", "X-666"))
	if err := ps2.Probe(context.Background()); !errors.Is(err, proxy.ErrClientCertRefused) {
		t.Errorf("probe with a foreign card refused in the handshake: %v, want ErrClientCertRefused", err)
	}
}
