package screens

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func serve(t *testing.T, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler(Options{DefaultLanguage: "en"}).ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func checkSecurityHeaders(t *testing.T, target string, h http.Header) {
	t.Helper()
	want := map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"Cache-Control":          "no-store",
		"X-Frame-Options":        "DENY",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", target, k, got, v)
		}
	}
	csp := h.Get("Content-Security-Policy")
	for _, d := range []string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self'",
		"connect-src 'self' ws://127.0.0.1:*",
		"frame-src http://127.0.0.1:*",
		"object-src 'none'",
		"frame-ancestors 'none'",
	} {
		if !strings.Contains(csp, d) {
			t.Errorf("%s: Content-Security-Policy %q lacks %q", target, csp, d)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("%s: Content-Security-Policy allows inline or eval: %q", target, csp)
	}
}

func TestHandlerServesFilesWithTypesAndHeaders(t *testing.T) {
	tests := []struct {
		target, ctype, contains string
	}{
		{"/", "text/html; charset=utf-8", "<!doctype html>"},
		{"/index.html", "text/html; charset=utf-8", `<script type="module" src="app.js">`},
		{"/app.js", "text/javascript; charset=utf-8", "import"},
		{"/link.js", "text/javascript; charset=utf-8", "WebSocket"},
		{"/pin.js", "text/javascript; charset=utf-8", "export"},
		{"/i18n.js", "text/javascript; charset=utf-8", "PluralRules"},
		{"/style.css", "text/css; charset=utf-8", ":focus-visible"},
		{"/i18n/en.json", "application/json", `"language.name": "English"`},
		{"/i18n/el.json", "application/json", "Ελληνικά"},
		{"/i18n/languages.json", "application/json", `"languages":["el","en","pl"]`},
		{"/settings.json", "application/json", `{"warningSound":false}`},
		{"/?x=1", "text/html; charset=utf-8", "<!doctype html>"},
	}
	for _, tc := range tests {
		rec := serve(t, http.MethodGet, tc.target)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200", tc.target, rec.Code)
			continue
		}
		if got := rec.Header().Get("Content-Type"); got != tc.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.target, got, tc.ctype)
		}
		if !strings.Contains(rec.Body.String(), tc.contains) {
			t.Errorf("GET %s: body lacks %q", tc.target, tc.contains)
		}
		checkSecurityHeaders(t, tc.target, rec.Header())
	}
}

func TestHandlerRefuses(t *testing.T) {
	tests := []struct {
		method, target string
		status         int
	}{
		{http.MethodGet, "/nope.html", http.StatusNotFound},
		{http.MethodGet, "/handler.go", http.StatusNotFound},
		{http.MethodGet, "/../handler.go", http.StatusNotFound},
		{http.MethodGet, "/assets/index.html", http.StatusNotFound},
		{http.MethodGet, "/i18n/", http.StatusNotFound},
		{http.MethodGet, "/i18n", http.StatusNotFound},
		{http.MethodPost, "/", http.StatusMethodNotAllowed},
		{http.MethodPut, "/app.js", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/", http.StatusMethodNotAllowed},
	}
	for _, tc := range tests {
		rec := serve(t, tc.method, tc.target)
		if rec.Code != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.target, rec.Code, tc.status)
		}
		checkSecurityHeaders(t, tc.target, rec.Header())
	}
}

func TestHandlerHead(t *testing.T) {
	rec := serve(t, http.MethodHead, "/app.js")
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Fatalf("HEAD /app.js: status %d, %d body bytes; want 200 and none", rec.Code, rec.Body.Len())
	}
	if got := rec.Header().Get("Content-Type"); got != "text/javascript; charset=utf-8" {
		t.Errorf("HEAD /app.js: Content-Type %q", got)
	}
	if rec.Header().Get("Last-Modified") != "" {
		t.Errorf("HEAD /app.js: Last-Modified set; the screens must not be cached")
	}
}

// Every embedded file must have a known type: an unknown one would not be served.
func TestEveryAssetHasAContentType(t *testing.T) {
	err := fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if _, ok := contentTypes[path.Ext(p)]; !ok {
			t.Errorf("%s: no content type for %q", p, path.Ext(p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// No inline script, inline handlers or inline styles: the CSP would block them.
func TestIndexHasNoInlineScriptOrStyle(t *testing.T) {
	b, err := fs.ReadFile(assets, "assets/index.html")
	if err != nil {
		t.Fatal(err)
	}
	html := strings.ToLower(string(b))
	for _, bad := range []string{"<script>", "<style", " style=", " onclick=", " onload=", " onerror=", "javascript:"} {
		if strings.Contains(html, bad) {
			t.Errorf("index.html contains %q, which the Content-Security-Policy blocks", bad)
		}
	}
	for _, js := range []string{"app.js", "pin.js", "link.js", "i18n.js"} {
		b, err := fs.ReadFile(assets, "assets/"+js)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "localStorage.set", "sessionStorage.set", "console."} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s uses %s", js, bad)
			}
		}
	}
}

func TestLanguages(t *testing.T) {
	// One catalog file is one language: nothing else lists them.
	files, err := filepath.Glob("assets/i18n/*.json")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range files {
		want = append(want, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	got := Languages()
	if !slices.Equal(got, want) || !slices.Contains(got, "pl") {
		t.Fatalf("Languages() = %q, want the catalogs %q (el, en, pl)", got, want)
	}
	for _, tt := range []struct {
		configured []string
		def        string
		want       []string
		wantDef    string
	}{
		{nil, "en", Languages(), "en"},
		{[]string{"el"}, "el", []string{"el"}, "el"},             // ui.languages: [el]
		{[]string{"en", "el"}, "el", []string{"en", "el"}, "el"}, // the configured order
		{[]string{"el", "fr"}, "fr", []string{"el"}, "el"},       // no catalog for fr
	} {
		var list struct {
			Languages []string `json:"languages"`
			Default   string   `json:"default"`
		}
		if err := json.Unmarshal(languagesJSON(tt.configured, tt.def), &list); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(list.Languages, tt.want) || list.Default != tt.wantDef {
			t.Errorf("configured %q, default %q: languages.json = %+v, want %q with default %s", tt.configured, tt.def, list, tt.want, tt.wantDef)
		}
	}
}
