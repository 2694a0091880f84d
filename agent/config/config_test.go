package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeCA writes a self-signed CA certificate and returns its path.
func writeCA(t testing.TB) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Council CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func allErrors(err error) []*Error {
	var out []*Error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, e.(*Error))
		}
		return out
	}
	var e *Error
	if errors.As(err, &e) {
		out = append(out, e)
	}
	return out
}

func TestParseEmptyKeepsDefaults(t *testing.T) {
	ca := writeCA(t)
	cfg, err := Parse("kiosk.yaml", []byte("portal:\n  ca_file: "+ca+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Portal.CAFile = ca
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got %+v\nwant %+v", cfg, want)
	}
}

func TestParseFull(t *testing.T) {
	ca := writeCA(t)
	src := `
ui:
  listen: 127.0.0.1:9000
  url_file: /tmp/ui-url
  languages: [el, en]
  default_language: el
portal:
  home: https://portal.council.example/home
  origins:
    - https://sso.council.example
    - https://static.council.example:8443/
  ca_file: ` + ca + `
  listen_host: 127.0.0.1
  first_port: 9001
  connect_timeout: 5s
  response_header_timeout: 1m
session:
  idle_timeout: 3m
  idle_warning: 20s
  max_length: 1h
  goodbye_after: 5s
  pin_min: 6
  pin_max: 6
card: {reader: "Virtual PCD", slot: 9A}
admin: {listen: "[::1]:9100"}
log: {level: debug, format: text}
`
	cfg, err := Parse("kiosk.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Session.IdleTimeout != 3*time.Minute || cfg.Card.Slot != "9a" || cfg.UI.DefaultLanguage != "el" {
		t.Errorf("decoded %+v", cfg)
	}
	ups := cfg.Portal.Upstreams()
	want := []Upstream{
		{"https://portal.council.example", "127.0.0.1:9001"},
		{"https://sso.council.example", "127.0.0.1:9002"},
		{"https://static.council.example:8443", "127.0.0.1:9003"},
	}
	if !reflect.DeepEqual(ups, want) {
		t.Errorf("Upstreams = %v, want %v", ups, want)
	}
	if cfg.UI.Origin() != "http://127.0.0.1:9000" {
		t.Errorf("Origin = %s", cfg.UI.Origin())
	}
	if _, err := cfg.Portal.CertPool(); err != nil {
		t.Error(err)
	}
}

func TestParseErrors(t *testing.T) {
	ca := writeCA(t)
	caLine := "portal:\n  ca_file: " + ca + "\n" // lines 1-2
	tests := []struct {
		name, src string
		line      int
		key       string
		msg       string
	}{
		{"unknown top key", caLine + "sesion:\n  idle_timeout: 1m\n", 3, "sesion", `unknown key; did you mean "session"?`},
		{"unknown nested key", caLine + "  hoem: https://x.example/\n", 3, "portal.hoem", `did you mean "home"`},
		{"wrong type int", caLine + "  first_port: eighty\n", 3, "portal.first_port", `want a whole number, got text "eighty"`},
		{"float for int", caLine + "session:\n  pin_min: 6.5\n", 4, "session.pin_min", "want a whole number"},
		{"list for string", caLine + "  home: [a]\n", 3, "portal.home", "want text, got a list"},
		{"number for string", caLine + "card:\n  slot: 9\n", 4, "card.slot", "put it in quotes"},
		{"string for list", caLine + "ui:\n  languages: en\n", 4, "ui.languages", "want a list"},
		{"section not mapping", caLine + "ui: 5\n", 3, "ui", "want a mapping"},
		{"null scalar", caLine + "log:\n  level:\n", 4, "log.level", "has no value"},
		{"bare number duration", caLine + "session:\n  idle_timeout: 120\n", 4, "session.idle_timeout", `"120" is not a duration; write a number with a unit`},
		{"bad duration", caLine + "session:\n  max_length: forever\n", 4, "session.max_length", "is not a duration"},
		{"negative duration", caLine + "  connect_timeout: -1s\n", 3, "portal.connect_timeout", "out of range"},
		{"duplicate key", caLine + "  first_port: 9000\n  first_port: 9001\n", 4, "portal.first_port", "set twice (first at line 3)"},
		{"http home", caLine + "  home: http://portal.example/\n", 3, "portal.home", "not an https URL"},
		{"bad url", caLine + "  home: \"https://%zz\"\n", 3, "portal.home", "not a URL"},
		{"origin with path", caLine + "  origins: [https://sso.example/login]\n", 3, "portal.origins[0]", "not a bare origin"},
		{"origin http", caLine + "  origins:\n    - http://sso.example\n", 3, "portal.origins[0]", "not an https URL"},
		{"sign-out on another site", caLine + "  home: https://p.example/x\n  end_session_urls: [https://other.example/logout]\n", 4, "portal.end_session_urls[0]", "https://other.example is not a portal origin"},
		{"sign-out with a query", caLine + "  home: https://p.example/x\n  end_session_urls: [\"https://p.example/logout?x=1\"]\n", 4, "portal.end_session_urls[0]", "the query is not compared"},
		{"sign-out over http", caLine + "  end_session_urls: [http://p.example/logout]\n", 3, "portal.end_session_urls[0]", "not an https URL"},
		{"origin dup of home", caLine + "  home: https://p.example/x\n  origins: [\"https://P.example:443\"]\n", 4, "portal.origins[0]", "already served for portal.home"},
		{"missing CA", "portal:\n  ca_file: /nonexistent/x.pem\n", 2, "portal.ca_file", "open /nonexistent/x.pem: no such file or directory; set it to the council's CA bundle"},
		{"default CA missing", "portal:\n  home: https://p.example/\n", 1, "portal.ca_file", "portal-ca.pem"},
		{"non-loopback ui", caLine + "ui:\n  listen: 0.0.0.0:8470\n", 4, "ui.listen", "not a loopback IP address; use 127.0.0.1:8470"},
		{"hostname listen", caLine + "admin:\n  listen: localhost:8479\n", 4, "admin.listen", "not a loopback IP"},
		{"no port", caLine + "admin:\n  listen: 127.0.0.1\n", 4, "admin.listen", "not host:port"},
		{"non-loopback proxy", caLine + "  listen_host: 192.168.1.5\n", 3, "portal.listen_host", "not a loopback"},
		{"port clash admin/ui", caLine + "admin:\n  listen: 127.0.0.1:8470\n", 4, "admin.listen", "port 8470 is also used by ui.listen"},
		{"port clash proxy/admin", caLine + "  origins: [https://a.example, https://b.example]\n  first_port: 8477\n", 0, "admin.listen", "port 8479 is also used by portal.first_port (+2"},
		{"port range", caLine + "  first_port: 65535\n  origins: [https://a.example]\n", 3, "portal.first_port", "leaves no room"},
		{"warning >= timeout", caLine + "session:\n  idle_timeout: 30s\n  idle_warning: 30s\n", 5, "session.idle_warning", "not shorter than"},
		{"pin range", caLine + "session:\n  pin_max: 12\n", 4, "session.pin_max", "out of range"},
		{"pin shorter than PIV allows", caLine + "session:\n  pin_min: 4\n", 4, "session.pin_min", "PIV PINs are 6 to 8 digits"},
		{"pin min>max", caLine + "session:\n  pin_min: 8\n  pin_max: 6\n", 5, "session.pin_max", "less than session.pin_min"},
		{"bad slot", caLine + "card:\n  slot: \"9b\"\n", 4, "card.slot", "not a PIV key slot"},
		{"signature slot", caLine + "card:\n  slot: 9C\n", 4, "card.slot", "9C needs the PIN again right before every signature"},
		{"card authentication slot", caLine + "card:\n  slot: 9e\n", 4, "card.slot", "9E signs without the PIN"},
		{"key management slot", caLine + "card:\n  slot: 9d\n", 4, "card.slot", "9D is the key management"},
		{"bad level", caLine + "log:\n  level: loud\n", 4, "log.level", "not a log level"},
		{"bad format", caLine + "log:\n  format: xml\n", 4, "log.format", "not a log format"},
		{"default lang", caLine + "ui:\n  default_language: fr\n", 4, "ui.default_language", "not in ui.languages"},
		{"bad lang", caLine + "ui:\n  languages: [EN]\n  default_language: EN\n", 4, "ui.languages[0]", "not a language code"},
		{"lang without screens", caLine + "ui:\n  languages: [en, fr]\n", 4, "ui.languages[1]", `"fr" has no screens`},
		{"relative url file", caLine + "ui:\n  url_file: ui-url\n", 4, "ui.url_file", "not an absolute path"},
		{"syntax", caLine + "  home: x\n bad: y\n", 3, "", "fix the YAML syntax"},
		{"not a mapping", "- a\n- b\n", 1, "", "want a mapping of keys"},
		{"non-string key", caLine + "5: x\n", 3, "", "keys must be plain words"},
		{"two documents", caLine + "---\nlog: {}\n", 3, "", "more than one document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("kiosk.yaml", []byte(tt.src))
			if err == nil {
				t.Fatal("no error")
			}
			var found bool
			for _, e := range allErrors(err) {
				if e.Line == tt.line && e.Key == tt.key && strings.Contains(e.Error(), tt.msg) && e.File == "kiosk.yaml" {
					found = true
				}
			}
			if !found {
				t.Errorf("want an error at line %d key %q containing %q; got:\n%v", tt.line, tt.key, tt.msg, err)
			}
		})
	}
}

