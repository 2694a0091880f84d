package proxy

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestRedirectToSSOIsRewritten(t *testing.T) {
	c := newCouncil(t, serverOpts{h2: true})
	cd := c.ca.card(t, "p256", "Jane Citizen")
	s := startSession(t, c.config(), cd.cert)
	cl := webview(t, s)
	portal := s.LocalURL(c.portal.url)
	sso := s.LocalURL(c.sso.url)

	resp, _ := get(t, cl, portal+"/login")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, sso+"/auth?") {
		t.Fatalf("login: %s Location %q, want a redirect to %s/auth", resp.Status, loc, sso)
	}
	// The return URL in the query stays upstream: the SSO host checks it.
	u, _ := url.Parse(loc)
	if ret := u.Query().Get("return"); ret != c.portal.url.String()+"/whoami" {
		t.Errorf("return = %q", ret)
	}
	// Follow it like the browser: the SSO sends the citizen back to the portal's local origin.
	resp, _ = get(t, cl, loc)
	if got := resp.Header.Get("Location"); got != portal+"/whoami" {
		t.Fatalf("SSO redirect Location = %q, want %q", got, portal+"/whoami")
	}
	// The SSO's cookie is kept for the SSO origin only.
	_, b := get(t, cl, sso+"/cookie")
	if b != "sso=true" {
		t.Errorf("sso cookie: %q", b)
	}
	// A local URL in the query goes upstream as the upstream URL; Origin and Referer too.
	req, _ := http.NewRequest("GET", portal+"/whoami?next="+url.QueryEscape(sso+"/x"), nil)
	req.Header.Set("Origin", portal)
	req.Header.Set("Referer", portal+"/home")
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b = readAll(t, resp)
	for _, want := range []string{
		"origin=" + c.portal.url.String(),
		"referer=" + c.portal.url.String() + "/home",
		"query=next=" + url.QueryEscape(c.sso.url.String()+"/x"),
	} {
		if !strings.Contains(b, want) {
			t.Errorf("whoami = %q, want %q", b, want)
		}
	}
	// A Referer from the kiosk UI is not passed on.
	req, _ = http.NewRequest("GET", portal+"/whoami", nil)
	req.Header.Set("Referer", uiOrigin+"/")
	resp, err = cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if b := readAll(t, resp); !strings.Contains(b, "referer= ") {
		t.Errorf("whoami = %q, want no referer", b)
	}
	// Refresh is rewritten the same way.
	resp, _ = get(t, cl, portal+"/refresh")
	if got, want := resp.Header.Get("Refresh"), "0; url="+sso+"/auth"; got != want {
		t.Errorf("Refresh = %q, want %q", got, want)
	}
}

func TestRedirectLeavingThePortalIsBlocked(t *testing.T) {
	c := newCouncil(t, serverOpts{})
	cd := c.ca.card(t, "p256", "Jane Citizen")
	s := startSession(t, c.config(), cd.cert)
	cl := webview(t, s)
	portal := s.LocalURL(c.portal.url)
	resp, body := get(t, cl, portal+"/leave")
	if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("Location") != "" {
		t.Errorf("leave: %s Location %q, want 502 and no Location", resp.Status, resp.Header.Get("Location"))
	}
	if strings.Contains(body, "evil") {
		t.Errorf("body names the target: %q", body)
	}
	// A chain: portal → SSO (configured, rewritten) → evil (blocked).
	resp, _ = get(t, cl, portal+"/chain")
	next := resp.Header.Get("Location")
	if !strings.HasPrefix(next, s.LocalURL(c.sso.url)+"/bounce") {
		t.Fatalf("chain step 1 Location = %q", next)
	}
	resp, _ = get(t, cl, next)
	if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("Location") != "" {
		t.Errorf("chain step 2: %s Location %q, want 502 and no Location", resp.Status, resp.Header.Get("Location"))
	}
}

