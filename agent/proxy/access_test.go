package proxy

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gorilla/websocket"
)

// enterParts splits a HomeURL into its local origin, secret and home path.
func enterParts(t *testing.T, home string) (origin, secret, path string) {
	t.Helper()
	m := regexp.MustCompile(`^(http://127\.0\.0\.1:\d+)/__smartpath/enter/([A-Za-z0-9_-]+)(/.*)$`).FindStringSubmatch(home)
	if m == nil {
		t.Fatalf("HomeURL %q is not http://127.0.0.1:<port>/__smartpath/enter/<secret>/<home path>", home)
	}
	return m[1], m[2], m[3]
}

// sessionCookie is the cookie the enter endpoint sets, checked for its attributes.
func sessionCookie(t *testing.T, s *Session) *http.Cookie {
	t.Helper()
	resp, _ := get(t, strangerClient(t), s.HomeURL())
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("enter: %s, want 303", resp.Status)
	}
	cs := resp.Cookies()
	if len(cs) != 1 {
		t.Fatalf("enter set %d cookies, want 1: %q", len(cs), resp.Header.Values("Set-Cookie"))
	}
	return cs[0]
}

// refused checks that a response is the proxy's 403 page.
func refused(t *testing.T, what string, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("%s: %s, want 403", what, resp.Status)
		return
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.Contains(body, "<html") {
		t.Errorf("%s: 403 is not a short HTML page: %q %q", what, ct, body)
	}
	if len(resp.Cookies()) != 0 {
		t.Errorf("%s: a refused request got a cookie: %q", what, resp.Header.Values("Set-Cookie"))
	}
}

// A local process other than the kiosk window gets nothing: no page, no card signature, no
// upstream connection, on any of the session's local origins, websocket upgrades included.
func TestRequestsWithoutCookieAreRefused(t *testing.T) {
	c := newCouncil(t, serverOpts{h2: true})
	cd := c.ca.card(t, "p256", "Jane Citizen")
	cfg := c.config()
	var onRequest atomic.Int32
	cfg.OnRequest = func(string, *http.Request) { onRequest.Add(1) }
	s := startSession(t, cfg, cd.cert)
	stranger := strangerClient(t)
	portal, sso, static := s.LocalURL(c.portal.url), s.LocalURL(c.sso.url), s.LocalURL(c.static.url)
	for _, u := range []string{portal + "/home", portal + "/", portal + "/whoami?x=1", sso + "/cookie",
		static + "/app.css", static + "/", portal + "/__smartpath/", portal + "/__smartpath/enter/"} {
		resp, body := get(t, stranger, u)
		refused(t, u, resp, body)
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodHead, http.MethodOptions} {
		req, _ := http.NewRequest(m, portal+"/home", strings.NewReader("a=1"))
		resp, err := stranger.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s without cookie: %s, want 403", m, resp.Status)
		}
	}
	// A websocket upgrade without the cookie, with the right Origin.
	ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(portal, "http")+"/ws", http.Header{"Origin": {portal}})
	if err == nil {
		ws.Close()
		t.Error("websocket upgrade without the cookie was accepted")
	} else if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("websocket upgrade without the cookie: %v, want 403", err)
	}
	// The kiosk UI's own cookies (same host, another port) do not help either.
	req, _ := http.NewRequest(http.MethodGet, portal+"/home", nil)
	req.Header.Set("Cookie", "lang=el; smartpath=1")
	resp, err = stranger.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	refused(t, "other cookies", resp, readAll(t, resp))

	for name, ts := range map[string]*testServer{"portal": c.portal, "sso": c.sso, "static": c.static} {
		if n := len(ts.requests()); n != 0 {
			t.Errorf("%d refused requests reached the %s origin", n, name)
		}
		if ts.full.Load()+ts.resumed.Load() != 0 {
			t.Errorf("a refused request made a TLS connection to the %s origin", name)
		}
	}
	if s.Signatures() != 0 {
		t.Errorf("refused requests cost %d card signatures", s.Signatures())
	}
	if n := onRequest.Load(); n != 0 {
		t.Errorf("refused requests counted as the citizen's activity %d times", n)
	}

	// The webview, with the cookie from HomeURL, is served on every origin and its websocket
	// upgrade carries the cookie.
	cl := webview(t, s)
	for _, u := range []string{portal + "/home", sso + "/cookie", static + "/app.css"} {
		if resp, _ := get(t, cl, u); resp.StatusCode != http.StatusOK {
			t.Errorf("webview GET %s: %s", u, resp.Status)
		}
	}
	ws, resp, err = (&websocket.Dialer{Jar: cl.Jar}).Dial("ws"+strings.TrimPrefix(portal, "http")+"/ws", http.Header{"Origin": {portal}})
	if err != nil {
		t.Fatalf("websocket upgrade with the cookie: %v %v", err, resp)
	}
	defer ws.Close()
	if err := ws.WriteMessage(websocket.TextMessage, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != "echo:hi" {
		t.Errorf("websocket echo %q, %v", msg, err)
	}
}

