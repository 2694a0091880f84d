package kioskui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadURLFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ui-url")
	if _, err := readURLFile(path); err == nil || !strings.Contains(err.Error(), "kiosk-agent running") {
		t.Fatalf("missing file: err = %v, want a hint about the agent", err)
	}
	if err := os.WriteFile(path, []byte("http://127.0.0.1:8470/#token=s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := readURLFile(path)
	if err != nil || got != "http://127.0.0.1:8470/#token=s3cret" {
		t.Fatalf("readURLFile = %q, %v", got, err)
	}
}

func TestParseURLFileRejects(t *testing.T) {
	for _, bad := range []string{"", "\n", "http://example.org/#token=s3cret", "http://127.0.0.1:1/#token=s3cret\nhttp://127.0.0.1:2/",
		"http://127.0.0.1:1/#token=s3cret" + strings.Repeat("a", maxURLLen), "http://127.0.0.1:%zz/#token=s3cret"} {
		_, err := parseURLFile([]byte(bad))
		if err == nil {
			t.Errorf("parseURLFile(%.40q): want an error", bad)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("parseURLFile error leaks the token: %v", err)
		}
	}
}

func FuzzParseURLFile(f *testing.F) {
	for _, seed := range []string{"http://127.0.0.1:8470/#token=abc\n", "", "http://[::1]:1/", "https://localhost/x?y#z",
		"http://127.0.0.1:%zz/", "javascript:alert(1)", "http://u:p@127.0.0.1/"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := parseURLFile(b)
		if err != nil {
			return
		}
		if len(u) > maxURLLen {
			t.Fatalf("accepted %d bytes", len(u))
		}
		p, err := newPolicy(u, []string{LoopbackAnyPort})
		if err != nil {
			t.Fatalf("accepted URL %q makes no policy: %v", u, err)
		}
		if !p.allowMainDocument(u) || !p.allowNavigation(u) {
			t.Fatalf("accepted start URL %q is not allowed by its own policy", u)
		}
		if _, err := filterRules(p); err != nil {
			t.Fatal(err)
		}
	})
}