func TestFrameHeaders(t *testing.T) {
	c := newCouncil(t, serverOpts{})
	cd := c.ca.card(t, "p256", "Jane Citizen")
	s := startSession(t, c.config(), cd.cert)
	cl := webview(t, s)
	portal := s.LocalURL(c.portal.url)
	resp, _ := get(t, cl, portal+"/frame")
	if v := resp.Header.Get("X-Frame-Options"); v != "" {
		t.Errorf("X-Frame-Options = %q, want none", v)
	}
	csp := resp.Header.Values("Content-Security-Policy")
	if len(csp) != 1 {
		t.Fatalf("CSP = %q", csp)
	}
	want := "default-src 'self' " + s.LocalURL(c.static.url) + "; connect-src ws://" +
		strings.TrimPrefix(portal, "http://") + "; frame-ancestors " + uiOrigin + " "
	if !strings.HasPrefix(csp[0], want) || !strings.Contains(csp[0][len(want)-1:], " "+portal) {
		t.Errorf("CSP = %q\nwant  %q", csp[0], want)
	}
	// A page without a policy gets one that lets only the UI and the session's own origins
	// frame it.
	resp, _ = get(t, cl, portal+"/page/1")
	if got := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(got, "frame-ancestors "+uiOrigin+" ") ||
		!strings.Contains(got, " "+portal) || strings.Contains(got, "https:") {
		t.Errorf("CSP = %q", got)
	}
}

// rawRequest writes a request by hand to the listener at addr and returns the status line.
func rawRequest(t *testing.T, addr, req string) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatalf("read status: %v", err)
	}
	return strings.TrimSpace(line)
}

func TestNotAnOpenProxy(t *testing.T) {
	c := newCouncil(t, serverOpts{})
	cd := c.ca.card(t, "p256", "Jane Citizen")
	s := startSession(t, c.config(), cd.cert)
	addr := strings.TrimPrefix(s.LocalURL(c.portal.url), "http://")
	cookie := "Cookie: " + cookieHeader(t, webview(t, s), s) + "\r\n"
	cases := []struct {
		name, req, want string
	}{
		{"ok", "GET /page/1 HTTP/1.1\r\nHost: " + addr + "\r\n" + cookie + "\r\n", "200"},
		{"absolute-uri", "GET http://evil.example/ HTTP/1.1\r\nHost: evil.example\r\n\r\n", "400"},
		{"absolute-uri-own-host", "GET http://" + addr + "/page/1 HTTP/1.1\r\nHost: " + addr + "\r\n\r\n", "400"},
		{"absolute-upstream", "GET " + c.portal.url.String() + "/page/1 HTTP/1.1\r\nHost: " + addr + "\r\n\r\n", "400"},
		{"connect", "CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n", "405"},
		{"connect-own", "CONNECT " + addr + " HTTP/1.1\r\nHost: " + addr + "\r\n\r\n", "405"},
		{"foreign-host", "GET /page/1 HTTP/1.1\r\nHost: evil.example\r\n\r\n", "403"},
		{"upstream-host", "GET /page/1 HTTP/1.1\r\nHost: " + c.portal.url.Host + "\r\n\r\n", "403"},
		{"localhost-alias", "GET /page/1 HTTP/1.1\r\nHost: localhost:" + strings.Split(addr, ":")[1] + "\r\n\r\n", "403"},
		{"other-local-origin", "GET /page/1 HTTP/1.1\r\nHost: " + strings.TrimPrefix(s.LocalURL(c.sso.url), "http://") + "\r\n\r\n", "403"},
		{"asterisk", "OPTIONS * HTTP/1.1\r\nHost: " + addr + "\r\n\r\n", "400"},
		// A path that looks like an authority stays a path on the portal.
		{"double-slash-path", "GET //evil.example/ HTTP/1.1\r\nHost: " + addr + "\r\n" + cookie + "\r\n", "404"},
		{"no-host", "GET /page/1 HTTP/1.1\r\n\r\n", "400"},
		{"http10-no-host", "GET /page/1 HTTP/1.0\r\n\r\n", "403"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			line := rawRequest(t, addr, tc.req)
			if f := strings.Fields(line); len(f) < 2 || f[1] != tc.want {
				t.Errorf("status line %q, want %s", line, tc.want)
			}
		})
	}
}

func TestProbeErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("portal down", func(t *testing.T) {
		c := newCouncil(t, serverOpts{})
		cd := c.ca.card(t, "p256", "Jane Citizen")
		cfg := c.config()
		c.portal.srv.Close()
		s := startSession(t, cfg, cd.cert)
		err := s.Probe(ctx)
		if !errors.Is(err, ErrPortalUnavailable) {
			t.Fatalf("Probe = %v, want ErrPortalUnavailable", err)
		}
		if cd.signer.n.Load() != 0 {
			t.Errorf("card used %d times for an unreachable portal", cd.signer.n.Load())
		}
	})
	t.Run("portal 503", func(t *testing.T) {
		c := newCouncil(t, serverOpts{})
		cd := c.ca.card(t, "p256", "Jane Citizen")
		cfg := c.config()
		cfg.Home.Path = "/status"
		cfg.Home.RawQuery = "code=503"
		s := startSession(t, cfg, cd.cert)
		if err := s.Probe(ctx); !errors.Is(err, ErrPortalUnavailable) {
			t.Fatalf("Probe = %v, want ErrPortalUnavailable", err)
		}
	})
	t.Run("portal 403", func(t *testing.T) {
		c := newCouncil(t, serverOpts{})
		cd := c.ca.card(t, "p256", "Jane Citizen")
		cfg := c.config()
		cfg.Home.Path = "/status"
		cfg.Home.RawQuery = "code=403"
		s := startSession(t, cfg, cd.cert)
		if err := s.Probe(ctx); !errors.Is(err, ErrClientCertRefused) {
			t.Fatalf("Probe = %v, want ErrClientCertRefused", err)
		}
	})
	t.Run("untrusted portal", func(t *testing.T) {
		c := newCouncil(t, serverOpts{})
		cd := c.ca.card(t, "p256", "Jane Citizen")
		cfg := c.config()
		cfg.RootCAs = newCA(t, "Some Other CA").pool
		s := startSession(t, cfg, cd.cert)
		if err := s.Probe(ctx); !errors.Is(err, ErrPortalUntrusted) {
			t.Fatalf("Probe = %v, want ErrPortalUntrusted", err)
		}
		if cd.signer.n.Load() != 0 {
			t.Errorf("card used %d times for an untrusted portal", cd.signer.n.Load())
		}
	})
	t.Run("wrong name", func(t *testing.T) {
		c := newCouncil(t, serverOpts{})
		cd := c.ca.card(t, "p256", "Jane Citizen")
		cfg := c.config()
		cfg.Home.Host = "elsewhere.test:" + c.portal.url.Port()
		s := startSession(t, cfg, cd.cert)
		if err := s.Probe(ctx); !errors.Is(err, ErrPortalUntrusted) {
			t.Fatalf("Probe = %v, want ErrPortalUntrusted", err)
		}
	})
	for _, v := range []struct {
		name string
		max  uint16
		h2   bool
	}{{"tls13-h1", 0, false}, {"tls12-h1", 0x0303, false}, {"tls13-h2", 0, true}, {"tls12-h2", 0x0303, true}} {
		t.Run("client cert refused "+v.name, func(t *testing.T) {
			other := newCA(t, "Another Council CA")
			c := newCouncil(t, serverOpts{clientCAs: other.pool, maxVersion: v.max, h2: v.h2})
			cd := c.ca.card(t, "p256", "Jane Citizen")
			s := startSession(t, c.config(), cd.cert)
			err := s.Probe(ctx)
			if !errors.Is(err, ErrClientCertRefused) {
				t.Fatalf("Probe = %v, want ErrClientCertRefused", err)
			}
		})
	}
}
