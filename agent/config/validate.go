package config

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"smartpath/kiosk-ui/screens"
	"smartpath/pcsc/piv"
)

var langRE = regexp.MustCompile(`^[a-z]{2,3}$`)

// validate checks values that decoded but may still be wrong. It runs only when decoding
// found no problems, so that every key's type is right here.
// unusableSlots are the PIV key slots the kiosk cannot authenticate a citizen with, and why.
var unusableSlots = map[piv.Slot]string{
	piv.Slot9C: "needs the PIN again right before every signature, and a session makes several; the kiosk asks for the PIN once",
	piv.Slot9D: "is the key management (encryption) key, not an authentication key",
	piv.Slot9E: "signs without the PIN, so the card's key would be used without the citizen having entered it",
}

func validate(name string, c *Config, d *decoder) {
	ports := portClaims{}
	validateUI(c.UI, d, ports)
	validatePortal(name, &c.Portal, d, ports)
	validateSession(c.Session, d)
	validateCard(&c.Card, d)
	validateAdminAndLog(c, d, ports)
}

// portClaims records which key listens on each port, so that no two listeners share one.
type portClaims map[int]string

func (p portClaims) claim(d *decoder, key string, port int) { p.claimAt(d, key, key, port) }

// claimAt claims port for name, reporting a clash on the line of key.
func (p portClaims) claimAt(d *decoder, key, name string, port int) {
	if other, ok := p[port]; ok {
		d.addf(d.line(key), name, "give each listener its own port", "port %d is also used by %s", port, other)
		return
	}
	p[port] = name
}

func validateUI(u UI, d *decoder, ports portClaims) {
	if port, ok := loopbackListen(d, "ui.listen", u.Listen, "127.0.0.1:8470"); ok {
		ports.claim(d, "ui.listen", port)
	}
	if u.URLFile == "" || !filepath.IsAbs(u.URLFile) {
		d.addf(d.line("ui.url_file"), "ui.url_file", "use an absolute path such as /run/smartpath/ui-url",
			"%q is not an absolute path", u.URLFile)
	}
	if len(u.Languages) == 0 {
		d.addf(d.line("ui.languages"), "ui.languages", "list at least one, e.g. [en, el]", "no languages")
	}
	for i, l := range u.Languages {
		if !langRE.MatchString(l) {
			d.addf(d.line("ui.languages"), fmt.Sprintf("ui.languages[%d]", i),
				"use lower-case ISO 639-1 codes such as en or el", "%q is not a language code", l)
		} else if have := screens.Languages(); !slices.Contains(have, l) {
			d.addf(d.line("ui.languages"), fmt.Sprintf("ui.languages[%d]", i),
				"use the languages the screens are translated into: "+strings.Join(have, ", "), "%q has no screens", l)
		}
	}
	if !slices.Contains(u.Languages, u.DefaultLanguage) {
		d.addf(d.line("ui.default_language"), "ui.default_language",
			"pick one of ui.languages", "%q is not in ui.languages %v", u.DefaultLanguage, u.Languages)
	}

	positive(d, "ui.shell_confirm_timeout", u.ShellConfirmTimeout, time.Minute)
}

