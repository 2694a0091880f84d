package kioskui

import "testing"

func TestPolicy(t *testing.T) {
	strict, err := newPolicy("http://127.0.0.1:8470/#token=abc", []string{"http://127.0.0.1:8471"})
	if err != nil {
		t.Fatal(err)
	}
	loose, err := newPolicy("http://127.0.0.1:8470/#token=abc", []string{LoopbackAnyPort})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		uri       string
		strictNav bool
		looseNav  bool
		mainDoc   bool // same for both
	}{
		{"http://127.0.0.1:8470/", true, true, true},
		{"http://127.0.0.1:8470/screens/pin?x=1#frag", true, true, true},
		{"HTTP://127.0.0.1:8470/", true, true, true},
		{"http://127.0.0.1:8471/portal/home", true, true, false},
		{"http://127.0.0.1:9999/", false, true, false},
		{"http://127.0.0.1/", false, false, false},
		{"http://localhost:8470/", false, false, false},
		{"http://localhost:8471/", false, false, false},
		{"https://127.0.0.1:8470/", false, false, false},
		{"http://[::1]:8470/", false, false, false},
		{"http://127.0.0.2:8470/", false, false, false},
		{"https://example.org/", false, false, false},
		{"http://127.0.0.1:8470@evil.example/", false, false, false},
		{"about:blank", true, true, true},
		{"about:srcdoc", true, true, true},
		{"about:config", false, false, false},
		{"data:text/html,hi", false, false, false},
		{"blob:http://127.0.0.1:8470/abc", false, false, false},
		{"file:///etc/passwd", false, false, false},
		{"javascript:alert(1)", false, false, false},
		{"ws://127.0.0.1:8470/ws", false, false, false},
		{"", false, false, false},
		{"http://", false, false, false},
	}
	for _, tc := range tests {
		if got := strict.allowNavigation(tc.uri); got != tc.strictNav {
			t.Errorf("strict allowNavigation(%q) = %v, want %v", tc.uri, got, tc.strictNav)
		}
		if got := loose.allowNavigation(tc.uri); got != tc.looseNav {
			t.Errorf("loopback allowNavigation(%q) = %v, want %v", tc.uri, got, tc.looseNav)
		}
		for _, p := range []policy{strict, loose} {
			if got := p.allowMainDocument(tc.uri); got != tc.mainDoc {
				t.Errorf("allowMainDocument(%q) = %v, want %v", tc.uri, got, tc.mainDoc)
			}
		}
	}
}

func TestParseOriginPattern(t *testing.T) {
	good := map[string]string{
		"http://127.0.0.1:8471":      "http://127.0.0.1:8471",
		"http://127.0.0.1:8471/":     "http://127.0.0.1:8471",
		"http://127.0.0.1:*":         "http://127.0.0.1:*",
		"https://Portal.Example:443": "https://portal.example",
		"http://[::1]:8471":          "http://[::1]:8471",
	}
	for in, want := range good {
		o, err := parseOriginPattern(in)
		if err != nil {
			t.Errorf("parseOriginPattern(%q): %v", in, err)
			continue
		}
		if o.String() != want {
			t.Errorf("parseOriginPattern(%q) = %s, want %s", in, o, want)
		}
	}
	for _, bad := range []string{"", "127.0.0.1:8471", "ws://127.0.0.1:1", "http://127.0.0.1:8471/path",
		"http://u:p@127.0.0.1:1", "http://127.0.0.1:1?q", "http://127.0.0.1:1#f", "file:///", "http://:*", "http://h:1:*"} {
		if o, err := parseOriginPattern(bad); err == nil {
			t.Errorf("parseOriginPattern(%q) = %s, want an error", bad, o)
		}
	}
}

func TestParseStartURL(t *testing.T) {
	for _, good := range []string{"http://127.0.0.1:8470/#token=abc", "http://localhost:1/", "http://[::1]:2/", "https://127.0.0.9/"} {
		if _, err := parseStartURL(good); err != nil {
			t.Errorf("parseStartURL(%q): %v", good, err)
		}
	}
	for _, bad := range []string{"", "ftp://127.0.0.1/", "http://example.org/", "http://u@127.0.0.1/", "127.0.0.1:8470", "http://10.0.0.1/", "file:///x"} {
		if _, err := parseStartURL(bad); err == nil {
			t.Errorf("parseStartURL(%q): want an error", bad)
		}
	}
}

func TestLogOriginDropsPathAndToken(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8470/x/y#token=secret": "http://127.0.0.1:8470",
		"about:blank":                            "about:blank",
		"data:text/html,secret":                  "data:…",
		"%%%":                                    "(unparsable)",
	} {
		if got := logOrigin(in); got != want {
			t.Errorf("logOrigin(%q) = %q, want %q", in, got, want)
		}
	}
}