func TestParseErrorFormat(t *testing.T) {
	src := "log:\n  level: info\n\n\n\n\n\n\n\n\n\nportal:\n  ca_file: /etc/x.pem\n"
	_, err := Parse("kiosk.yaml", []byte(src))
	want := "kiosk.yaml:13: portal.ca_file: open /etc/x.pem: no such file or directory; set it to the council's CA bundle (PEM)"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	src := "ui:\n  listen: 10.0.0.1:80\n  colour: blue\nportal:\n  ca_file: /nonexistent.pem\n  first_port: x\nlog:\n  level: loud\n"
	_, err := Parse("kiosk.yaml", []byte(src))
	got := map[string]int{}
	for _, e := range allErrors(err) {
		got[e.Key] = e.Line
	}
	want := map[string]int{"ui.listen": 2, "ui.colour": 3, "portal.ca_file": 5, "portal.first_port": 6, "log.level": 8}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v\n%v", got, want, err)
	}
}

func TestLoad(t *testing.T) {
	ca := writeCA(t)
	dir := filepath.Dir(ca)
	path := filepath.Join(dir, "kiosk.yaml")
	// A relative ca_file is taken relative to the configuration file.
	if err := os.WriteFile(path, []byte("portal:\n  ca_file: ca.pem\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Portal.CAFile != ca {
		t.Errorf("CAFile = %s, want %s", cfg.Portal.CAFile, ca)
	}
	_, err = Load(filepath.Join(dir, "missing.yaml"))
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("Load(missing) = %v", err)
	}
}

