package proxy

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Paths the proxy keeps for itself on every local origin. Nothing under reservedPrefix is
// ever forwarded to the portal, so a secret in such a path cannot reach it even mistyped.
const (
	reservedPrefix = "/__smartpath/"
	enterPrefix    = reservedPrefix + "enter/"
)

// accessSecretBytes is the size of the enter secret and of the cookie value before base64url.
const accessSecretBytes = 32

// maxRefusalLogs bounds the warnings one session logs for refused requests, so that a local
// process hammering the ports cannot flood the journal.
const maxRefusalLogs = 50

// access is who may use a session's local origins. Any local process can connect to them,
// but only the webview that loaded [Session.HomeURL] holds the session's cookie: the enter
// URL carries a random secret, the enter endpoint answers it with an HttpOnly, SameSite=Strict
// cookie and a redirect to the home page, and every other request must carry that cookie.
// Cookies on 127.0.0.1 are shared by all its ports, so the one cookie admits the webview to
// every local origin of the session.
type access struct {
	mu     sync.RWMutex
	secret []byte // base64url text; nil once the session has ended
	value  []byte // the cookie's value, base64url text; nil once the session has ended
	name   string // the cookie's name, new for every session

	refusals int // guarded by mu (write lock); counts refused requests for the log bound
}

// newAccess draws a session's enter secret, cookie name and cookie value from crypto/rand.
func newAccess() (*access, error) {
	b := make([]byte, 2*accessSecretBytes+8)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("portal proxy: no randomness for the session's access secret: %w", err)
	}
	a := &access{
		secret: encodeSecret(b[:accessSecretBytes]),
		value:  encodeSecret(b[accessSecretBytes : 2*accessSecretBytes]),
		name:   "smartpath-" + hex.EncodeToString(b[2*accessSecretBytes:]),
	}
	clear(b)
	return a, nil
}

func encodeSecret(raw []byte) []byte {
	out := make([]byte, base64.RawURLEncoding.EncodedLen(len(raw)))
	base64.RawURLEncoding.Encode(out, raw)
	return out
}

// enterURL is the local URL of the enter endpoint for the home page at homePath (escaped
// path, optional query); "" once the session has ended.
func (a *access) enterURL(localOrigin, homePath string) string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.secret == nil {
		return ""
	}
	return localOrigin + enterPrefix + string(a.secret) + homePath
}

// hasCookie says whether r carries the session's cookie with the right value.
func (a *access) hasCookie(r *http.Request) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.value == nil {
		return false
	}
	ok := false
	for _, c := range r.CookiesNamed(a.name) {
		if subtle.ConstantTimeCompare([]byte(c.Value), a.value) == 1 {
			ok = true
		}
	}
	return ok
}

// enter checks the secret in an enter path (decoded path p, escaped path esc). On success it
// returns the cookie to set and the local path to send the webview to: the rest of the path
// after the secret, with the query.
func (a *access) enter(p, esc, rawQuery string) (*http.Cookie, string, bool) {
	rest, ok := strings.CutPrefix(p, enterPrefix)
	if !ok {
		return nil, "", false
	}
	given, rest, _ := strings.Cut(rest, "/")
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.secret == nil || subtle.ConstantTimeCompare([]byte(given), a.secret) != 1 {
		return nil, "", false
	}
	rawRest := ""
	if r, ok := strings.CutPrefix(esc, enterPrefix+given+"/"); ok {
		rawRest = r
	}
	// A leading "//" or "/\" would make the Location a reference to another host.
	target := &url.URL{
		Path:     "/" + strings.TrimLeft(rest, `/\`),
		RawPath:  "/" + strings.TrimLeft(rawRest, `/\`),
		RawQuery: rawQuery,
	}
	c := &http.Cookie{
		Name:     a.name,
		Value:    string(a.value),
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	}
	return c, target.RequestURI(), true
}

// isReserved says whether a local URL is under reservedPrefix (the enter URL, say), which
// must not be named to the portal, in a Referer for one.
func isReserved(local string) bool {
	u, err := url.Parse(local)
	return err != nil || strings.HasPrefix(u.Path, reservedPrefix)
}

// refused counts a refused request and says whether to log it, and whether this is the last
// one logged.
func (a *access) refused() (log, last bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refusals++
	return a.refusals <= maxRefusalLogs, a.refusals == maxRefusalLogs
}

// close forgets the secret and the cookie value: nothing admits a request any more.
func (a *access) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.secret)
	clear(a.value)
	a.secret, a.value = nil, nil
}

// refusalPage is the body of a 403 for a request without the session's cookie. The webview
// shows it only if it has lost the cookie; anyone else learns nothing from it.
const refusalPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Not available</title></head>
<body><main><h1>Not available</h1>
<p>This address shows the council portal only in the kiosk's own window, during the citizen's session.</p>
<p lang="el">Αυτή η διεύθυνση δείχνει την πύλη του δήμου μόνο στο παράθυρο του τερματικού, κατά τη συνεδρία του πολίτη.</p>
</main></body></html>
`

// guard lets through a request from the session's webview (it carries the cookie), answers
// the enter endpoint, and refuses everything else with 403. It returns true when the request
// is to be forwarded. Nothing under reservedPrefix is forwarded.
func (s *Session) guard(o *origin, w http.ResponseWriter, r *http.Request) bool {
	reason := "no access cookie"
	if strings.HasPrefix(r.URL.Path, reservedPrefix) {
		reason = "reserved path"
		if r.URL.Path == contrastPath && s.access.hasCookie(r) && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			serveContrast(w, r)
			return false
		}
		if strings.HasPrefix(r.URL.Path, enterPrefix) {
			reason = "enter URL not valid"
			switch {
			case o.index != 0:
				reason = "enter on another origin than home"
			case r.Method != http.MethodGet && r.Method != http.MethodHead:
				reason = "enter with method " + sanitizeMethod(r.Method)
			default:
				if c, target, ok := s.access.enter(r.URL.Path, r.URL.EscapedPath(), r.URL.RawQuery); ok {
					h := w.Header()
					h.Set("Cache-Control", "no-store")
					h.Set("Referrer-Policy", "no-referrer")
					h.Set("Location", target)
					http.SetCookie(w, c)
					w.WriteHeader(http.StatusSeeOther)
					return false
				}
			}
		}
	} else if s.access.hasCookie(r) {
		return true
	} else if len(r.CookiesNamed(s.access.name)) > 0 {
		reason = "wrong access cookie"
	}
	if log, last := s.access.refused(); log {
		// No URL: the path and query may carry citizen data, or a secret.
		s.log.Warn("portal proxy refused a request without the session's access cookie: "+
			"only the kiosk window may use the citizen's portal session",
			"reason", reason, "method", sanitizeMethod(r.Method), "origin", o.index, "remote", r.RemoteAddr)
		if last {
			s.log.Warn("portal proxy: further refused requests of this session are not logged", "logged", maxRefusalLogs)
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; "+s.origins.frameAncestors())
	w.WriteHeader(http.StatusForbidden)
	if r.Method != http.MethodHead {
		io.WriteString(w, refusalPage)
	}
	return false
}
