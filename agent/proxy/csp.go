package proxy

import (
	"strings"
)

// rewriteCSP maps the sources of a Content-Security-Policy that name configured origins to
// their local origins, drops the directives that cannot hold behind a loopback proxy
// (upgrade-insecure-requests, block-all-mixed-content) and replaces frame-ancestors with
// frameAncestors.
func (m *originMap) rewriteCSP(policy string) string {
	var parts []string
	for _, d := range strings.Split(policy, ";") {
		f := cspFields(d)
		if len(f) == 0 {
			continue
		}
		switch strings.ToLower(f[0]) {
		case "frame-ancestors", "upgrade-insecure-requests", "block-all-mixed-content":
			continue
		}
		out := []string{f[0]}
		seen := map[string]bool{}
		for _, src := range f[1:] {
			for _, s := range m.cspSource(src) {
				if !seen[s] {
					seen[s] = true
					out = append(out, s)
				}
			}
		}
		parts = append(parts, strings.Join(out, " "))
	}
	parts = append(parts, m.frameAncestors())
	return strings.Join(parts, "; ")
}

// frameAncestors is the one frame-ancestors directive of every proxied page: the UI origin
// (the portal frame) and the session's own proxy origins, so that a portal may frame its
// own pages (a document viewer, an SSO or payment iframe) and nothing else may.
func (m *originMap) frameAncestors() string {
	return strings.Join(append([]string{"frame-ancestors", m.ui}, m.localSources("http://")...), " ")
}

// cspFields splits a directive at ASCII whitespace, as CSP does.
func cspFields(d string) []string {
	return strings.FieldsFunc(d, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f'
	})
}

// cspSource returns what one source expression becomes: itself, or the local origins of the
// configured origins it matches.
func (m *originMap) cspSource(src string) []string {
	if src == "" || src[0] == '\'' || src == "*" {
		return []string{src}
	}
	lower := strings.ToLower(src)
	switch lower {
	case "https:":
		return append([]string{src}, m.localSources("http://")...)
	case "wss:":
		return append([]string{src}, m.localSources("ws://")...)
	}
	if strings.HasSuffix(src, ":") && !strings.Contains(src, "/") {
		return []string{src} // another scheme-source
	}
	scheme, rest := "", src
	if i := strings.Index(src, "://"); i >= 0 {
		scheme, rest = strings.ToLower(src[:i]), src[i+3:]
	}
	if scheme != "" && scheme != "https" && scheme != "wss" {
		return []string{src}
	}
	hostport, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		hostport, path = rest[:i], rest[i:]
	}
	host, port := hostport, ""
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.HasSuffix(hostport, "]") {
		host, port = hostport[:i], hostport[i+1:]
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if host == "" {
		return []string{src}
	}
	var out []string
	for _, o := range m.list {
		if o.localHost == "" {
			continue
		}
		switch {
		case port == "*":
		case port == "" && o.port == "443":
		case port == o.port:
		default:
			continue
		}
		if wild, ok := strings.CutPrefix(host, "*."); ok {
			if !strings.HasSuffix(o.hostname, "."+wild) {
				continue
			}
		} else if host != o.hostname {
			continue
		}
		switch scheme {
		case "https":
			out = append(out, "http://"+o.localHost+path)
		case "wss":
			out = append(out, "ws://"+o.localHost+path)
		default:
			out = append(out, "http://"+o.localHost+path, "ws://"+o.localHost+path)
		}
	}
	if len(out) == 0 {
		return []string{src}
	}
	return out
}

func (m *originMap) localSources(prefix string) []string {
	var out []string
	for _, o := range m.list {
		if o.localHost != "" {
			out = append(out, prefix+o.localHost)
		}
	}
	return out
}
