package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// A kiosk never saves a file: an attachment the browser can show arrives inline, and any
// other arrives as a page saying it cannot be opened, so no response through the proxy is
// ever a download.
func TestAttachmentsAreShownOrRefusedNeverSaved(t *testing.T) {
	c := newCouncil(t, serverOpts{})
	cd := c.ca.card(t, "p256", "Jane Citizen")
	s := startSession(t, c.config(), cd.cert)
	cl := webview(t, s)
	portal := s.LocalURL(c.portal.url)

	for _, mt := range []string{"text/plain", "application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp"} {
		resp, body := get(t, cl, portal+"/attach/"+mt)
		if cd := resp.Header.Get("Content-Disposition"); isAttachment(cd) || body != "DOCUMENT-BODY" {
			t.Errorf("%s: Content-Disposition %q, body %q; want it inline as sent", mt, cd, body)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q, want nosniff", mt, got)
		}
	}
	for _, mt := range []string{"application/zip", "application/octet-stream", "text/html", "image/svg+xml", "application/x-msdownload", "bogus"} {
		resp, body := get(t, cl, portal+"/attach/"+mt)
		if cd := resp.Header.Get("Content-Disposition"); cd != "" || strings.Contains(body, "DOCUMENT-BODY") {
			t.Errorf("%s: Content-Disposition %q, body %q; want the refusal page", mt, cd, body)
		}
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(body, "cannot be opened at the kiosk") {
			t.Errorf("%s: %s %q %q; want the refusal page", mt, resp.Status, resp.Header.Get("Content-Type"), body)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors "+uiOrigin) {
			t.Errorf("%s: refusal page CSP %q", mt, csp)
		}
	}
	// The portal's cookie from the refused response is still kept: the session goes on.
	_, b := get(t, cl, portal+"/whoami")
	if !strings.Contains(b, "cn=Jane Citizen") {
		t.Errorf("after the attachments: %q", b)
	}
}

func TestIsAttachment(t *testing.T) {
	for v, want := range map[string]bool{
		"":                             false,
		"inline":                       false,
		`inline; filename="a.pdf"`:     false,
		"attachment":                   true,
		`Attachment; filename="a.zip"`: true,
		`attachment; filename=a b.zip`: true, // unparsable, still an attachment to a browser
		"attachmentx":                  false,
		`form-data; name="x"`:          false,
	} {
		if got := isAttachment(v); got != want {
			t.Errorf("isAttachment(%q) = %v, want %v", v, got, want)
		}
	}
}
