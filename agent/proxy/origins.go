package proxy

import (
	"net"
	"net/url"

	"strings"
)

// origin is one configured upstream origin and the local origin that serves it.
type origin struct {
	index       int
	hostname    string // lower case, no brackets
	port        string // explicit, "443" by default
	upHost      string // host[:port] as it goes into URLs and Host headers (port omitted if 443)
	upOrigin    string // https://upHost
	localHost   string // 127.0.0.1:port
	localOrigin string // http://127.0.0.1:port
}

// originMap translates URLs between the local origins and the configured upstream origins.
// It is built once per session and read-only afterwards.
type originMap struct {
	list    []*origin
	byUp    map[string]*origin // hostname:port
	byLocal map[string]*origin // 127.0.0.1:port
	ui      string             // the UI origin, the only frame ancestor
}

// newOriginMap lists home's origin first, then each other distinct origin.
func newOriginMap(home *url.URL, others []*url.URL, ui string) *originMap {
	m := &originMap{byUp: map[string]*origin{}, byLocal: map[string]*origin{}, ui: ui}
	for _, u := range append([]*url.URL{home}, others...) {
		host := strings.ToLower(u.Hostname())
		port := u.Port()
		if port == "" {
			port = "443"
		}
		key := net.JoinHostPort(host, port)
		if m.byUp[key] != nil {
			continue
		}
		upHost := host
		if strings.Contains(host, ":") {
			upHost = "[" + host + "]"
		}
		if port != "443" {
			upHost = net.JoinHostPort(host, port)
		}
		o := &origin{index: len(m.list), hostname: host, port: port, upHost: upHost, upOrigin: "https://" + upHost}
		m.list = append(m.list, o)
		m.byUp[key] = o
	}
	return m
}

// bind records the local address that serves o.
func (m *originMap) bind(o *origin, addr string) {
	o.localHost = addr
	o.localOrigin = "http://" + addr
	m.byLocal[addr] = o
}

// upstream finds the configured origin of an upstream URL host ("host" or "host:port") for a
// URL scheme; only https and wss (and scheme-relative "") reach configured origins.
func (m *originMap) upstream(scheme, host string) *origin {
	switch strings.ToLower(scheme) {
	case "https", "wss", "":
	default:
		return nil
	}
	h, p, err := net.SplitHostPort(host)
	if err != nil {
		h, p = strings.Trim(host, "[]"), "443"
	}
	if p == "" {
		p = "443"
	}
	return m.byUp[net.JoinHostPort(strings.ToLower(h), p)]
}

// local finds the origin served at a local http or ws URL host.
func (m *originMap) local(scheme, host string) *origin {
	switch strings.ToLower(scheme) {
	case "http", "ws", "":
	default:
		return nil
	}
	return m.byLocal[strings.ToLower(host)]
}

// toLocalURL rewrites an upstream URL reference to the local origin. A reference without a
// host stays as it is (it resolves against the local origin the same way). ok is false for an
// absolute reference that is not a configured origin, or one that does not parse.
func (m *originMap) toLocalURL(ref string) (string, bool) {
	u, err := url.Parse(browserClean(ref))
	if err != nil {
		return "", false
	}
	if u.Host == "" && u.Scheme == "" {
		if u.User != nil || u.Opaque != "" {
			return "", false
		}
		return u.String(), true
	}
	o := m.upstream(u.Scheme, u.Host)
	if o == nil || u.User != nil || o.localHost == "" {
		return "", false
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "ws"
	}
	u.Host = o.localHost
	return u.String(), true
}

// toUpstreamURL rewrites a local URL to its upstream origin; ok is false when ref is not an
// absolute URL on a local origin.
func (m *originMap) toUpstreamURL(ref string) (string, bool) {
	u, err := url.Parse(ref)
	if err != nil || u.Host == "" {
		return "", false
	}
	o := m.local(u.Scheme, u.Host)
	if o == nil || u.User != nil {
		return "", false
	}
	if strings.EqualFold(u.Scheme, "ws") {
		u.Scheme = "wss"
	} else {
		u.Scheme = "https"
	}
	u.Host = o.upHost
	return u.String(), true
}