func validatePortal(name string, p *Portal, d *decoder, ports portClaims) {
	origins := map[string]string{}
	if home, err := httpsURL(p.Home, true); err != nil {
		d.add(d.line("portal.home"), "portal.home", err, "use the portal's https:// address, e.g. https://portal.council.example/")
	} else {
		origins[originOf(home)] = "portal.home"
	}
	for i, o := range p.Origins {
		key := fmt.Sprintf("portal.origins[%d]", i)
		u, err := httpsURL(o, false)
		if err != nil {
			d.add(d.line("portal.origins"), key, err, "write just the origin, e.g. https://sso.council.example")
			continue
		}
		if other, dup := origins[originOf(u)]; dup {
			d.addf(d.line("portal.origins"), key, "list each origin once",
				"%s is already served for %s", originOf(u), other)
			continue
		}
		origins[originOf(u)] = key
	}
	for i, raw := range p.EndSessionURLs {
		key := fmt.Sprintf("portal.end_session_urls[%d]", i)
		u, err := httpsURL(raw, true)
		switch {
		case err != nil:
			d.add(d.line("portal.end_session_urls"), key, err, "write the portal's sign-out address, e.g. https://portal.council.example/logout")
		case origins[originOf(u)] == "":
			d.addf(d.line("portal.end_session_urls"), key, "use an address on portal.home's origin or one of portal.origins",
				"%s is not a portal origin", originOf(u))
		case u.RawQuery != "":
			d.addf(d.line("portal.end_session_urls"), key, "write the path only: the query is not compared", "%q has a query", raw)
		}
	}
	if err := checkCAFile(name, &p.CAFile); err != nil {
		d.add(d.line("portal.ca_file"), "portal.ca_file", err, "set it to the council's CA bundle (PEM)")
	}
	if ip, err := netip.ParseAddr(p.ListenHost); err != nil || !ip.IsLoopback() {
		d.addf(d.line("portal.listen_host"), "portal.listen_host",
			"use 127.0.0.1: the agent listens on loopback only", "%q is not a loopback IP address", p.ListenHost)
	}
	n := 1 + len(p.Origins)
	if p.FirstPort < 1 || p.FirstPort+n-1 > 65535 {
		d.addf(d.line("portal.first_port"), "portal.first_port",
			"use a free port such as 8471; the proxy needs one port per portal origin",
			"%d leaves no room for %d port(s)", p.FirstPort, n)
	} else {
		for i := 0; i < n; i++ {
			key := "portal.first_port"
			if i > 0 {
				key = fmt.Sprintf("portal.first_port (+%d for portal.origins[%d])", i, i-1)
			}
			ports.claimAt(d, "portal.first_port", key, p.FirstPort+i)
		}
	}
	positive(d, "portal.connect_timeout", p.ConnectTimeout, 5*time.Minute)
	positive(d, "portal.response_header_timeout", p.ResponseHeaderTimeout, 10*time.Minute)
}

func validateSession(s Session, d *decoder) {
	positive(d, "session.idle_timeout", s.IdleTimeout, 24*time.Hour)
	positive(d, "session.idle_warning", s.IdleWarning, 24*time.Hour)
	positive(d, "session.max_length", s.MaxLength, 24*time.Hour)
	positive(d, "session.goodbye_after", s.GoodbyeAfter, time.Hour)
	if s.IdleWarning > 0 && s.IdleWarning >= s.IdleTimeout {
		d.addf(d.line("session.idle_warning"), "session.idle_warning",
			"make it shorter than session.idle_timeout (it is the end of it)",
			"%s is not shorter than session.idle_timeout %s", s.IdleWarning, s.IdleTimeout)
	}
	if s.MaxLength > 0 && s.MaxLength < s.IdleTimeout {
		d.addf(d.line("session.max_length"), "session.max_length",
			"make it at least session.idle_timeout", "%s is shorter than session.idle_timeout %s", s.MaxLength, s.IdleTimeout)
	}
	pivRange := fmt.Sprintf("PIV PINs are %d to %d digits", piv.PINMinLen, piv.PINMaxLen)
	if s.PINMin < piv.PINMinLen || s.PINMin > piv.PINMaxLen {
		d.addf(d.line("session.pin_min"), "session.pin_min", pivRange+"; the usual is 6", "%d is out of range", s.PINMin)
	}
	if s.PINMax < piv.PINMinLen || s.PINMax > piv.PINMaxLen {
		d.addf(d.line("session.pin_max"), "session.pin_max", pivRange, "%d is out of range", s.PINMax)
	} else if s.PINMin > s.PINMax {
		d.addf(d.line("session.pin_max"), "session.pin_max", "make it at least session.pin_min",
			"%d is less than session.pin_min %d", s.PINMax, s.PINMin)
	}
}

func validateCard(c *Card, d *decoder) {
	c.Slot = strings.ToLower(c.Slot)
	if slot, ok := piv.SlotNamed(c.Slot); !ok {
		d.addf(d.line("card.slot"), "card.slot", "use 9a, the PIV authentication key",
			"%q is not a PIV key slot", c.Slot)
	} else if why, refused := unusableSlots[slot]; refused {
		d.addf(d.line("card.slot"), "card.slot", "use 9a, the PIV authentication key",
			"%s %s", slot, why)
	}
	if len(c.Reader) > 256 {
		d.addf(d.line("card.reader"), "card.reader", "use a short part of the reader's name", "too long")
	}
}

