package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// The citizen's language reaches the portal as Accept-Language, from the next request on;
// high contrast adds the proxy's style sheet to every HTML page (not to CSS or other bodies),
// and the sheet is served only to the session's webview.
func TestDisplayReachesThePortal(t *testing.T) {
	c := newCouncil(t, serverOpts{h2: true})
	cd := c.ca.card(t, "p256", "Jane Citizen")
	s := startSession(t, c.config(), cd.cert)
	cl := localClient(t)
	portal := s.LocalURL(c.portal.url)
	get(t, cl, s.HomeURL())

	req, _ := http.NewRequest(http.MethodGet, portal+"/headers", nil)
	req.Header.Set("Accept-Language", "en-US,en;q=0.9")
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); !strings.Contains(body, "Accept-Language: en-US,en;q=0.9\n") {
		t.Errorf("without a display choice the browser's Accept-Language must pass: %q", body)
	}
	s.SetDisplay(Display{Lang: "el", HighContrast: true})
	resp, err = cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); !strings.Contains(body, "Accept-Language: el\n") {
		t.Errorf("the portal did not get the citizen's language: %q", body)
	}

	_, home := get(t, cl, portal+"/home")
	if !strings.Contains(home, contrastLink) || !strings.Contains(home, "Hello") {
		t.Errorf("high contrast: the page lacks the style sheet: %q", home)
	}
	if _, css := get(t, cl, s.LocalURL(c.static.url)+"/app.css"); strings.Contains(css, contrastLink) {
		t.Error("the style sheet link was put into a CSS body")
	}
	resp, sheet := get(t, cl, portal+contrastPath)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/css; charset=utf-8" || !strings.Contains(sheet, "#000 !important") {
		t.Errorf("the contrast sheet: %s %q", resp.Status, sheet[:min(len(sheet), 80)])
	}
	if resp, _ := get(t, localClient(t), portal+contrastPath); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the contrast sheet without the session's cookie: %s, want 403", resp.Status)
	}
	for _, r := range c.portal.requests() {
		if strings.Contains(r.uri, contrastPath) {
			t.Errorf("the portal saw the proxy's own path: %s", r.uri)
		}
	}

	s.SetDisplay(Display{Lang: "el"})
	if _, home := get(t, cl, portal+"/home"); strings.Contains(home, contrastLink) {
		t.Error("high contrast off: the page still gets the style sheet")
	}
}

func TestWithContrast(t *testing.T) {
	for in, want := range map[string]string{
		"<html><HEAD><title>x</title></HEAD><body>b</body>": "<html><HEAD><title>x</title>" + contrastLink + "</HEAD><body>b</body>",
		"<p>no head</p><BODY class=x>b":                     "<p>no head</p><BODY class=x>" + contrastLink + "b",
		"plain":                                             contrastLink + "plain",
	} {
		if got := string(withContrast([]byte(in))); got != want {
			t.Errorf("withContrast(%q) = %q, want %q", in, got, want)
		}
	}
}