// originToLocal maps a serialised upstream origin (as in Access-Control-Allow-Origin) to the
// local one; other values are returned unchanged.
func (m *originMap) originToLocal(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return v
	}
	if o := m.upstream(u.Scheme, u.Host); o != nil && o.localHost != "" && u.Scheme != "" {
		return o.localOrigin
	}
	return v
}

// originToUpstream maps a local serialised origin (the Origin request header) upstream.
func (m *originMap) originToUpstream(v string) (string, bool) {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return "", false
	}
	if o := m.local(u.Scheme, u.Host); o != nil && u.Scheme != "" {
		return o.upOrigin, true
	}
	return "", false
}

// rewriteRefresh rewrites the URL of a Refresh header ("5; url=https://…"). ok is false when
// the URL leaves the configured origins.
func (m *originMap) rewriteRefresh(v string) (string, bool) {
	delay, rest, found := strings.Cut(v, ";")
	if !found {
		delay, rest, found = strings.Cut(v, ",")
	}
	if !found {
		return v, true
	}
	rest = strings.TrimLeft(rest, " \t")
	if len(rest) >= 3 && strings.EqualFold(rest[:3], "url") {
		rest = strings.TrimLeft(rest[3:], " \t")
		if !strings.HasPrefix(rest, "=") {
			return "", false
		}
		rest = strings.TrimLeft(rest[1:], " \t")
	}
	if n := len(rest); n >= 2 && (rest[0] == '\'' || rest[0] == '"') && rest[n-1] == rest[0] {
		rest = rest[1 : n-1]
	}
	if rest == "" {
		return strings.TrimSpace(delay), true
	}
	u, ok := m.toLocalURL(rest)
	if !ok {
		return "", false
	}
	return strings.TrimSpace(delay) + "; url=" + u, true
}

// rewriteLink rewrites each <URI-reference> of a Link header that names a configured origin.
func (m *originMap) rewriteLink(v string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(v, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			break
		}
		b.WriteString(v[:i+1])
		ref := v[i+1 : i+j]
		if l, ok := m.toLocalURL(ref); ok && !strings.ContainsAny(l, "<>") {
			b.WriteString(l)
		} else {
			b.WriteString(ref)
		}
		b.WriteByte('>')
		v = v[i+j+1:]
	}
	b.WriteString(v)
	return b.String()
}

// localReplacements returns the strings that stand for local origins in a query string or
// url-encoded form, with their upstream equivalents: plain and percent-encoded.
func (m *originMap) localReplacements() []string {
	var r []string
	for _, o := range m.list {
		if o.localHost == "" {
			continue
		}
		r = append(r,
			o.localOrigin, o.upOrigin,
			"ws://"+o.localHost, "wss://"+o.upHost,
			url.QueryEscape(o.localOrigin), url.QueryEscape(o.upOrigin),
			url.QueryEscape("ws://"+o.localHost), url.QueryEscape("wss://"+o.upHost),
		)
		// Lower-case percent escapes, as some encoders write them.
		if lo := strings.ToLower(url.QueryEscape(o.localOrigin)); lo != url.QueryEscape(o.localOrigin) {
			r = append(r, lo, url.QueryEscape(o.upOrigin))
		}
	}
	return r
}

// splitHostPort is net.SplitHostPort that accepts a missing port.
func splitHostPort(hp string) (host, port string) {
	if h, p, err := net.SplitHostPort(hp); err == nil {
		return h, p
	}
	return hp, ""
}

// browserClean reads a URL reference the way a browser does (WHATWG URL parsing) before Go
// parses it: leading and trailing spaces and controls trimmed, tabs and newlines removed, and
// a backslash before the query taken as a slash, so that "/\\evil.example" is seen for what the
// browser makes of it, "//evil.example".
func browserClean(ref string) string {
	ref = strings.TrimFunc(ref, func(r rune) bool { return r <= ' ' })
	ref = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, ref)
	end := strings.IndexAny(ref, "?#")
	if end < 0 {
		end = len(ref)
	}
	return strings.ReplaceAll(ref[:end], "\\", "/") + ref[end:]
}
