//go:build integration

package screens_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smartpath/kiosk-ui/screens"
	"smartpath/testing/kiosktest"
	"smartpath/testing/vcard"
)

// clickPortalLink clicks, with the real mouse, the portal frame's link whose text is text,
// and waits for the frame to leave the page it was on. It returns the new page's URL.
func clickPortalLink(t *testing.T, k screens.Kiosk, text string) string {
	t.Helper()
	xy := inPortal[[]float64](t, k.Context(), fmt.Sprintf(`(() => {
		const a = [...document.querySelectorAll("a")].find(a => a.textContent.trim() === %q);
		if (!a) return [];
		a.scrollIntoView({block: "center"});
		const r = a.getBoundingClientRect();
		return [r.x + r.width / 2, r.y + r.height / 2];
	})()`, text))
	if len(xy) != 2 {
		t.Fatalf("the portal page has no %q link: %.300s", text, inPortal[string](t, k.Context(), `document.body.innerText`))
	}
	frame := screensRect(t, k, "portal-frame")
	scale := frameScale(k)
	before := inPortal[string](t, k.Context(), `location.href`)
	k.Run(chromedp.MouseClickXY(frame[0]+xy[0]*scale, frame[1]+xy[1]*scale))
	waitPortalLeaves(t, k.Context(), before)
	return inPortal[string](t, k.Context(), `location.href`)
}

// frameScale is how much the UI zooms the portal's frame (1.375 with larger text, else 1):
// a point in the frame's coordinates is this many CSS px of the UI's.
func frameScale(k screens.Kiosk) float64 {
	var scale float64
	if _, err := fmt.Sscanf(k.Str(`(() => { const f = document.getElementById("portal-frame");
		return String(f.getBoundingClientRect().width / f.offsetWidth); })()`), "%g", &scale); err != nil || scale <= 0 {
		return 1
	}
	return scale
}

// waitPortalAt waits until the portal frame has loaded url.
func waitPortalAt(t *testing.T, k screens.Kiosk, url, what string) {
	t.Helper()
	waitPortal(t, k, fmt.Sprintf(`document.readyState === "complete" && location.href === %q`, url), what)
}

// waitPortal waits until expr is true in the portal frame.
func waitPortal(t *testing.T, k screens.Kiosk, expr, what string) {
	t.Helper()
	deadline := time.Now().Add(realWait)
	for time.Now().Before(deadline) {
		if ok, err := evalInPortal[bool](k.Context(), expr); err == nil && ok {
			return
		}
		time.Sleep(20 * time.Millisecond) // polling the frame with a deadline
	}
	href, _ := evalInPortal[string](k.Context(), `location.href`)
	t.Fatalf("the portal frame: %s did not happen within %v; it is at %s", what, realWait, href)
}

// signedIn starts the real agent and signs a citizen in with the on-screen keypad; it
// returns once the portal greets them in the frame.
func signedIn(t *testing.T) (*kiosktest.Env, screens.Kiosk) {
	t.Helper()
	env, k := startReal(t, kiosktest.Options{})
	env.Insert(t, env.NewCard(t, citizen, "C-1001", vcard.AlgP256))
	k.WaitPhase("pin")
	tapPIN(k, vcard.DefaultPIN)
	k.WaitPhase("session")
	waitPortalGreets(t, k, citizen)
	return env, k
}