// The enter endpoint: the right secret gets the cookie and a redirect to the home page; a
// wrong secret, another method, another origin or a mangled path gets 403 and no cookie.
func TestEnterEndpoint(t *testing.T) {
	c := newCouncil(t, serverOpts{})
	cd := c.ca.card(t, "p256", "Jane Citizen")
	s := startSession(t, c.config(), cd.cert)
	origin, secret, path := enterParts(t, s.HomeURL())
	if path != "/home" {
		t.Errorf("HomeURL path after the secret = %q, want /home", path)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(secret); err != nil || len(raw) != 32 {
		t.Errorf("secret %q is not 32 bytes of base64url (%v)", secret, err)
	}
	if want := s.LocalURL(c.portal.url); origin != want {
		t.Errorf("HomeURL origin %s, want the home origin %s", origin, want)
	}

	ck := sessionCookie(t, s)
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Secure ||
		ck.Domain != "" || !ck.Expires.IsZero() || ck.MaxAge != 0 || ck.RawExpires != "" {
		t.Errorf("cookie attributes %+v, want HttpOnly, SameSite=Strict, Path=/, host-only, no expiry", ck)
	}
	if !strings.HasPrefix(ck.Name, "smartpath-") || ck.Value == secret || len(ck.Value) != 43 {
		t.Errorf("cookie %s=%s: want a smartpath- name and a 32-byte value other than the secret", ck.Name, ck.Value)
	}

	stranger := strangerClient(t)
	resp, _ := get(t, stranger, s.HomeURL())
	if got := resp.Header.Get("Location"); got != "/home" {
		t.Errorf("enter Location %q, want /home", got)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("enter Cache-Control %q, want no-store", resp.Header.Get("Cache-Control"))
	}
	// The path after the secret is where the webview goes; it cannot name another host.
	for in, want := range map[string]string{
		"":                              "/",
		"/":                             "/",
		"/repairs/7?lang=el":            "/repairs/7?lang=el",
		"//evil.example/x":              "/evil.example/x",
		`/\evil.example/x`:              "/evil.example/x",
		"/%2F%2Fevil.example":           "/evil.example",
		"/a%20b":                        "/a%20b",
		"/x?next=//evil.example":        "/x?next=//evil.example",
		"/..%2F..%2Fetc?z":              "/..%2F..%2Fetc?z",
		"/?" + strings.Repeat("q", 100): "/?" + strings.Repeat("q", 100),
	} {
		resp, _ := get(t, stranger, origin+enterPrefix+secret+in)
		if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || got != want {
			t.Errorf("enter%s: %s Location %q, want 303 %q", in, resp.Status, got, want)
		}
	}

	wrong := []byte(secret)
	wrong[5] ^= 1
	other := sessionCookie(t, startSession(t, c.config(), cd.cert)) // another session's cookie
	sso, static := s.LocalURL(c.sso.url), s.LocalURL(c.static.url)
	for _, u := range []string{
		origin + enterPrefix + string(wrong) + "/home",
		origin + enterPrefix + secret[:42] + "/home",
		origin + enterPrefix + secret + "x/home",
		origin + enterPrefix + "/home",
		origin + enterPrefix + ck.Value + "/home", // the cookie's value is not the secret
		origin + "/__smartpath/enter?s=" + secret,
		origin + "/__smartpath/" + secret + "/home",
		origin + "/home?s=" + secret,
		sso + enterPrefix + secret + "/", // enter is on the home origin only
		static + enterPrefix + secret + "/",
	} {
		resp, body := get(t, stranger, u)
		refused(t, strings.Replace(u, secret, "<secret>", 1), resp, body)
	}
	for _, m := range []string{http.MethodPost, http.MethodPut} {
		req, _ := http.NewRequest(m, s.HomeURL(), nil)
		resp, err := stranger.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		refused(t, m+" enter", resp, readAll(t, resp))
	}
	// Wrong cookies: right name and wrong value, the secret as value, the right value under
	// another name, another session's cookie.
	for _, cookie := range []string{ck.Name + "=" + string(wrong), ck.Name + "=" + secret, "smartpath-0=" + ck.Value,
		ck.Name + "=" + ck.Value + "x", other.Name + "=" + other.Value, ck.Name + "=", strings.ToUpper(ck.Name) + "=" + ck.Value} {
		req, _ := http.NewRequest(http.MethodGet, origin+"/home", nil)
		req.Header.Set("Cookie", cookie)
		resp, err := stranger.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		refused(t, "cookie "+cookie, resp, readAll(t, resp))
	}
	if n := len(c.portal.requests()); n != 0 {
		t.Errorf("%d requests of this test reached the portal, want none", n)
	}

	// With the cookie, even beside others, the webview is served; the reserved paths stay
	// the proxy's and are never forwarded.
	for _, cookie := range []string{ck.Name + "=" + ck.Value, "lang=en; " + ck.Name + "=" + ck.Value + "; " + ck.Name + "=bad"} {
		req, _ := http.NewRequest(http.MethodGet, origin+"/page/1", nil)
		req.Header.Set("Cookie", cookie)
		resp, err := stranger.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if body := readAll(t, resp); resp.StatusCode != http.StatusOK || body != "ok /page/1" {
			t.Errorf("with the cookie %q: %s %q", cookie, resp.Status, body)
		}
	}
	for _, p := range []string{"/__smartpath/", "/__smartpath/x", enterPrefix + string(wrong) + "/page/1", "/%5F%5Fsmartpath/enter/x/"} {
		req, _ := http.NewRequest(http.MethodGet, origin+p, nil)
		req.Header.Set("Cookie", ck.Name+"="+ck.Value)
		resp, err := stranger.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		refused(t, "reserved "+p, resp, readAll(t, resp))
	}
	if n := len(c.portal.requests()); n != 2 {
		t.Errorf("%d requests reached the portal, want the 2 served ones", n)
	}
}

// The enter URL works as long as the session lives, not once only: the kiosk UI may load it
// again (a restarted webview has no cookie). After the redirect the frame's URL is the plain
// home path, so a reload carries the cookie and needs no secret.
func TestEnterReusableWithinSession(t *testing.T) {
	c := newCouncil(t, serverOpts{})
	cd := c.ca.card(t, "p256", "Jane Citizen")
	s := startSession(t, c.config(), cd.cert)
	first := sessionCookie(t, s)
	if again := sessionCookie(t, s); again.Name != first.Name || again.Value != first.Value {
		t.Errorf("second enter set %s=%s, want the same cookie", again.Name, again.Value)
	}
	cl := localClient(t)
	resp, body := get(t, cl, s.HomeURL())
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Hello Jane Citizen") {
		t.Fatalf("home through enter: %s %q", resp.Status, body)
	}
	if got, want := resp.Request.URL.String(), s.LocalURL(c.portal.url)+"/home"; got != want {
		t.Errorf("the frame's URL after enter is %s, want the plain home page %s", got, want)
	}
	for range 2 { // reloads
		if resp, _ := get(t, cl, resp.Request.URL.String()); resp.StatusCode != http.StatusOK {
			t.Errorf("reload: %s", resp.Status)
		}
	}
	// A fresh webview (the UI restarted) enters with the same URL.
	if resp, _ := get(t, localClient(t), s.HomeURL()); resp.StatusCode != http.StatusOK {
		t.Errorf("second webview: %s", resp.Status)
	}
}

