package proxy

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzRewriteCSP: whatever the portal sends, the policy that reaches the webview lets exactly
// the UI origin frame the portal and never asks to upgrade the loopback origins.
func FuzzRewriteCSP(f *testing.F) {
	for _, s := range []string{
		"", "default-src 'self'", "frame-ancestors 'none'; upgrade-insecure-requests",
		"img-src https://*.council.test:*; connect-src wss://portal.council.test",
		"script-src static.council.test/js/ 'nonce-abc'", "report-uri https://portal.council.test/csp",
		";;;", "frame-ancestors\t*;FRAME-ANCESTORS https://evil", "a b;c d e;f",
	} {
		f.Add(s)
	}
	m := testOrigins(f)
	f.Fuzz(func(t *testing.T, policy string) {
		if strings.ContainsAny(policy, "\r\n") {
			return // cannot be a header value
		}
		out := m.rewriteCSP(policy)
		if strings.ContainsAny(out, "\r\n") {
			t.Fatalf("line break in %q", out)
		}
		var fa []string
		for _, d := range strings.Split(out, ";") {
			f := cspFields(d)
			if len(f) == 0 {
				continue
			}
			switch strings.ToLower(f[0]) {
			case "frame-ancestors":
				fa = append(fa, strings.Join(f[1:], " "))
			case "upgrade-insecure-requests", "block-all-mixed-content":
				t.Fatalf("%q kept in %q", f[0], out)
			}
		}
		if len(fa) != 1 || "frame-ancestors "+fa[0] != m.frameAncestors() || !strings.HasPrefix(fa[0], uiOrigin+" ") {
			t.Fatalf("frame-ancestors %q in %q", fa, out)
		}
		if len(out) > 64*len(policy)+200 {
			t.Fatalf("policy grew from %d to %d bytes", len(policy), len(out))
		}
	})
}

// FuzzRewriteLocation: a redirect either stays relative or lands on a local origin.
func FuzzRewriteLocation(f *testing.F) {
	for _, s := range []string{
		"https://portal.council.test/x", "//static.council.test/a", "/rel", "https://evil.example/",
		"https://portal.council.test@evil.example/", "https://sso.council.test:8443/auth?return=https%3A%2F%2Fportal.council.test",
		"\\\\evil.example", "/\\evil.example", "https:evil.example", "0; url=https://sso.council.test:8443/",
	} {
		f.Add(s)
	}
	m := testOrigins(f)
	f.Fuzz(func(t *testing.T, ref string) {
		check := func(what, out string) {
			u, err := url.Parse(browserClean(out))
			if err != nil {
				t.Fatalf("%s(%q) = %q does not parse: %v", what, ref, out, err)
			}
			if u.Host != "" && m.byLocal[u.Host] == nil {
				t.Fatalf("%s(%q) = %q leaves the local origins", what, ref, out)
			}
			if u.Host == "" && u.Scheme != "" {
				t.Fatalf("%s(%q) = %q has a scheme but no host", what, ref, out)
			}
		}
		if out, ok := m.toLocalURL(ref); ok {
			check("toLocalURL", out)
		}
		if out, ok := m.rewriteRefresh(ref); ok {
			if _, u, found := strings.Cut(out, "; url="); found {
				check("rewriteRefresh", u)
			}
		}
		m.rewriteLink(ref)
		m.originToLocal(ref)
		m.originToUpstream(ref)
		m.toUpstreamURL(ref)
	})
}

// FuzzRewriteBody: rewriting is idempotent (local origins are never rewritten again), leaves
// no rewritable reference behind, and grows the body only by the replacements.
func FuzzRewriteBody(f *testing.F) {
	for _, s := range []string{
		`<a href="https://portal.council.test/x">`, `url(//static.council.test/i.png)`,
		`wss://portal.council.test:443/ws`, `https://sso.council.test:8443`, `https://portal.council.test.evil`,
		`https://portal.council.test@evil`, `a//b`, `https:////`, `https://portal.council.test:99999999/`,
	} {
		f.Add([]byte(s))
	}
	m := testOrigins(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		out, changed := m.rewriteBody(body)
		if !changed && !bytes.Equal(out, body) {
			t.Fatal("unchanged body differs")
		}
		again, changed2 := m.rewriteBody(out)
		if changed2 || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q -> %q -> %q", body, out, again)
		}
		if len(out) > len(body)+len(body)/2*len("http://127.0.0.1:9001") {
			t.Fatalf("grew from %d to %d", len(body), len(out))
		}
	})
}

// FuzzEnter: the enter endpoint admits exactly the session's secret, and the page it sends
// the webview to is a path on the same origin, never a reference to another host.
func FuzzEnter(f *testing.F) {
	for _, s := range []string{"", "/", "/home", "//evil.example/x", `/\evil.example`, "/%2F%2Fevil", "x/home",
		"/a%20b?c=d", "/../..", "/%5C%5Cevil", "/\t/evil", "?//evil", "/home#frag"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	a, err := newAccess()
	if err != nil {
		f.Fatal(err)
	}
	secret := string(a.secret)
	f.Fuzz(func(t *testing.T, rest string, mangle bool) {
		given := secret
		if mangle {
			given = secret[:len(secret)-1] + "A"
			if given == secret {
				given = secret[:len(secret)-1] + "B"
			}
		}
		u, err := url.ParseRequestURI(enterPrefix + given + rest)
		if err != nil {
			return // the server would not have accepted the request line
		}
		tail, _ := strings.CutPrefix(u.Path, enterPrefix)
		seg, _, _ := strings.Cut(tail, "/")
		c, target, ok := a.enter(u.Path, u.EscapedPath(), u.RawQuery)
		if want := seg == secret; ok != want {
			t.Fatalf("enter %q: admitted %v, want %v", u.RequestURI(), ok, want)
		}
		if !ok {
			return
		}
		if c == nil || c.Value != string(a.value) || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
			t.Fatalf("cookie %+v", c)
		}
		if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") || strings.HasPrefix(target, `/\`) ||
			strings.ContainsAny(target, "\r\n\x00") {
			t.Fatalf("enter %q sends the webview to %q", u.RequestURI(), target)
		}
		if tu, err := url.Parse(target); err != nil || tu.Host != "" || tu.Scheme != "" {
			t.Fatalf("enter %q: target %q is not a local path (%v)", u.RequestURI(), target, err)
		}
	})
}
