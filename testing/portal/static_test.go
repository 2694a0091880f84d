package portal

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

var refAttrRE = regexp.MustCompile(`<(?:img|script|link)\b[^>]*?\b(?:src|href)="([^"#]+)"`)

// subresourcesOf lists the distinct stylesheet, script, icon and image URLs of a page,
// resolved against the portal origin.
func subresourcesOf(page, portal string) []string {
	var out []string
	for _, m := range refAttrRE.FindAllStringSubmatch(page, -1) {
		u := m[1]
		if strings.HasPrefix(u, "/") {
			u = portal + u
		}
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	slices.Sort(out)
	return out
}

func TestLoadPagesHaveTwentySubresources(t *testing.T) {
	w := newWorld(t, nil)
	b := w.browser(t, card(t, w.pki, "Jane Citizen", "C-1001"))
	b.get(t, w.urls.Home())
	hs := w.srv.Handshakes()

	// 5 pages, each with its 20 subresources, all in parallel.
	var wg sync.WaitGroup
	errs := make(chan string, 5*21)
	for n := 1; n <= 5; n++ {
		wg.Go(func() {
			status, _, page := b.get(t, w.urls.Portal+"/load/"+string(rune('0'+n)))
			if status != http.StatusOK {
				errs <- "page status"
				return
			}
			got := subresourcesOf(page, w.urls.Portal)
			want := slices.Sorted(slices.Values(w.srv.Subresources(n)))
			if len(want) != 20 || !slices.Equal(got, want) {
				errs <- strings.Join(got, " ") + " != " + strings.Join(want, " ")
				return
			}
			for _, u := range got {
				wg.Go(func() {
					res, err := b.Get(u)
					if err != nil {
						errs <- err.Error()
						return
					}
					res.Body.Close()
					if res.StatusCode != http.StatusOK {
						errs <- u + ": " + res.Status
					}
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if got := w.srv.Handshakes(); got != hs {
		t.Errorf("handshakes with a card went from %d to %d while loading pages: %+v", hs, got, w.srv.Conns())
	}
	if got := w.srv.Stats().Origins["static"].Requests; got < 5*10 {
		t.Errorf("static origin served %d requests, want at least 50", got)
	}
}

func TestStaticContentTypesAndCaching(t *testing.T) {
	w := newWorld(t, nil)
	b := w.browser(t, card(t, w.pki, "Jane Citizen", "C-1001"))
	wantType := map[string]string{
		".css": "text/css; charset=utf-8",
		".js":  "text/javascript; charset=utf-8",
		".svg": "image/svg+xml",
		".png": "image/png",
	}
	for _, u := range w.srv.Subresources(7) {
		status, h, body := b.get(t, u)
		if status != http.StatusOK || body == "" {
			t.Errorf("%s: status %d, %d bytes", u, status, len(body))
			continue
		}
		ext := u[strings.LastIndex(u, "."):]
		if got := h.Get("Content-Type"); got != wantType[ext] {
			t.Errorf("%s: Content-Type %q, want %q", u, got, wantType[ext])
		}
		wantCache := staticCacheControl
		if strings.HasPrefix(u, w.urls.Portal) {
			wantCache = portalCacheControl
		}
		if got := h.Get("Cache-Control"); got != wantCache {
			t.Errorf("%s: Cache-Control %q, want %q", u, got, wantCache)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("ETag") == "" {
			t.Errorf("%s: nosniff %q, ETag %q", u, h.Get("X-Content-Type-Options"), h.Get("ETag"))
		}
		if ext == ".png" && !strings.HasPrefix(body, "\x89PNG\r\n\x1a\n") {
			t.Errorf("%s is not a PNG", u)
		}
		// Revalidation.
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("If-None-Match", h.Get("ETag"))
		res, err := b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotModified {
			t.Errorf("%s with If-None-Match: status %d, want 304", u, res.StatusCode)
		}
	}
	for _, u := range []string{w.urls.Static + "/v1/img/tile-99999.svg", w.urls.Static + "/v1/img/photo-01.png",
		w.urls.Static + "/secret", w.urls.Portal + "/assets/img/load-1-10.svg", w.urls.Portal + "/assets/img/load-01-1.svg"} {
		if status, _, _ := b.get(t, u); status != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", u, status)
		}
	}
	// The static origin sets no cookies and asks for no certificate.
	if st := w.srv.Stats().Origins["static"]; st.FullHandshakes == 0 {
		t.Errorf("static origin stats %+v", st)
	}
}