// Session end kills the secret and the cookie: the next session, on the same ports, refuses
// both, and each session has its own cookie name.
func TestOldSecretAndCookieRefusedAfterClose(t *testing.T) {
	c := newCouncil(t, serverOpts{})
	cd := c.ca.card(t, "p256", "Jane Citizen")
	cfg := c.config()
	// Both sessions on one configured block of ports, as on a kiosk. The block is below the
	// ephemeral range, so no client connection on the machine can take one of its ports
	// between the two sessions.
	cfg.FirstPort = freePortBlock(t, 2)
	s1 := startSession(t, cfg, cd.cert)
	home1 := s1.HomeURL()
	ck1 := sessionCookie(t, s1)
	cl := localClient(t)
	if resp, _ := get(t, cl, home1); resp.StatusCode != http.StatusOK {
		t.Fatalf("first session home: %s", resp.Status)
	}
	portal1 := s1.LocalURL(c.portal.url)
	s1.Close()
	cl.CloseIdleConnections()
	if s1.HomeURL() != "" {
		t.Errorf("HomeURL after Close = %q, want empty", s1.HomeURL())
	}
	if s1.access.secret != nil || s1.access.value != nil {
		t.Error("the closed session still holds its secret or cookie value")
	}

	s2 := startSession(t, cfg, cd.cert)
	if s2.LocalURL(c.portal.url) != portal1 {
		t.Fatalf("second session on %s, want the first one's %s", s2.LocalURL(c.portal.url), portal1)
	}
	ck2 := sessionCookie(t, s2)
	if ck2.Name == ck1.Name || ck2.Value == ck1.Value {
		t.Errorf("second session reuses the cookie name or value: %s", ck2.Name)
	}
	_, secret1, _ := enterParts(t, home1)
	_, secret2, _ := enterParts(t, s2.HomeURL())
	if secret1 == secret2 {
		t.Error("second session reuses the secret")
	}
	before := len(c.portal.requests())
	resp, body := get(t, strangerClient(t), home1)
	refused(t, "the last session's enter URL", resp, body)
	resp, body = get(t, cl, portal1+"/home") // the jar holds the last session's cookie
	refused(t, "the last session's cookie", resp, body)
	req, _ := http.NewRequest(http.MethodGet, portal1+"/home", nil)
	req.Header.Set("Cookie", ck1.Name+"="+ck1.Value)
	resp, err := strangerClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	refused(t, "the last session's cookie by hand", resp, readAll(t, resp))
	if n := len(c.portal.requests()) - before; n != 0 {
		t.Errorf("%d requests with the last session's credentials reached the portal", n)
	}
	if resp, body := get(t, cl, s2.HomeURL()); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Hello") {
		t.Errorf("the second session's own enter URL: %s", resp.Status)
	}
}

