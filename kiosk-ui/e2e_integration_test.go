//go:build integration && linux

package kioskui

import (
	"image"
	"regexp"
	"strings"
	"testing"
	"time"

	"smartpath/testing/kiosktest"
	"smartpath/testing/vcard"
)

// TestShellWithRealAgent runs the shell against the real kiosk: kiosk-agent with its
// embedded screens, the demo portal behind the portal proxy, a private pcscd and virtual
// cards, with ui.require_shell on as in production. It checks the attract screen, a
// citizen's session with the portal in its frame, and that at every session end the agent
// orders the shell to start a fresh browser and the shell confirms, for two citizens in a
// row. (What a fresh browser leaves behind is TestShellTwoCitizens' and
// TestHostilePortalPage's job.)
func TestShellWithRealAgent(t *testing.T) {
	requireTools(t)
	env := kiosktest.Start(t, kiosktest.Options{Config: kiosktest.WithShell})
	display := startXvfb(t)
	sh := startShell(t, display, nil, "-url-file", env.Config.UI.URLFile)
	sh.waitLog(t, 0, `msg="kiosk UI loaded"`, 30*time.Second)

	attract := waitScreen(t, display, "the attract screen", func(img image.Image) bool {
		return !near(pixel(img, 640, 100), rgb{0x10, 0x24, 0x3e}) && colours(img) > 20
	})

	for i, who := range []string{"Jane Citizen", "Nikos Papadopoulos"} {
		card := env.NewCard(t, who, "C-100"+string(rune('1'+i)), vcard.AlgP256)
		remove := env.Insert(t, card)
		waitAgentLog(t, env, `"to":"pin"`, i)
		waitPINPad(t, display)
		xdotool(t, display, "mousemove", "640", "400", "type", "--delay", "50", vcard.DefaultPIN)
		xdotool(t, display, "key", "Return")
		waitAgentLog(t, env, `"to":"session"`, i)
		waitScreen(t, display, who+"'s session", func(img image.Image) bool {
			same, _ := sameImage(attract, img)
			return !same && colours(img) > 20
		})
		from := sh.nLog()
		remove()
		sh.waitLog(t, from, `msg=wiped orders=1`, 15*time.Second)
	}
	for _, l := range sh.lines() {
		if strings.Contains(l, "msg=refused") && !strings.Contains(l, "what=shortcut") {
			t.Errorf("the real UI or portal was refused something: %s", l)
		}
	}
}

// waitAgentLog waits until the agent has logged re more than n times.
func waitAgentLog(t testing.TB, env *kiosktest.Env, re string, n int) {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(30 * time.Second)
	for len(rx.FindAllStringIndex(env.AgentLog(), -1)) <= n {
		if time.Now().After(deadline) {
			t.Fatalf("the agent did not log %q (%d times) within 30 s", re, n+1)
		}
		time.Sleep(50 * time.Millisecond) // polling the agent's log with a deadline
	}
}

// waitScreen polls screenshots until ok accepts one.
func waitScreen(t testing.TB, display, what string, ok func(image.Image) bool) image.Image {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		img := screenshot(t, display)
		if ok(img) {
			return img
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is not shown (screenshot %s)", what, saveShot(t, img, "screen.png"))
		}
	}
}

// colours counts distinct colours on a coarse grid: a page with content has many.
func colours(img image.Image) int {
	seen := map[rgb]bool{}
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y += 8 {
		for x := r.Min.X; x < r.Max.X; x += 8 {
			seen[pixel(img, x, y)] = true
		}
	}
	return len(seen)
}