func TestCAFileWithoutCertificate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(path, []byte("not a certificate\n"), 0o644)
	_, err := Parse("kiosk.yaml", []byte("portal:\n  ca_file: "+path+"\n"))
	if err == nil || !strings.Contains(err.Error(), "kiosk.yaml:2: portal.ca_file: ") || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("got %v", err)
	}
}

// The example file documents every default: it must parse and, apart from its CA bundle,
// equal Default().
func TestExampleMatchesDefaults(t *testing.T) {
	data, err := os.ReadFile("../../testing/config/kiosk.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ca := writeCA(t)
	src := strings.Replace(string(data), "ca_file: /etc/smartpath/portal-ca.pem", "ca_file: "+ca, 1)
	cfg, err := Parse("kiosk.example.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Portal.CAFile = ca
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("example differs from Default():\n got %+v\nwant %+v", cfg, want)
	}
}

// The sign-out addresses are compared as the proxy names a portal origin: lower-case host,
// no :443, the path only.
func TestEndSessionTargets(t *testing.T) {
	p := Portal{EndSessionURLs: []string{"https://Portal.Example:443/logout", "https://sso.example:8443/signout", "https://portal.example"}}
	got := p.EndSessionTargets()
	want := []string{"https://portal.example/logout", "https://sso.example:8443/signout", "https://portal.example/"}
	if !slices.Equal(got, want) {
		t.Errorf("EndSessionTargets = %q, want %q", got, want)
	}
}
