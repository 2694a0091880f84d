package proxy

import (
	"net/url"
	"strings"
	"testing"
)

// testOrigins is a fixed map: the portal on 443, the SSO host on 8443, a static host.
func testOrigins(t testing.TB) *originMap {
	t.Helper()
	mustURL := func(s string) *url.URL {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	m := newOriginMap(mustURL("https://Portal.Council.Test/home"),
		[]*url.URL{mustURL("https://sso.council.test:8443"), mustURL("https://static.council.test"), mustURL("https://portal.council.test:443/")},
		uiOrigin)
	for i, o := range m.list {
		m.bind(o, "127.0.0.1:"+[]string{"9001", "9002", "9003"}[i])
	}
	return m
}

func TestOriginMap(t *testing.T) {
	m := testOrigins(t)
	if len(m.list) != 3 {
		t.Fatalf("origins = %d, want 3 (duplicates folded)", len(m.list))
	}
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"https://portal.council.test/x?y=1#f", "http://127.0.0.1:9001/x?y=1#f", true},
		{"https://PORTAL.council.test:443/x", "http://127.0.0.1:9001/x", true},
		{"https://sso.council.test:8443/auth?return=https%3A%2F%2Fportal.council.test%2F", "http://127.0.0.1:9002/auth?return=https%3A%2F%2Fportal.council.test%2F", true},
		{"wss://portal.council.test/ws", "ws://127.0.0.1:9001/ws", true},
		{"//static.council.test/a.css", "//127.0.0.1:9003/a.css", true},
		{"/relative?q", "/relative?q", true},
		{"next", "next", true},
		{"https://sso.council.test/auth", "", false}, // wrong port
		{"http://portal.council.test/", "", false},   // not TLS
		{"https://evil.example/", "", false},
		{"https://portal.council.test.evil.example/", "", false},
		{"https://portal.council.test@evil.example/", "", false},
		{"https://user@portal.council.test/", "", false},
		{"javascript:alert(1)", "", false},
		{"//evil.example/", "", false},
		{"https://[::1]/", "", false},
		{"/\\evil.example/", "", false},
		{"\\\\evil.example", "", false},
		{" /\t/evil.example", "", false},
		{"https:\\\\portal.council.test\\x?a\\b", "http://127.0.0.1:9001/x?a\\b", true},
		{"https://portal.council.test:badport/", "", false},
	}
	for _, tc := range cases {
		got, ok := m.toLocalURL(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("toLocalURL(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	up, ok := m.toUpstreamURL("http://127.0.0.1:9002/cb?x=1")
	if !ok || up != "https://sso.council.test:8443/cb?x=1" {
		t.Errorf("toUpstreamURL = %q, %v", up, ok)
	}
	if _, ok := m.toUpstreamURL("http://127.0.0.1:8470/"); ok {
		t.Error("the UI origin mapped upstream")
	}
	if got := m.originToLocal("https://static.council.test"); got != "http://127.0.0.1:9003" {
		t.Errorf("originToLocal = %q", got)
	}
	if got := m.originToLocal("*"); got != "*" {
		t.Errorf("originToLocal(*) = %q", got)
	}
}

func TestRewriteRefresh(t *testing.T) {
	m := testOrigins(t)
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"5", "5", true},
		{"0; url=https://portal.council.test/next", "0; url=http://127.0.0.1:9001/next", true},
		{"0;URL='https://static.council.test/x'", "0; url=http://127.0.0.1:9003/x", true},
		{"3, /relative", "3; url=/relative", true},
		{"0; url=https://evil.example/", "", false},
		{"0; nonsense https://evil.example/", "", false},
	}
	for _, tc := range cases {
		got, ok := m.rewriteRefresh(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("rewriteRefresh(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestRewriteLink(t *testing.T) {
	m := testOrigins(t)
	in := `<https://static.council.test/app.css>; rel=preload; as=style, <https://cdn.example/x.js>; rel=preload`
	want := `<http://127.0.0.1:9003/app.css>; rel=preload; as=style, <https://cdn.example/x.js>; rel=preload`
	if got := m.rewriteLink(in); got != want {
		t.Errorf("rewriteLink = %q\nwant %q", got, want)
	}
}

func TestRewriteCSP(t *testing.T) {
	m := testOrigins(t)
	fa := "frame-ancestors " + uiOrigin + " http://127.0.0.1:9001 http://127.0.0.1:9002 http://127.0.0.1:9003"
	if got := m.frameAncestors(); got != fa {
		t.Fatalf("frameAncestors = %q, want %q", got, fa)
	}
	cases := []struct{ in, want string }{
		{"", fa},
		{"frame-ancestors 'none'", fa},
		{"frame-ancestors https://evil.example 'self'; frame-ancestors *", fa},
		{"default-src 'self'", "default-src 'self'; " + fa},
		{"default-src 'self' https://static.council.test; img-src data: https:",
			"default-src 'self' http://127.0.0.1:9003; img-src data: https: http://127.0.0.1:9001 http://127.0.0.1:9002 http://127.0.0.1:9003; " + fa},
		{"script-src static.council.test/js/ 'nonce-abc'",
			"script-src http://127.0.0.1:9003/js/ ws://127.0.0.1:9003/js/ 'nonce-abc'; " + fa},
		{"connect-src wss://portal.council.test https://sso.council.test:8443",
			"connect-src ws://127.0.0.1:9001 http://127.0.0.1:9002; " + fa},
		{"img-src https://*.council.test", "img-src http://127.0.0.1:9001 http://127.0.0.1:9003; " + fa},
		{"img-src https://*.council.test:*", "img-src http://127.0.0.1:9001 http://127.0.0.1:9002 http://127.0.0.1:9003; " + fa},
		{"upgrade-insecure-requests; block-all-mixed-content; default-src https://cdn.example",
			"default-src https://cdn.example; " + fa},
		{"report-uri https://portal.council.test/csp", "report-uri http://127.0.0.1:9001/csp; " + fa},
		{"  ;;default-src\t'self'  ; ", "default-src 'self'; " + fa},
	}
	for _, tc := range cases {
		if got := m.rewriteCSP(tc.in); got != tc.want {
			t.Errorf("rewriteCSP(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestRewriteBody(t *testing.T) {
	m := testOrigins(t)
	cases := []struct{ in, want string }{
		{`<a href="https://portal.council.test/x">`, `<a href="http://127.0.0.1:9001/x">`},
		{`<a href='https://PORTAL.council.test'>`, `<a href='http://127.0.0.1:9001'>`},
		{`<script src=//static.council.test/a.js></script>`, `<script src=//127.0.0.1:9003/a.js></script>`},
		{`url(https://static.council.test/i.png)`, `url(http://127.0.0.1:9003/i.png)`},
		{`new WebSocket("wss://portal.council.test/ws")`, `new WebSocket("ws://127.0.0.1:9001/ws")`},
		{`https://sso.council.test:8443/auth?r=https://portal.council.test/`, `http://127.0.0.1:9002/auth?r=http://127.0.0.1:9001/`},
		{`https://portal.council.test:443/`, `http://127.0.0.1:9001/`},
		// Left alone: other hosts, other ports, look-alikes, userinfo, plain http, paths.
		{`https://sso.council.test/auth`, `https://sso.council.test/auth`},
		{`https://portal.council.test.evil.example/`, `https://portal.council.test.evil.example/`},
		{`https://portal.council.test@evil.example/`, `https://portal.council.test@evil.example/`},
		{`http://portal.council.test/`, `http://portal.council.test/`},
		{`/a//portal.council.test/b`, `/a//portal.council.test/b`},
		{`xhttps://portal.council.test/`, `xhttps://portal.council.test/`},
		{`// portal.council.test`, `// portal.council.test`},
		{`https://portal.council.test:`, `https://portal.council.test:`},
		{`https://portal.council.test`, `http://127.0.0.1:9001`},
	}
	for _, tc := range cases {
		got, changed := m.rewriteBody([]byte(tc.in))
		if string(got) != tc.want || changed != (tc.in != tc.want) {
			t.Errorf("rewriteBody(%q) = %q, %v; want %q", tc.in, got, changed, tc.want)
		}
	}
}

func TestLocalReplacements(t *testing.T) {
	m := testOrigins(t)
	r := strings.NewReplacer(m.localReplacements()...)
	in := "a=http://127.0.0.1:9001/x&b=" + url.QueryEscape("http://127.0.0.1:9002/cb") + "&c=http%3a%2f%2f127.0.0.1%3a9003"
	want := "a=https://portal.council.test/x&b=" + url.QueryEscape("https://sso.council.test:8443/cb") + "&c=" + url.QueryEscape("https://static.council.test")
	if got := r.Replace(in); got != want {
		t.Errorf("replace\n got %q\nwant %q", got, want)
	}
}
