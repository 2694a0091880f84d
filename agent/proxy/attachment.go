package proxy

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// inlineTypes are the media types of an attachment the kiosk shows in the portal frame
// instead of saving it: documents the kiosk's browser displays itself, with nothing that
// runs (no HTML, no SVG). A kiosk never saves a file, so every other attachment is refused.
var inlineTypes = map[string]bool{
	"text/plain":      true,
	"application/pdf": true,
	"image/png":       true,
	"image/jpeg":      true,
	"image/gif":       true,
	"image/webp":      true,
}

// attachmentRefusal is the page shown in the frame instead of an attachment the kiosk
// cannot display. The kiosk's Back control returns to the portal page the citizen was on.
const attachmentRefusal = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>This file cannot be opened here</title>
<style>body{font:1.5rem/1.5 sans-serif;margin:3rem;max-width:40rem;color:#000;background:#fff}h1{font-size:2rem}</style>
</head><body><h1>This file cannot be opened at the kiosk</h1>
<p>The kiosk does not save files. Use <strong>Back</strong> at the top of the screen to return
to the portal, and ask the council for the document another way (for example by e-mail or
on paper).</p></body></html>
`

// isAttachment says whether a Content-Disposition value asks the browser to save the body.
func isAttachment(v string) bool {
	if v == "" {
		return false
	}
	d, _, err := mime.ParseMediaType(v)
	if err != nil {
		// Unparsable: browsers treat a value starting with "attachment" as one.
		return strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), "attachment")
	}
	return d == "attachment"
}

// rewriteAttachment turns an attachment the kiosk can display into an inline document, and
// replaces any other attachment with attachmentRefusal, so that nothing is ever saved and
// the citizen always sees a page in the frame. It reports whether it replaced the body.
func (s *Session) rewriteAttachment(resp *http.Response) bool {
	h := resp.Header
	if !isAttachment(h.Get("Content-Disposition")) {
		return false
	}
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if inlineTypes[mt] {
		h.Set("Content-Disposition", "inline")
		// The type is the portal's word; the browser must not guess another (e.g. HTML).
		h.Set("X-Content-Type-Options", "nosniff")
		return false
	}
	s.log.Info("portal proxy refused an attachment the kiosk cannot show", "type", mt)
	if resp.Body != nil {
		resp.Body.Close()
	}
	body := []byte(attachmentRefusal)
	resp.StatusCode = http.StatusOK
	resp.Status = "200 OK"
	resp.Header = http.Header{
		"Content-Type":            {"text/html; charset=utf-8"},
		"Content-Length":          {strconv.Itoa(len(body))},
		"Cache-Control":           {"no-store"},
		"X-Content-Type-Options":  {"nosniff"},
		"Content-Security-Policy": {"default-src 'none'; style-src 'unsafe-inline'; " + s.origins.frameAncestors()},
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.TransferEncoding = nil
	resp.Uncompressed = false
	return true
}
