package kioskui

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// maxURLLen bounds every URL the shell parses (start URL, URL file, navigation requests).
const maxURLLen = 4096

// origin is a web origin; port is "" for the scheme's default port and "*" for any port.
type origin struct {
	scheme, host, port string
}

func (o origin) String() string {
	host := o.host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if o.port == "" {
		return o.scheme + "://" + host
	}
	return o.scheme + "://" + host + ":" + o.port
}

// matches says whether the concrete origin c is covered by o.
func (o origin) matches(c origin) bool {
	return o.scheme == c.scheme && o.host == c.host && (o.port == c.port || (o.port == "*" && c.port != ""))
}

var defaultPorts = map[string]string{"http": "80", "https": "443", "ws": "80", "wss": "443"}

// originOf returns the origin of an absolute http(s) or ws(s) URL.
func originOf(raw string) (origin, error) {
	if len(raw) > maxURLLen {
		return origin{}, fmt.Errorf("URL longer than %d bytes", maxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return origin{}, err
	}
	return originOfURL(u)
}

func originOfURL(u *url.URL) (origin, error) {
	scheme := strings.ToLower(u.Scheme)
	def, ok := defaultPorts[scheme]
	if !ok {
		return origin{}, fmt.Errorf("scheme %q is not http, https, ws or wss", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return origin{}, errors.New("URL has no host")
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == def {
		port = ""
	}
	if host == "" {
		return origin{}, errors.New("URL has no host")
	}
	return origin{scheme: scheme, host: host, port: port}, nil
}

// parseOriginPattern parses an allowed origin, "scheme://host[:port]" with port "*" for
// any port. Paths other than "/", queries, fragments and user info are refused so that a
// typo cannot silently widen or narrow the allow-list.
func parseOriginPattern(s string) (origin, error) {
	if len(s) > maxURLLen {
		return origin{}, fmt.Errorf("longer than %d bytes", maxURLLen)
	}
	wild := false
	if strings.HasSuffix(s, ":*") {
		wild = true
		s = strings.TrimSuffix(s, ":*")
	} else if strings.HasSuffix(s, ":*/") {
		wild = true
		s = strings.TrimSuffix(s, ":*/")
	}
	u, err := url.Parse(s)
	if err != nil {
		return origin{}, err
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return origin{}, errors.New("want scheme://host[:port] with nothing after it")
	}
	o, err := originOfURL(u)
	if err != nil {
		return origin{}, err
	}
	if o.scheme != "http" && o.scheme != "https" {
		return origin{}, errors.New("want an http or https origin")
	}
	if wild {
		if u.Port() != "" {
			return origin{}, errors.New("a port and a wildcard port")
		}
		o.port = "*"
	}
	return o, nil
}

// parseStartURL checks the URL the shell opens: http(s) on a loopback host (every agent
// listener binds loopback), without user info.
func parseStartURL(s string) (*url.URL, error) {
	if len(s) > maxURLLen {
		return nil, fmt.Errorf("longer than %d bytes", maxURLLen)
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("want http://127.0.0.1:<port>/#token=..., got scheme %q", u.Scheme)
	}
	if u.User != nil {
		return nil, errors.New("user info is not allowed in the start URL")
	}
	if !isLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("host %q is not loopback: the kiosk UI is served by the local agent", u.Hostname())
	}
	return u, nil
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// policy is what the shell may load: the UI origin as the top-level document; the UI
// origin and the frame origins inside frames and as subresources.
type policy struct {
	ui     origin
	frames []origin
}

func newPolicy(startURL string, frameOrigins []string) (policy, error) {
	u, err := parseStartURL(startURL)
	if err != nil {
		return policy{}, err
	}
	ui, err := originOfURL(u)
	if err != nil {
		return policy{}, err
	}
	p := policy{ui: ui}
	for _, f := range frameOrigins {
		o, err := parseOriginPattern(f)
		if err != nil {
			return policy{}, fmt.Errorf("frame origin %q: %w", f, err)
		}
		p.frames = append(p.frames, o)
	}
	return p, nil
}

// isLocalDocument reports about:blank and about:srcdoc, which load nothing from a server.
func isLocalDocument(uri string) bool {
	return uri == "about:blank" || uri == "about:srcdoc"
}

// allowNavigation decides a navigation in any frame. The top-level document is checked
// again when its response arrives (allowMainDocument) and when it commits.
func (p policy) allowNavigation(uri string) bool {
	if isLocalDocument(uri) {
		return true
	}
	o, err := originOf(uri)
	if err != nil || (o.scheme != "http" && o.scheme != "https") {
		return false
	}
	if p.ui.matches(o) {
		return true
	}
	for _, f := range p.frames {
		if f.matches(o) {
			return true
		}
	}
	return false
}

// allowMainDocument decides the top-level document: only the UI origin.
func (p policy) allowMainDocument(uri string) bool {
	if isLocalDocument(uri) {
		return true // the shell's own "Starting…" page; guarded when it commits
	}
	o, err := originOf(uri)
	return err == nil && p.ui.matches(o)
}

// isUI says whether uri is on the UI origin.
func (p policy) isUI(uri string) bool {
	o, err := originOf(uri)
	return err == nil && p.ui.matches(o)
}

// logOrigin is what the shell logs of a URL: its origin only, never a path or token.
func logOrigin(uri string) string {
	if isLocalDocument(uri) {
		return uri
	}
	o, err := originOf(uri)
	if err != nil {
		if i := strings.IndexByte(uri, ':'); i > 0 && i < 16 {
			return uri[:i] + ":…"
		}
		return "(unparsable)"
	}
	return o.String()
}
