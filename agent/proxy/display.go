package proxy

import (
	"bytes"
	"io"
	"net/http"
)

// Display is how the citizen wants the portal shown. The proxy carries Lang to the portal as
// Accept-Language, and while HighContrast is on it adds a forced high-contrast style sheet
// to every HTML page it passes on. (Larger text is the kiosk UI's: it zooms the frame.)
type Display struct {
	Lang         string // a language code such as "el"; "" leaves the browser's header
	HighContrast bool
}

// SetDisplay makes the session follow d from its next request on. Safe for concurrent use.
func (s *Session) SetDisplay(d Display) { s.display.Store(&d) }

func (s *Session) currentDisplay() Display {
	if d := s.display.Load(); d != nil {
		return *d
	}
	return Display{}
}

// contrastPath is the proxy's own high-contrast style sheet, on every local origin, for the
// session's webview only (the access cookie is needed as for any other request).
const contrastPath = reservedPrefix + "contrast.css"

// contrastLink goes into each HTML page while high contrast is on: last in <head>, so that
// it follows the portal's own sheets, and with !important rules, so that it wins over them.
const contrastLink = `<link rel="stylesheet" href="` + contrastPath + `">`

// contrastCSS is the forced high-contrast sheet: white text on black, yellow links and
// focus, every control outlined; pictures stay as they are. The general rule has no
// specificity (:where), so that the link and control rules after it win.
const contrastCSS = `/* SmartPath kiosk: high contrast, chosen by the citizen */
html, body, :where(body *:not(img, svg, svg *, video, canvas)) {
  background-color: #000 !important; color: #fff !important; border-color: #fff !important;
  background-image: none !important; text-shadow: none !important; box-shadow: none !important;
}
a, a *, a:visited, a:visited * { color: #ff0 !important; text-decoration: underline !important; }
button, input, select, textarea, [role="button"] { border: 2px solid #fff !important; }
:focus-visible { outline: 3px solid #0ff !important; outline-offset: 2px !important; }
::placeholder { color: #ccc !important; }
`

// serveContrast answers the style sheet.
func serveContrast(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodHead {
		io.WriteString(w, contrastCSS)
	}
}

// withContrast returns the HTML page b with contrastLink before its </head> (or, without
// one, after its <body ...>, or first).
func withContrast(b []byte) []byte {
	at := indexFold(b, []byte("</head"))
	if at < 0 {
		if i := indexFold(b, []byte("<body")); i >= 0 {
			if j := bytes.IndexByte(b[i:], '>'); j >= 0 {
				at = i + j + 1
			}
		}
	}
	if at < 0 {
		at = 0
	}
	out := make([]byte, 0, len(b)+len(contrastLink))
	out = append(out, b[:at]...)
	out = append(out, contrastLink...)
	return append(out, b[at:]...)
}

// indexFold is bytes.Index for an ASCII pattern, ignoring case.
func indexFold(b, pattern []byte) int {
	for i := 0; i+len(pattern) <= len(b); i++ {
		if bytes.EqualFold(b[i:i+len(pattern)], pattern) {
			return i
		}
	}
	return -1
}
