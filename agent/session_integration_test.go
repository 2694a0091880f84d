//go:build integration

package agent_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"

	"smartpath/testing/kiosktest"
	"smartpath/testing/vcard"
	"smartpath/testing/waitfor"
)

const wait = 15 * time.Second

func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

func get(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s\n%s", u, resp.Status, body)
	}
	return string(body)
}

// signIn walks a citizen from the attract screen to the portal and returns the session state.
func signIn(t *testing.T, ui *kiosktest.UI, pin string) kiosktest.State {
	t.Helper()
	st := ui.WaitPhase("pin", wait)
	if st.PIN == nil || st.PIN.TriesLeft == nil {
		t.Fatalf("pin state without tries left: %+v", st)
	}
	ui.SendPIN(pin)
	return ui.WaitPhase("session", wait)
}

// The whole citizen flow through the real pcscd, the virtual card and the demo portal, for
// each key type: wrong PIN shows tries left, right PIN opens the portal, a session of many
// parallel page loads costs one card signature, card removal wipes the session, and the next
// citizen gets a new handshake and only their own repairs.
func TestCitizenFlow(t *testing.T) {
	for _, alg := range []vcard.Alg{vcard.AlgP256, vcard.AlgRSA2048, vcard.AlgP384} {
		t.Run(alg.String(), func(t *testing.T) {
			env := kiosktest.Start(t, kiosktest.Options{})
			ui := env.DialUI(t)
			ui.WaitPhase("idle", wait)

			jane := env.NewCard(t, "Jane Citizen", "C-1001", alg)
			remove := env.Insert(t, jane)
			st := ui.WaitPhase("pin", wait)
			if got := *st.PIN.TriesLeft; got != 3 {
				t.Fatalf("tries left at insertion = %d, want 3", got)
			}
			ui.SendPIN("000000")
			st = ui.WaitState("wrong PIN", wait, func(s kiosktest.State) bool {
				return s.Phase == "pin" && s.PIN != nil && s.PIN.Wrong
			})
			if got := *st.PIN.TriesLeft; got != 2 {
				t.Fatalf("tries left after a wrong PIN = %d, want 2", got)
			}
			ui.SendPIN(vcard.DefaultPIN)
			st = ui.WaitPhase("session", wait)
			if st.Citizen == nil || st.Citizen.Name != "Jane Citizen" {
				t.Fatalf("session citizen = %+v", st.Citizen)
			}
			home := st.Session.PortalURL
			c := browser()
			if body := get(t, c, home); !strings.Contains(body, "Welcome, Jane Citizen") {
				t.Fatalf("home page does not greet Jane:\n%s", body)
			}
			loadPages(t, c, home, 5)
			if got := jane.Signatures(); got != 1 {
				t.Fatalf("card signatures for the session = %d, want 1", got)
			}
			if got := env.Portal.Stats().Handshakes; got != 1 {
				t.Fatalf("portal full handshakes = %d, want 1", got)
			}

			if log := env.AgentLog(); strings.Contains(log, "__smartpath/enter") || strings.Contains(log, "Jane Citizen") {
				t.Fatal("the agent's log holds the portal session's secret URL or the citizen's name")
			}

			remove()
			ui.WaitPhase("idle", wait)
			if ui.Wipes() == 0 {
				t.Fatal("no wipe message reached the UI at session end")
			}
			if resp, err := browser().Get(home); err == nil {
				resp.Body.Close()
				t.Fatalf("the proxy still serves the ended session: %s", resp.Status)
			}
			waitfor.Until(t, waitfor.Timeout, "upstream connections closed", func() bool { return env.Portal.ConnsOpen() == 0 })
			janeConns := connsOf(env, "Jane Citizen")

			// The next citizen: a new handshake, their own repairs only.
			nikos := env.NewCard(t, "Nikos Papadopoulos", "C-2002", alg)
			env.Insert(t, nikos)
			st = signIn(t, ui, vcard.DefaultPIN)
			c2 := browser()
			body := get(t, c2, st.Session.PortalURL)
			if !strings.Contains(body, "Welcome, Nikos Papadopoulos") || strings.Contains(body, "Jane") {
				t.Fatalf("second citizen's home page:\n%s", body)
			}
			repairs := get(t, c2, strings.TrimSuffix(st.Session.PortalURL, "/")+"/repairs")
			if strings.Contains(repairs, "C-1001") || strings.Contains(repairs, "Jane") {
				t.Fatalf("second citizen sees the first citizen's repairs:\n%s", repairs)
			}
			if got := env.Portal.Stats().Handshakes; got != 2 {
				t.Fatalf("portal full handshakes after the second citizen = %d, want 2", got)
			}
			if got := connsOf(env, "Jane Citizen"); got != janeConns {
				t.Fatalf("%d new portal connections carried the first citizen's identity after her card was removed", got-janeConns)
			}
		})
	}
}

// loadPages loads n pages with their 20 subresources each, all in parallel, as a webview would.
func loadPages(t *testing.T, c *http.Client, home string, n int) {
	t.Helper()
	base := strings.TrimSuffix(home, "/")
	var wg sync.WaitGroup
	errs := make(chan error, n*21)
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, err := fetch(c, fmt.Sprintf("%s/load/%d", base, i))
			if err != nil {
				errs <- err
				return
			}
			srcs := subresources(base, body)
			if len(srcs) < 20 {
				errs <- fmt.Errorf("page %d references %d subresources through the proxy, want 20: %v", i, len(srcs), srcs)
			}
			for _, src := range srcs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := fetch(c, src); err != nil {
						errs <- err
					}
				}()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func fetch(c *http.Client, u string) (string, error) {
	resp, err := c.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return string(b), err
}

// subresources finds the URLs in src= and href= attributes, resolved against base; a
// reference straight to an upstream https origin is kept as is so that fetching it fails.
func subresources(base, html string) []string {
	var out []string
	for _, attr := range []string{`src="`, `href="`} {
		rest := html
		for {
			i := strings.Index(rest, attr)
			if i < 0 {
				break
			}
			rest = rest[i+len(attr):]
			j := strings.IndexByte(rest, '"')
			if j < 0 {
				break
			}
			switch u := rest[:j]; {
			case strings.HasPrefix(u, "http://"), strings.HasPrefix(u, "https://"):
				out = append(out, u)
			case strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//"):
				out = append(out, base+u)
			}
		}
	}
	return out
}

// connsOf counts the portal connections (full or resumed) authenticated as cn.
func connsOf(env *kiosktest.Env, cn string) int {
	n := 0
	for _, c := range env.Portal.Conns() {
		if c.CN == cn {
			n++
		}
	}
	return n
}
