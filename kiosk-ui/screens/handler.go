package screens

import (
	"bytes"
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed assets
var assets embed.FS

// contentSecurityPolicy allows only the page's own files, the agent's websocket and a
// loopback portal frame. No inline script or style, no plugins, no <base>, no form posts
// from the UI, and no other site may frame the UI.
const contentSecurityPolicy = "default-src 'self'; " +
	"script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self' ws://127.0.0.1:*; " +
	"frame-src http://127.0.0.1:*; " +
	"object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// permissionsPolicy switches off powerful features for the UI and, by inheritance, for
// the portal frame.
const permissionsPolicy = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), " +
	"serial=(), hid=(), bluetooth=(), display-capture=(), fullscreen=(self)"

// contentTypes maps the extensions the page uses to their types. A file with any other
// extension is not served, so nothing is ever sniffed.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".json": "application/json",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
}

// languagesPath is the generated list of catalogs the page loads at start; settingsPath
// the kiosk's other settings for the page.
const (
	languagesPath = "i18n/languages.json"
	settingsPath  = "settings.json"
)

// Options are the kiosk's settings for the screens.
type Options struct {
	// Languages are offered when they have a catalog (all catalogs when empty), in this
	// order; DefaultLanguage is shown first.
	Languages       []string
	DefaultLanguage string
	// WarningSound: the idle warning also sounds a tone.
	WarningSound bool
}

// Handler returns the handler that serves the web screens: "/" is index.html, every other
// path is a file of the embedded assets. Only GET and HEAD are allowed. Every response,
// errors included, carries the security headers.
func Handler(opts Options) http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic("screens: embedded assets missing: " + err.Error()) // a build error, not a runtime one
	}
	settings, err := json.Marshal(struct {
		WarningSound bool `json:"warningSound"`
	}{opts.WarningSound})
	if err != nil {
		panic("screens: " + err.Error())
	}
	return &handler{files: sub, languages: languagesJSON(opts.Languages, opts.DefaultLanguage), settings: settings}
}

type handler struct {
	files     fs.FS
	languages []byte
	settings  []byte
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", contentSecurityPolicy)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
	hdr.Set("Cross-Origin-Resource-Policy", "same-origin")
	hdr.Set("Permissions-Policy", permissionsPolicy)

	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" {
		name = "index.html"
	}
	ctype, ok := contentTypes[path.Ext(name)]
	if !ok {
		http.NotFound(w, r)
		return
	}
	var body []byte
	switch name {
	case languagesPath:
		body = h.languages
	case settingsPath:
		body = h.settings
	default:
		b, err := fs.ReadFile(h.files, name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		body = b
	}
	hdr.Set("Content-Type", ctype)
	// A zero modification time: no Last-Modified, so nothing is cached conditionally.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}
