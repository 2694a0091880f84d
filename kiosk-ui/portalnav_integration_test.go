//go:build integration && linux

package kioskui

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"smartpath/testing/kiosktest"
)

// navPortal is a portal that frames a page of its own and sends attachments. Its start
// page (cyan, so the screen shows when it is up) waits for the test to name the next URL,
// goes there, and reports every load, with how it was reached, to the hostile portal's
// report list.
type navPortal struct {
	*hostilePortal
	mu     sync.Mutex
	next   string
	served map[string]int
}

// The attachments, each with a marker no file on the kiosk may ever contain.
var navAttachments = map[string]struct {
	contentType string
	body        []byte
}{
	"text": {"text/plain; charset=utf-8", []byte("SMARTPATH-ATTACHMENT-TEXT\n" + strings.Repeat(strings.Repeat("\u2588", 100)+"\n", 30))},
	"png":  {"image/png", magentaPNG()},
	"pdf":  {"application/pdf", magentaPDF()},
	"zip":  {"application/zip", []byte("PK\x03\x04SMARTPATH-ATTACHMENT-ZIP")},
}

var magenta = rgb{0xff, 0x00, 0xff}

func magentaPNG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for y := 0; y < 300; y++ {
		for x := 0; x < 400; x++ {
			img.Set(x, y, color.RGBA{0xff, 0x00, 0xff, 0xff})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// magentaPDF is a one-page PDF filled with magenta, with a valid cross-reference table.
func magentaPDF() []byte {
	content := "1 0 1 rg 0 0 612 792 re f\n% SMARTPATH-ATTACHMENT-PDF\n"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(content), content),
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	var offsets []int
	for i, o := range objs {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

func (p *navPortal) goNext(u string) {
	p.mu.Lock()
	p.next = u
	p.mu.Unlock()
}

func (p *navPortal) count(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.served[path]
}

func (p *navPortal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.served[r.URL.Path]++
	p.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	if kind, ok := strings.CutPrefix(r.URL.Path, "/_extra/attach/"); ok {
		a, ok := navAttachments[kind]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", a.contentType)
		w.Header().Set("Content-Disposition", `attachment; filename="letter.`+kind+`"`)
		w.Write(a.body)
		return
	}
	switch r.URL.Path {
	case "/_extra/nav":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, navPage)
	case "/_extra/inner":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!DOCTYPE html><html><body style="background:#fefe00">
<script>fetch("/_extra/report", {method: "POST", body: JSON.stringify({who: "nav", kind: "inner",
  data: {parentTitle: (() => { try { return parent.document.title } catch (e) { return "blocked: " + e } })()}})});</script></body></html>`)
	case "/_extra/next":
		p.mu.Lock()
		next := p.next
		p.next = ""
		p.mu.Unlock()
		io.WriteString(w, next)
	default:
		p.hostilePortal.ServeHTTP(w, r)
	}
}

const navPage = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Nav</title>
<style>html, body { margin: 0; height: 100%; background: #00fefe }</style></head><body>
<iframe src="/_extra/inner" title="inner" style="width: 200px; height: 100px; border: 0"></iframe>
<script>
"use strict";
const nav = performance.getEntriesByType("navigation")[0];
fetch("/_extra/report", {method: "POST", body: JSON.stringify({who: "nav", kind: "page",
  data: {type: nav ? nav.type : "unknown", history: history.length}})});
let polls = 0;
const poll = setInterval(() => {
  if (++polls > 1200) { clearInterval(poll); return; }
  fetch("/_extra/next").then(r => r.text()).then(u => { if (u) { clearInterval(poll); location.href = u; } });
}, 100);
</script></body></html>`

// TestShellPortalFramesBackAndAttachments, in the real shell with the real agent: the portal
// frames a page of its own; every kind of attachment opens in the portal frame or is
// replaced by a page saying it cannot be opened, nothing is saved on the kiosk, and the
// citizen's Back (a real click on the bar) returns to the portal page each time.
func TestShellPortalFramesBackAndAttachments(t *testing.T) {
	requireTools(t)
	np := &navPortal{hostilePortal: newHostilePortal(), served: map[string]int{}}
	env := kiosktest.Start(t, extraPortal(np, "/_extra/nav"))
	display := startXvfb(t)
	home, data := t.TempDir(), t.TempDir()
	sh := startShell(t, display, []string{"HOME=" + home, "XDG_DOWNLOAD_DIR=" + filepath.Join(home, "Downloads")},
		"-data-dir", data, "-url-file", env.Config.UI.URLFile)
	sh.waitLog(t, 0, `msg="kiosk UI loaded"`, 30*time.Second)
	waitScreen(t, display, "the attract screen", func(img image.Image) bool { return colours(img) > 20 })
	defer shellSignIn(t, env, display, "Jane Citizen", "C-1001", 0)()

	// waitPage waits for the portal page's next load and checks how it was reached and the
	// joint history's length there: 1 at the start; after each Back, 2 (the page and the
	// attachment ahead of it). Home, or the page loaded anew, would be "navigate" and 3.
	var last time.Time // when the page last reported
	waitPage := func(what, typ string, history float64) hostileReport {
		t.Helper()
		r := np.wait(t, what, func(r hostileReport) bool {
			return r.Who == "nav" && r.Kind == "page" && r.At.After(last)
		})
		last = r.At
		if got := r.Data["history"]; got != history || r.Data["type"] != typ {
			var seen []string
			for _, r := range np.all() {
				seen = append(seen, r.Raw)
			}
			t.Fatalf("%s: history.length %v at the portal page (reached by %v), want %s and %v; the page's reports: %s", what, got, r.Data["type"], typ, history, strings.Join(seen, " "))
		}
		return r
	}
	waitPage("the portal's start page", "navigate", 1)
	inner := np.wait(t, "the portal's own framed page", func(r hostileReport) bool { return r.Who == "nav" && r.Kind == "inner" })
	if got := inner.Data["parentTitle"]; got != "Nav" {
		t.Errorf("the portal's framed page did not load inside its own page: %v", got)
	}
	cyan := rgb{0x00, 0xfe, 0xfe}
	start := waitScreen(t, display, "the portal's start page", func(img image.Image) bool { return colourCount(img, cyan) > 20000 })

	var back image.Point
	for _, kind := range []string{"pdf", "text", "png", "zip"} {
		np.goNext("/_extra/attach/" + kind)
		shown := waitScreen(t, display, "the "+kind+" attachment in the frame with Back enabled", func(img image.Image) bool {
			if colourCount(img, cyan) > 100 {
				return false
			}
			if (kind == "png" || kind == "pdf") && colourCount(img, magenta) < 20000 {
				return false // the image, or the PDF's page, is drawn
			}
			_, ok := newlyWhite(start, img)
			return ok
		})
		if back == (image.Point{}) {
			back, _ = newlyWhite(start, shown)
		}
		if kind == "pdf" {
			// The viewer's own Download and Print buttons, where they are at 1280×800: the
			// shell refuses both, and the check below finds no file.
			for _, x := range []string{"1229", "1199"} {
				xdotool(t, display, "mousemove", x, "149", "click", "1")
			}
		}
		xdotool(t, display, "mousemove", fmt.Sprint(back.X), fmt.Sprint(back.Y), "click", "1")
		waitPage("Back from the "+kind+" attachment", "back_forward", 2)
		waitScreen(t, display, "the portal page after Back", func(img image.Image) bool { return colourCount(img, cyan) > 20000 })
		if n := np.count("/_extra/attach/" + kind); n != 1 {
			t.Errorf("the %s attachment was fetched %d times, want once (shown, not downloaded)", kind, n)
		}
	}

	t.Run("nothing saved", func(t *testing.T) {
		for _, dir := range []string{home, data} {
			filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return nil
				}
				b, _ := os.ReadFile(path)
				for kind, a := range navAttachments {
					if strings.Contains(d.Name(), "letter.") || bytes.Contains(b, []byte("SMARTPATH-ATTACHMENT-")) || bytes.Contains(b, a.body) {
						t.Errorf("%s: the %s attachment was saved on the kiosk", path, kind)
					}
				}
				return nil
			})
		}
	})
}

// newlyWhite finds, in the kiosk bar of after, the pure white pixels that were not white
// in before, and returns the centre of the leftmost group of them: Back, which became
// enabled (the session clock, further right, changes too). The bar is the band at the top
// whose left edge has the bar's colour.
func newlyWhite(before, after image.Image) (image.Point, bool) {
	white, bar := rgb{0xff, 0xff, 0xff}, rgb{0x13, 0x2a, 0x4c}
	var pts []image.Point
	for y := 0; y < before.Bounds().Dy() && near(pixel(before, 1, y), bar); y++ {
		for x := 0; x < after.Bounds().Dx(); x++ {
			if pixel(after, x, y) == white && !near(pixel(before, x, y), white) {
				pts = append(pts, image.Pt(x, y))
			}
		}
	}
	if len(pts) == 0 {
		return image.Point{}, false
	}
	left := pts[0].X
	for _, p := range pts {
		left = min(left, p.X)
	}
	var sum image.Point
	n := 0
	for _, p := range pts {
		if p.X < left+backButtonWidth {
			sum = sum.Add(p)
			n++
		}
	}
	if n < 50 {
		return image.Point{}, false
	}
	return sum.Div(n), true
}

// backButtonWidth is more than Back's width and less than the gap from its left edge to
// the clock at 1280×800 (Back is about 130 px wide, the clock starts 300 px to its right).
const backButtonWidth = 200