// The portal never sees the proxy's cookie or the secret: not in headers, not in a path or
// query, not on the websocket upgrade, on any origin.
func TestUpstreamNeverSeesAccessCredentials(t *testing.T) {
	c := newCouncil(t, serverOpts{h2: true})
	cd := c.ca.card(t, "p256", "Jane Citizen")
	s := startSession(t, c.config(), cd.cert)
	_, secret, _ := enterParts(t, s.HomeURL())
	cl := localClient(t)
	get(t, cl, s.HomeURL())
	ck := cookieHeader(t, cl, s)
	name, value, _ := strings.Cut(ck, "=")
	portal := s.LocalURL(c.portal.url)
	get(t, cl, portal+"/headers")
	get(t, cl, portal+"/whoami?q=1")
	get(t, cl, s.LocalURL(c.sso.url)+"/cookie")
	get(t, cl, s.LocalURL(c.static.url)+"/app.css")
	get(t, cl, s.HomeURL()[:len(portal)]+enterPrefix+secret+"/page/9?z=1")
	req, _ := http.NewRequest(http.MethodPost, portal+"/page/2", strings.NewReader("a=1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := cl.Do(req); err == nil {
		readAll(t, resp)
	}
	ws, _, err := (&websocket.Dialer{Jar: cl.Jar}).Dial("ws"+strings.TrimPrefix(portal, "http")+"/ws", http.Header{"Origin": {portal}})
	if err != nil {
		t.Fatalf("websocket: %v", err)
	}
	ws.Close()

	n := 0
	for origin, ts := range map[string]*testServer{"portal": c.portal, "sso": c.sso, "static": c.static} {
		for _, r := range ts.requests() {
			n++
			var all bytes.Buffer
			all.WriteString(r.uri + "\n")
			r.header.Write(&all)
			for _, leak := range []string{secret, value, name, "__smartpath"} {
				if strings.Contains(all.String(), leak) {
					t.Errorf("the %s origin saw %q in:\n%s", origin, leak, all.String())
				}
			}
		}
	}
	if n < 8 {
		t.Errorf("the portal saw %d requests, want at least 8", n)
	}
	// The portal's own cookie still works: the jar is untouched by the access cookie.
	_, who := get(t, cl, portal+"/whoami")
	if !strings.Contains(who, "sid=citizen-1") {
		t.Errorf("whoami = %q, want the portal's own cookie", who)
	}
}

// Refused requests are logged at warn with the reason and without the path, the query or any
// secret; a flood of them logs a bounded number of lines.
func TestRefusalLog(t *testing.T) {
	c := newCouncil(t, serverOpts{})
	cd := c.ca.card(t, "p256", "Jane Citizen")
	cfg := c.config()
	var logs syncBuffer
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := startSession(t, cfg, cd.cert)
	_, secret, _ := enterParts(t, s.HomeURL())
	stranger := strangerClient(t)
	portal := s.LocalURL(c.portal.url)
	get(t, stranger, portal+"/repairs/jane-private?nino=AB123456C")
	wrong := []byte(secret)
	wrong[0] ^= 1
	get(t, stranger, portal+enterPrefix+string(wrong)+"/home?nino=AB123456C")
	out := logs.String()
	for _, want := range []string{`"level":"WARN"`, `"reason":"no access cookie"`, `"reason":"enter URL not valid"`, `"remote":"127.0.0.1:`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	for _, bad := range []string{"AB123456C", "nino", "jane", "repairs", secret, string(wrong), "/home"} {
		if strings.Contains(out, bad) {
			t.Errorf("log contains %q:\n%s", bad, out)
		}
	}
	for range 2 * maxRefusalLogs {
		get(t, stranger, portal+"/x")
	}
	if n := strings.Count(logs.String(), "refused a request without the session's access cookie"); n != maxRefusalLogs {
		t.Errorf("%d refusal warnings for %d refused requests, want %d", n, 2*maxRefusalLogs+2, maxRefusalLogs)
	}
	if !strings.Contains(logs.String(), "further refused requests of this session are not logged") {
		t.Error("no note that further refusals are not logged")
	}
}
