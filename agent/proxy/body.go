package proxy

import (
	"bytes"
	"net"
)

// rewriteBody rewrites absolute references to configured origins in an HTML or CSS body:
// https://host[:port], wss://host[:port] and //host[:port] become the local origin. A match
// must end at a URL delimiter, so https://portal.example.evil or https://portal.example@evil
// are left alone. It returns b itself when nothing changed.
func (m *originMap) rewriteBody(b []byte) ([]byte, bool) {
	var out []byte
	last := 0
	for i := 0; i < len(b); {
		j := bytes.Index(b[i:], []byte("//"))
		if j < 0 {
			break
		}
		p := i + j
		i = p + 2
		start, scheme := p, ""
		switch {
		case p >= 6 && bytes.EqualFold(b[p-6:p], []byte("https:")):
			start, scheme = p-6, "https"
		case p >= 4 && bytes.EqualFold(b[p-4:p], []byte("wss:")):
			start, scheme = p-4, "wss"
		}
		if start > 0 && (isSchemeChar(b[start-1]) || b[start-1] == ':') {
			continue // another scheme, or a path like a//b
		}
		h := p + 2
		e := h
		for e < len(b) && isHostChar(b[e]) {
			e++
		}
		if e == h {
			continue
		}
		host, port := string(b[h:e]), "443"
		if e < len(b) && b[e] == ':' {
			pe := e + 1
			for pe < len(b) && pe-e <= 5 && b[pe] >= '0' && b[pe] <= '9' {
				pe++
			}
			if pe == e+1 {
				continue
			}
			port, e = string(b[e+1:pe]), pe
		}
		if e < len(b) && !isURLDelimiter(b[e]) {
			i = e
			continue
		}
		o := m.byUp[net.JoinHostPort(string(bytes.ToLower([]byte(host))), port)]
		if o == nil || o.localHost == "" {
			i = e
			continue
		}
		var repl string
		switch scheme {
		case "https":
			repl = "http://" + o.localHost
		case "wss":
			repl = "ws://" + o.localHost
		default:
			repl = "//" + o.localHost
		}
		out = append(out, b[last:start]...)
		out = append(out, repl...)
		last, i = e, e
	}
	if out == nil {
		return b, false
	}
	return append(out, b[last:]...), true
}

func isSchemeChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'
}

func isHostChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.'
}

func isURLDelimiter(c byte) bool {
	switch c {
	case '/', '?', '#', '"', '\'', ')', '(', '<', '>', ',', ';', '\\', '`', ' ', '\t', '\r', '\n', '\f':
		return true
	}
	return false
}
