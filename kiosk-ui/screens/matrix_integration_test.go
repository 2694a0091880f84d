//go:build integration

package screens

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// The kiosk layouts libraries have: the common landscape screens and a portrait one.
var resolutions = []struct {
	name string
	w, h int64
}{{"1280x800", 1280, 800}, {"1920x1080", 1920, 1080}, {"1080x1920", 1080, 1920}}

// The citizen's display choices, as the agent's state carries them.
var displayModes = []struct {
	name    string
	display *displayInfo
}{
	{"normal", &displayInfo{}}, {"large", &displayInfo{LargeText: true}}, {"contrast", &displayInfo{HighContrast: true}},
}

// layoutProblems lists what a citizen would trip over on the screen shown (or the idle
// warning when it is open), as text, "" when nothing: a page that scrolls, a visible element
// outside the viewport, a control smaller than 44×44 CSS px, a button whose text touches or
// crosses its edges.
const layoutProblems = `(() => {
	const de = document.documentElement, vw = de.clientWidth, vh = de.clientHeight;
	const out = [];
	const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
		(typeof e.className === "string" && e.className ? "." + e.className.trim().split(/\s+/).join(".") : "") +
		(e.textContent ? " " + JSON.stringify(e.textContent.trim().slice(0, 30)) : "");
	if (de.scrollWidth > vw + 1 || de.scrollHeight > vh + 1) out.push("the page scrolls: " + de.scrollWidth + "x" + de.scrollHeight + " in " + vw + "x" + vh);
	const dialog = document.getElementById("idle-warning");
	const roots = dialog.open ? [dialog] : [document.querySelector("main > .screen:not([hidden])")];
	for (const root of roots) {
		for (const e of [root, ...root.querySelectorAll("*")]) {
			if (!e.checkVisibility({ checkOpacity: false, checkVisibilityCSS: true }) || e.closest(".visually-hidden")) continue;
			const r = e.getBoundingClientRect();
			if (r.width === 0 || r.height === 0) continue;
			if (r.left < -1 || r.top < -1 || r.right > vw + 1 || r.bottom > vh + 1) {
				out.push(name(e) + " is outside the screen: " + [r.left, r.top, r.right, r.bottom].map(Math.round).join(","));
			}
			if (e.tagName !== "BUTTON") continue;
			if (r.width < 44 || r.height < 44) out.push(name(e) + " is smaller than 44x44: " + Math.round(r.width) + "x" + Math.round(r.height));
			// The label's box: its visible text (a visually hidden part, read out only, aside).
			const t = { left: Infinity, right: -Infinity, width: 0 };
			const walk = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
			for (let n = walk.nextNode(); n; n = walk.nextNode()) {
				if (!n.textContent.trim() || getComputedStyle(n.parentElement).position === "absolute") continue;
				const range = document.createRange();
				range.selectNodeContents(n);
				const b = range.getBoundingClientRect();
				t.left = Math.min(t.left, b.left);
				t.right = Math.max(t.right, b.right);
			}
			t.width = Math.max(0, t.right - t.left);
			const s = getComputedStyle(e);
			const left = r.left + parseFloat(s.borderLeftWidth), right = r.right - parseFloat(s.borderRightWidth);
			if (t.width > 0 && (t.left - left < 4 || right - t.right < 4)) {
				out.push(name(e) + " has its text against its edges: " + Math.round(t.left - left) + " and " + Math.round(right - t.right) + " px");
			}
		}
	}
	return out.slice(0, 12).join("\n");
})()`

// Every screen × language × {normal, larger text, high contrast} × the three resolutions,
// in real Chromium: each fits without scrolling, keeps every control on screen and at least
// 44×44 px with room around its text, and has no serious or critical axe violation. With
// -update (SCREENS_UPDATE=1) the 1280×800 images in docs/screens are rewritten from it, and
// with SCREENS_MATRIX=dir every image of the matrix is written to dir.
func TestScreenMatrix(t *testing.T) {
	matrixDir := os.Getenv("SCREENS_MATRIX")
	for _, lang := range Languages() {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			a, k := kioskIn(t, lang)
			cat := catalog(t, lang)
			for _, step := range screenSteps(a, lang) {
				k.show(a, cat, step)
				for _, mode := range displayModes {
					a.Update(func(s *agentState) { s.Display = mode.display })
					k.waitJS(fmt.Sprintf(`document.documentElement.classList.contains("large-text") === %v &&
						document.documentElement.classList.contains("high-contrast") === %v`, mode.display.LargeText, mode.display.HighContrast), mode.name)
					for _, res := range resolutions {
						name := fmt.Sprintf("%s-%s-%s-%s", step.name, lang, mode.name, res.name)
						run(t, k.ctx, chromedp.EmulateViewport(res.w, res.h))
						evalJS[chromedp.Void](t, k.ctx, `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))`, chromedp.EvalAwaitPromise)
						if p := k.str(layoutProblems); p != "" {
							t.Errorf("%s:\n%s", name, p)
						}
						if step.state.Phase == "session" && res.name == "1280x800" {
							// One row over the portal: 64 px, a little more with larger text.
							limit := map[bool]float64{false: 64, true: 80}[mode.display.LargeText]
							if h := evalJS[float64](t, k.ctx, `document.querySelector(".session-bar").getBoundingClientRect().height`); h > limit {
								t.Errorf("%s: the session bar is %.0f px high, want at most %.0f", name, h, limit)
							}
						}
						k.checkAxe(name)
						if matrixDir != "" {
							k.screenshotTo(matrixDir, name)
						}
						if mode.name == "normal" && res.name == "1280x800" {
							k.screenshot(step.name + "-" + lang)
						}
					}
				}
				run(t, k.ctx, chromedp.EmulateViewport(1280, 800))
				a.Update(func(s *agentState) { s.Display = nil })
			}
			k.noErrors()
		})
	}
}

// screenshotTo writes the page as it is now to dir/name.png.
func (k *kiosk) screenshotTo(dir, name string) {
	k.t.Helper()
	png, err := chromedp.Run(k.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		k.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		k.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), shrinkPNG(k.t, png), 0o644); err != nil {
		k.t.Fatal(err)
	}
}