func validateAdminAndLog(c *Config, d *decoder, ports portClaims) {
	if port, ok := loopbackListen(d, "admin.listen", c.Admin.Listen, "127.0.0.1:8479"); ok {
		ports.claim(d, "admin.listen", port)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		d.addf(d.line("log.level"), "log.level", "use debug, info, warn or error", "%q is not a log level", c.Log.Level)
	}
	if !slices.Contains([]string{"json", "text"}, c.Log.Format) {
		d.addf(d.line("log.format"), "log.format", "use json (for journald and collectors) or text", "%q is not a log format", c.Log.Format)
	}
}

// loopbackListen checks a host:port listen address on a loopback IP.
func loopbackListen(d *decoder, key, addr, example string) (int, bool) {
	hint := "use " + example + ": the agent listens on loopback only"
	port, err := LoopbackAddr(addr)
	if err == nil && port == 0 {
		err = fmt.Errorf("port 0 is not a port number (1-65535)")
	}
	if err != nil {
		d.addf(d.line(key), key, hint, "%v", err)
		return 0, false
	}
	return port, true
}

// LoopbackAddr checks that addr is a loopback IP address and a port (docs/security.md,
// invariant 3) and returns the port (0: any free one, which tests use and Load refuses). It
// is the one check of a listen address: Load applies it to every listen key and agent.New
// again to the configuration it is given.
func LoopbackAddr(addr string) (int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("%q is not host:port", addr)
	}
	if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
		return 0, fmt.Errorf("%q is not a loopback IP address", host)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return 0, fmt.Errorf("%q is not a port number (1-65535)", portStr)
	}
	return port, nil
}

func positive(d *decoder, key string, v, max time.Duration) {
	if v <= 0 || v > max {
		d.addf(d.line(key), key, "", "%s is out of range (more than 0, at most %s)", v, max)
	}
}

// httpsURL parses an https URL; with path false it must be a bare origin.
func httpsURL(s string, path bool) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL", s)
	}
	switch {
	case u.Scheme != "https":
		return nil, fmt.Errorf("%q is not an https URL", s)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("%q has no host", s)
	case u.User != nil:
		return nil, fmt.Errorf("%q carries a user name or password", s)
	case u.Fragment != "" || strings.Contains(s, "#"):
		return nil, fmt.Errorf("%q has a #fragment", s)
	case !path && ((u.Path != "" && u.Path != "/") || u.RawQuery != ""):
		return nil, fmt.Errorf("%q is not a bare origin (it has a path or query)", s)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%q has a bad port", s)
		}
	}
	return u, nil
}

// EndSessionTargets are portal.end_session_urls as the agent compares them with the
// requests it forwards: origin (https://host[:port], the port only when not 443, the host in
// lower case) followed by the path. The configuration must have been checked.
func (p *Portal) EndSessionTargets() []string {
	var out []string
	for _, raw := range p.EndSessionURLs {
		if u, err := httpsURL(raw, true); err == nil {
			path := u.Path
			if path == "" {
				path = "/"
			}
			out = append(out, originOf(u)+path)
		}
	}
	return out
}

func originOf(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" && p != "443" {
		host += ":" + p
	}
	return "https://" + host
}

// checkCAFile resolves a relative path against the config file's directory and checks that
// the file holds at least one certificate.
func checkCAFile(configName string, path *string) error {
	if *path == "" {
		return errors.New("is empty")
	}
	if !filepath.IsAbs(*path) {
		*path = filepath.Join(filepath.Dir(configName), *path)
	}
	f, err := os.Open(*path)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 4<<20))
	if err != nil {
		return err
	}
	found := 0
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return fmt.Errorf("%s: a certificate does not parse: %w", *path, err)
		}
		found++
	}
	if found == 0 {
		return fmt.Errorf("%s: no PEM certificate in it", *path)
	}
	return nil
}
