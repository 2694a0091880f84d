package kioskui

import (
	"encoding/json"
	"regexp"
	"testing"
)

// TestFilterRules evaluates the generated rules the way WebKit does (in order, with
// ignore-previous-rules) over URLs the shell meets.
func TestFilterRules(t *testing.T) {
	p, err := newPolicy("http://127.0.0.1:8470/#token=x", []string{"http://127.0.0.1:8471", "https://[::1]:9443"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := filterRules(p)
	if err != nil {
		t.Fatal(err)
	}
	var rules []contentRule
	if err := json.Unmarshal(b, &rules); err != nil {
		t.Fatal(err)
	}
	blocked := func(url string, topDocument bool) bool {
		block := false
		for _, r := range rules {
			if len(r.Trigger.LoadContext) > 0 && !topDocument {
				continue
			}
			if !regexp.MustCompile("(?i)" + r.Trigger.URLFilter).MatchString(url) {
				continue
			}
			block = r.Action.Type == "block"
		}
		return block
	}
	tests := []struct {
		url       string
		top, want bool
	}{
		{"http://127.0.0.1:8470/", true, false},
		{"http://127.0.0.1:8470/app.js", false, false},
		{"ws://127.0.0.1:8470/ws?token=x", false, false},
		{"http://127.0.0.1:8471/portal", false, false},
		{"http://127.0.0.1:8471/portal", true, true},
		{"ws://127.0.0.1:8471/live", false, false},
		{"https://[::1]:9443/x", false, false},
		{"wss://[::1]:9443/x", false, false},
		{"http://127.0.0.1:84700/", false, true},
		{"http://127.0.0.1:847/", false, true},
		{"http://127.0.0.1:9/", false, true},
		{"http://localhost:8470/", false, true},
		{"https://example.org/", false, true},
		{"http://127.0.0.1.evil.example:8470/", false, true},
		{"data:image/png;base64,AAAA", false, false},
		{"blob:http://127.0.0.1:8470/1", false, false},
		{"webkit-pdfjs-viewer://pdfjs/web/viewer.html", false, false},
		{"webkit-pdfjs-viewer://pdfjs/web/viewer.html", true, true},
	}
	for _, tc := range tests {
		if got := blocked(tc.url, tc.top); got != tc.want {
			t.Errorf("blocked(%q, top=%v) = %v, want %v", tc.url, tc.top, got, tc.want)
		}
	}
}

func TestFilterRulesAnyLoopbackPort(t *testing.T) {
	p, err := newPolicy("http://127.0.0.1:8470/", []string{LoopbackAnyPort})
	if err != nil {
		t.Fatal(err)
	}
	f := originFilters(p.frames[0])
	want := []string{`^http://127\.0\.0\.1:[0-9]+/`, `^ws://127\.0\.0\.1:[0-9]+/`}
	if len(f) != 2 || f[0] != want[0] || f[1] != want[1] {
		t.Fatalf("originFilters = %q, want %q", f, want)
	}
}
