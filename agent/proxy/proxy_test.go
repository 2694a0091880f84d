package proxy

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func TestHomePageThroughProxy(t *testing.T) {
	c := newCouncil(t, serverOpts{h2: true})
	cd := c.ca.card(t, "p256", "Jane Citizen")
	s := startSession(t, c.config(), cd.cert)
	if err := s.Probe(context.Background()); err != nil {
		t.Fatalf("Probe: %v", err)
	}
	cl := localClient(t)
	resp, body := get(t, cl, s.HomeURL())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("home: %s", resp.Status)
	}
	if !strings.Contains(body, "Hello Jane Citizen") {
		t.Errorf("home body = %q, want the citizen's greeting", body)
	}
	// Absolute links to the static and SSO hosts point at their local origins.
	if want := s.LocalURL(c.static.url) + "/app.css"; !strings.Contains(body, want) {
		t.Errorf("home body = %q, want link %q", body, want)
	}
	if strings.Contains(body, staticHost) || strings.Contains(body, ssoHost) {
		t.Errorf("home body still names an upstream host: %q", body)
	}
	if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("Set-Cookie reached the webview: %q", got)
	}
	// The portal's cookie is in the session jar and goes upstream.
	_, who := get(t, cl, s.LocalURL(c.portal.url)+"/whoami")
	if !strings.Contains(who, "sid=citizen-1") {
		t.Errorf("whoami = %q, want the portal cookie from the jar", who)
	}
	// A cookie the webview sends is ignored.
	req, _ := http.NewRequest("GET", s.LocalURL(c.portal.url)+"/whoami", nil)
	req.Header.Set("Cookie", "sid=forged")
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b := readAll(t, resp)
	if !strings.Contains(b, "sid=citizen-1") {
		t.Errorf("whoami with a forged cookie = %q, want the jar's cookie", b)
	}
	// The CSS from the static host has its absolute URLs rewritten too.
	_, css := get(t, cl, s.LocalURL(c.static.url)+"/app.css")
	if want := s.LocalURL(c.static.url) + "/img/bg.png"; !strings.Contains(css, want) {
		t.Errorf("css = %q, want %q", css, want)
	}
	if s.Signatures() < 1 {
		t.Errorf("signatures = %d", s.Signatures())
	}
}

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var sb strings.Builder
	if _, err := fmt.Fprint(&sb, ""); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String()
}

// TestOneSignaturePerSession loads the home page and 5 pages with 20 subresources each, all
// in parallel, and expects exactly one card signature.
func TestOneSignaturePerSession(t *testing.T) {
	cases := []struct {
		name       string
		key        string
		maxVersion uint16
		h2         bool
		pkcs1Only  bool
		wantPSS    bool
		noTickets  bool
	}{
		{"rsa-pkcs1-tls12-h1", "rsa", 0x0303, false, true, false, false},
		{"rsa-pss-tls13-h2", "rsa", 0, true, false, true, false},
		{"rsa-pss-tls13-h1", "rsa", 0, false, false, true, false},
		{"rsa-pss-tls12-h2", "rsa", 0x0303, true, false, true, false},
		{"p256-tls13-h2", "p256", 0, true, false, false, false},
		{"p256-tls12-h1", "p256", 0x0303, false, false, false, false},
		{"p384-tls13-h1", "p384", 0, false, false, false, false},
		{"p384-tls12-h2", "p384", 0x0303, true, false, false, false},
		// Without session resumption the requests share the one connection.
		{"p256-tls12-h1-no-tickets", "p256", 0x0303, false, false, false, true},
		{"p256-tls12-h2-no-tickets", "p256", 0x0303, true, false, false, true},
		{"rsa-tls13-h1-no-tickets", "rsa", 0, false, false, true, true},
		{"p384-tls13-h2-no-tickets", "p384", 0, true, false, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCouncil(t, serverOpts{h2: tc.h2, maxVersion: tc.maxVersion, noTickets: tc.noTickets})
			cd := c.ca.card(t, tc.key, "Card "+tc.name)
			if tc.pkcs1Only {
				cd.cert.SupportedSignatureAlgorithms = pkcs1Schemes
			}
			s := startSession(t, c.config(), cd.cert)
			cl := webview(t, s)
			base := s.LocalURL(c.portal.url)
			// No Probe: the page loads race for the first connection.
			var wg sync.WaitGroup
			errs := make(chan error, 200)
			fetch := func(u string) {
				defer wg.Done()
				resp, err := cl.Get(u)
				if err != nil {
					errs <- err
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("%s: %s", u, resp.Status)
				}
			}
			wg.Add(1)
			go fetch(s.HomeURL())
			for p := range 5 {
				wg.Add(1)
				go fetch(fmt.Sprintf("%s/page/%d", base, p))
				for r := range 20 {
					wg.Add(1)
					go fetch(fmt.Sprintf("%s/res/%d-%d", base, p, r))
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if got := s.Signatures(); got != 1 {
				t.Errorf("session signatures = %d, want 1", got)
			}
			if got := cd.signer.n.Load(); got != 1 {
				t.Errorf("card signatures = %d, want 1", got)
			}
			if tc.key == "rsa" {
				if got := cd.signer.pss.Load() == 1; got != tc.wantPSS {
					t.Errorf("PSS used = %v, want %v", got, tc.wantPSS)
				}
			}
			if cd.signer.overl.Load() {
				t.Error("card signatures overlapped")
			}
			if got := c.portal.full.Load(); got != 1 {
				t.Errorf("full handshakes at the portal = %d, want 1 (resumed %d)", got, c.portal.resumed.Load())
			}
		})
	}
}

func TestBodyRewriteBounds(t *testing.T) {
	c := newCouncil(t, serverOpts{h2: true})
	cd := c.ca.card(t, "p256", "Jane Citizen")
	s := startSession(t, c.config(), cd.cert)
	portal := s.LocalURL(c.portal.url)
	// A browser-like client that asks for gzip and decodes it itself.
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("GET", portal+"/gz", nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	resp, err := (&http.Client{Transport: tr, Jar: webview(t, s).Jar}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	if enc := resp.Header.Get("Content-Encoding"); enc != "" {
		t.Errorf("Content-Encoding %q after rewriting", enc)
	}
	if want := `<img src="` + s.LocalURL(c.static.url) + `/i.png">`; body != want {
		t.Errorf("gzip page = %q, want %q", body, want)
	}
	// Over the bound: passed on as it came.
	resp, body = get(t, webview(t, s), portal+"/hugehtml")
	if resp.StatusCode != http.StatusOK || len(body) < 5<<20 || !strings.HasPrefix(body, `<a href="`+c.portal.url.String()) {
		t.Errorf("huge page: %s, %d bytes, starts %q", resp.Status, len(body), body[:min(len(body), 60)])
	}
}
