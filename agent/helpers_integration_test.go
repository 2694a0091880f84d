//go:build integration

package agent_test

import (
	"context"
	"encoding/binary"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"smartpath/testing/kiosktest"
	"smartpath/testing/vcard"
	"smartpath/testing/waitfor"
)

// Helpers shared by the agent's integration tests (the lead's session_integration_test.go
// has browser, get, signIn, waitFor and wait).

// pinVerified asks the card itself, in process, whether its PIN is verified now: an empty
// VERIFY answers 9000 when it is and 63Cx when it is not. The card is safe for concurrent
// use, so this does not disturb the agent's connection through pcscd.
func pinVerified(t *testing.T, card *vcard.Card) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := card.Transmit(ctx, []byte{0x00, 0x20, 0x00, 0x80})
	if err != nil {
		t.Fatalf("ask the card for its PIN status: %v", err)
	}
	if len(resp) < 2 {
		t.Fatalf("empty VERIFY: short response % X", resp)
	}
	sw := binary.BigEndian.Uint16(resp[len(resp)-2:])
	switch {
	case sw == 0x9000:
		return true
	case sw&0xFFF0 == 0x63C0, sw == 0x6983:
		return false
	}
	t.Fatalf("empty VERIFY: unexpected status %04X", sw)
	return false
}

// openPortal loads the session's portal URL as the kiosk window does, with a fresh cookie
// jar (the proxy may admit only the window that entered through that URL), and returns the
// client and the local home origin with a trailing slash, for further pages.
func openPortal(t *testing.T, st kiosktest.State) (*http.Client, string) {
	t.Helper()
	if st.Session == nil {
		t.Fatalf("no session in state %+v", st)
	}
	u, err := url.Parse(st.Session.PortalURL)
	if err != nil {
		t.Fatal(err)
	}
	c := browser()
	get(t, c, st.Session.PortalURL)
	return c, u.Scheme + "://" + u.Host + "/"
}

// cookieHeader is the Cookie header c would send to the local origin host.
func cookieHeader(c *http.Client, host string) string {
	var parts []string
	for _, k := range c.Jar.Cookies(&url.URL{Scheme: "http", Host: host, Path: "/"}) {
		parts = append(parts, k.Name+"="+k.Value)
	}
	if len(parts) == 0 {
		return ""
	}
	return "Cookie: " + strings.Join(parts, "; ") + "\r\n"
}

// waitLogCount waits until the agent's log holds at least n lines containing substr.
func waitLogCount(t *testing.T, env *kiosktest.Env, substr string, n int) {
	t.Helper()
	waitfor.Until(t, waitfor.Timeout, "agent log lines with "+substr, func() bool {
		return strings.Count(env.AgentLog(), substr) >= n
	})
}

// proxyGone checks that nothing answers at a session's portal URL any more.
func proxyGone(t *testing.T, portalURL string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(portalURL)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("the proxy still serves the ended session at %s: %s", portalURL, resp.Status)
	}
}

// phasesUntil reads states until one is in phase want, and returns every phase seen on the
// way (want last).
func phasesUntil(ui *kiosktest.UI, want string) []string {
	var seen []string
	ui.WaitState("phase "+want, wait, func(s kiosktest.State) bool {
		seen = append(seen, s.Phase)
		return s.Phase == want
	})
	return seen
}