// The citizen's Back and Home in the kiosk bar move the portal frame, and a document the
// portal sends as an attachment (the letter's download) opens in the frame, from where Back
// returns: nothing is saved and the citizen is never stuck. Back never leaves the kiosk UI.
func TestRealAgentBackHomeAndAttachment(t *testing.T) {
	_, k := signedIn(t)
	ui := k.Str(`location.href`)
	home := inPortal[string](t, k.Context(), `location.href`)
	backEnabled := func(want bool) {
		t.Helper()
		k.WaitJS(fmt.Sprintf(`document.getElementById("session-back").disabled === %v`, !want), fmt.Sprintf("Back enabled = %v", want))
	}
	backEnabled(false)

	documents := clickPortalLink(t, k, "Documents")
	backEnabled(true)
	letter := clickPortalLink(t, k, "Your tenancy agreement")
	download := clickPortalLink(t, k, "Download this letter")
	if !strings.HasSuffix(download, "/download") {
		t.Fatalf("after the download link the frame is at %s", download)
	}
	waitPortal(t, k, `document.contentType === "text/plain" && document.body.innerText.includes("Dear Jane Citizen")`,
		"the attached letter shown as text in the frame")

	// Back, one page at a time, to the first; then Back is disabled and does nothing.
	for _, want := range []string{letter, documents, home} {
		k.Click("#session-back")
		waitPortalAt(t, k, want, "Back to "+want)
	}
	backEnabled(false)
	k.Click("#session-back")
	if got := k.Str(`location.href`); got != ui || k.Str(`document.body.dataset.phase`) != "session" {
		t.Fatalf("after Back on the first page the kiosk is at %s, phase %s", got, k.Str(`document.body.dataset.phase`))
	}

	// Home, from two pages in.
	clickPortalLink(t, k, "Documents")
	clickPortalLink(t, k, "Your tenancy agreement")
	k.Click("#session-home")
	waitPortalAt(t, k, home, "Home")
	waitPortalGreets(t, k, citizen)
	backEnabled(true) // Home is a page of its own: Back returns to the letter
	k.Click("#session-back")
	waitPortalAt(t, k, letter, "Back after Home")

	// A script's clicks on Back and Home move nothing: the citizen's next Back goes one page
	// back from the letter (a scripted Back would make it two, a scripted Home none).
	k.Str(`(() => { document.getElementById("session-back").click(); document.getElementById("session-home").click(); return "" })()`)
	k.Click("#session-back")
	waitPortalAt(t, k, documents, "the citizen's Back after a script's Back and Home")

	if got := k.Str(`location.href`); got != ui {
		t.Errorf("the kiosk UI document moved to %s", got)
	}
	k.NoErrors()
}

// The portal's own Sign out (portal.end_session_urls) ends the kiosk session as End session
// does: the bar stops saying who is signed in, the clock stops, the frame goes, the card is
// logged out and the screen asks for the card. A portal page that merely fetches its sign-out
// address (a script, not the citizen) ends nothing.
func TestRealAgentPortalSignOutEndsTheSession(t *testing.T) {
	env, k := signedIn(t)

	// The portal's script posting to its sign-out address is not the citizen signing out.
	inPortal[string](t, k.Context(), `(() => { fetch("/logout", {method: "POST", body: new URLSearchParams({csrf: "x"})}); return ""; })()`)
	clickPortalLink(t, k, "Documents") // a navigation after the fetch: the session goes on
	if got := k.Str(`document.body.dataset.phase`); got != "session" {
		t.Fatalf("after the portal's script fetched /logout the kiosk is in %s, want session", got)
	}

	xy := inPortal[[]float64](t, k.Context(), `(() => {
		const b = document.querySelector("form.signout button");
		if (!b) return [];
		const r = b.getBoundingClientRect();
		return [r.x + r.width / 2, r.y + r.height / 2];
	})()`)
	if len(xy) != 2 {
		t.Fatal("the portal page has no Sign out button")
	}
	frame := screensRect(t, k, "portal-frame")
	k.Run(chromedp.MouseClickXY(frame[0]+xy[0], frame[1]+xy[1]))
	k.WaitPhase("goodbye")
	k.WaitJS(`document.getElementById("session-title").textContent === "" && !document.getElementById("portal-frame")`,
		"the bar and the frame forget the citizen")
	if got, want := k.Str(`document.getElementById("goodbye-reason").textContent`), screens.Msg(t, "en", "goodbye.reason.ended", nil); got != want {
		t.Errorf("goodbye reason %q, want %q (as End session)", got, want)
	}
	if !strings.Contains(env.AgentLog(), `"reason":"ended"`) {
		t.Error("the agent did not wipe the session with reason ended")
	}
	k.NoErrors()
}
