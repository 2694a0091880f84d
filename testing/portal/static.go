package portal

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// The static origin serves the portal's CSS, script and images, as a council's CDN would:
// no cookies, no client certificate, long-lived immutable caching under a versioned path
// (/v1/…). The portal origin also serves a few per-user images under /assets/, which need
// the citizen's certificate and may only be cached privately.

// MaxLoadPage is the highest n of the /load/{n} gallery pages.
const MaxLoadPage = 100

const (
	loadTiles        = 4  // static-origin SVG tiles per /load page
	loadPhotos       = 3  // static-origin PNG photos per /load page
	loadPortalImages = 10 // portal-origin SVG images per /load page
	maxTile          = 4 * (MaxLoadPage + 1)
	maxPhoto         = 100

	staticCacheControl = "public, max-age=31536000, immutable"
	portalCacheControl = "private, max-age=3600"
)

//go:embed assets/site.css assets/site.js assets/crest.svg
var assetFS embed.FS

type asset struct {
	body  []byte
	ctype string
	etag  string
}

func newAsset(body []byte, ctype string) *asset {
	sum := sha256.Sum256(body)
	return &asset{body: body, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

func (a *asset) serve(w http.ResponseWriter, r *http.Request, cacheControl string) {
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(a.body)
	}
}

// assets generates and caches the images; all of them are small and deterministic.
type assets struct {
	fixed map[string]*asset // path → asset on the static origin

	mu     sync.Mutex
	photos map[int]*asset
}

func newAssets() (*assets, error) {
	a := &assets{fixed: make(map[string]*asset), photos: make(map[int]*asset)}
	for _, f := range []struct{ file, path, ctype string }{
		{"assets/site.css", "/v1/site.css", "text/css; charset=utf-8"},
		{"assets/site.js", "/v1/site.js", "text/javascript; charset=utf-8"},
		{"assets/crest.svg", "/v1/crest.svg", "image/svg+xml"},
	} {
		b, err := assetFS.ReadFile(f.file)
		if err != nil {
			return nil, fmt.Errorf("portal: embedded asset %s: %w", f.file, err)
		}
		a.fixed[f.path] = newAsset(b, f.ctype)
	}
	return a, nil
}

func hue(i int) int { return (i * 47) % 360 }

func tileSVG(label string, i int) []byte {
	return fmt.Appendf(nil, `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64" role="img" aria-label="%s">`+
		`<rect width="64" height="64" fill="hsl(%d,55%%,45%%)"/>`+
		`<path d="M8 52 L24 28 L36 42 L44 32 L56 52 Z" fill="hsl(%d,40%%,85%%)"/>`+
		`<circle cx="46" cy="16" r="6" fill="#fff8d0"/></svg>`, label, hue(i), hue(i+3))
}

func (a *assets) photo(i int) *asset {
	a.mu.Lock()
	defer a.mu.Unlock()
	if p := a.photos[i]; p != nil {
		return p
	}
	img := image.NewRGBA(image.Rect(0, 0, 48, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 48; x++ {
			img.Set(x, y, color.RGBA{uint8(40 + x*4 + i*13), uint8(60 + y*3 + i*7), uint8(120 + (x+y)*2 - i), 255})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img) // cannot fail on an in-memory RGBA image
	p := newAsset(buf.Bytes(), "image/png")
	a.photos[i] = p
	return p
}

func notFoundAsset(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, "not found", http.StatusNotFound)
}

// staticHandler serves the static origin.
func (s *Server) staticHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/img/{name}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
		name := r.PathValue("name")
		if i, ok := numbered(name, "tile-", ".svg", maxTile); ok {
			newAsset(tileSVG(fmt.Sprintf("Estate view %d", i), i), "image/svg+xml").serve(w, r, staticCacheControl)
			return
		}
		if i, ok := numbered(name, "photo-", ".png", maxPhoto); ok {
			s.assets.photo(i).serve(w, r, staticCacheControl)
			return
		}
		notFoundAsset(w)
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
		if a := s.assets.fixed[r.URL.Path]; a != nil {
			a.serve(w, r, staticCacheControl)
			return
		}
		notFoundAsset(w)
	})
	return mux
}

// handlePortalImage serves /assets/img/load-{n}-{k}.svg on the portal origin.
func (s *Server) handlePortalImage(w http.ResponseWriter, r *http.Request, _ *Citizen) {
	name := r.PathValue("name")
	var n, k int
	if _, err := fmt.Sscanf(name, "load-%d-%d.svg", &n, &k); err != nil || n < 1 || n > MaxLoadPage ||
		k < 0 || k >= loadPortalImages || name != fmt.Sprintf("load-%d-%d.svg", n, k) {
		notFoundAsset(w)
		return
	}
	newAsset(tileSVG(fmt.Sprintf("Repair photo %d of page %d", k+1, n), n*loadPortalImages+k), "image/svg+xml").
		serve(w, r, portalCacheControl)
}

// numbered parses prefix + decimal + suffix with the number in [0, limit).
func numbered(name, prefix, suffix string, limit int) (int, bool) {
	if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, suffix) {
		return 0, false
	}
	digits := name[len(prefix) : len(name)-len(suffix)]
	i, err := strconv.Atoi(digits)
	if err != nil || i < 0 || i >= limit || strconv.Itoa(i) != digits {
		return 0, false
	}
	return i, true
}

type loadImage struct{ URL, Alt string }

func (s *Server) loadImages(n int) []loadImage {
	var imgs []loadImage
	for k := 0; k < loadTiles; k++ {
		i := n*loadTiles + k
		imgs = append(imgs, loadImage{fmt.Sprintf("%s/v1/img/tile-%d.svg", s.urls.Static, i), fmt.Sprintf("Estate view %d", i)})
	}
	for k := 0; k < loadPhotos; k++ {
		i := (n*loadPhotos + k) % maxPhoto
		imgs = append(imgs, loadImage{fmt.Sprintf("%s/v1/img/photo-%d.png", s.urls.Static, i), fmt.Sprintf("Photograph %d", i)})
	}
	for k := 0; k < loadPortalImages; k++ {
		imgs = append(imgs, loadImage{fmt.Sprintf("/assets/img/load-%d-%d.svg", n, k), fmt.Sprintf("Repair photo %d", k+1)})
	}
	return imgs
}

// Subresources lists the distinct absolute URLs that the page /load/{n} references:
// exactly 20 — the stylesheet, script and crest (as icon and logo) of every page on the
// static origin, 4 SVG tiles and 3 PNG photos on the static origin, and 10 SVG images on
// the portal origin. n must be in 1..MaxLoadPage.
func (s *Server) Subresources(n int) []string {
	out := []string{s.urls.Static + "/v1/site.css", s.urls.Static + "/v1/crest.svg", s.urls.Static + "/v1/site.js"}
	for _, im := range s.loadImages(n) {
		if strings.HasPrefix(im.URL, "/") {
			im.URL = s.urls.Portal + im.URL
		}
		out = append(out, im.URL)
	}
	return out
}
