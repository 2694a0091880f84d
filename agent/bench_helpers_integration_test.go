//go:build integration

package agent_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"

	"smartpath/agent/session"
	"smartpath/testing/kiosktest"
	"smartpath/testing/vcard"
)

// A benchVisit is one citizen from card in to session open, for the benchmarks.
type benchVisit struct {
	home   string // the portal home page through the proxy
	remove func() // pulls the card and waits until its socket is closed
}

// openSession inserts card, enters the right PIN and waits for the session phase.
func benchOpenSession(b *testing.B, env *kiosktest.Env, ui *kiosktest.UI, card *vcard.Card) benchVisit {
	b.Helper()
	remove := env.Insert(b, card)
	ui.WaitPhase("pin", wait)
	ui.SendPIN(vcard.DefaultPIN)
	st := ui.WaitPhase("session", wait)
	return benchVisit{home: st.Session.PortalURL, remove: remove}
}

// newBrowser is a fresh browser: its own cookie jar and connection pool, as a new webview
// page would have after the last session's wipe.
func benchBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
}

func benchCloseBrowser(c *http.Client) { c.Transport.(*http.Transport).CloseIdleConnections() }

// loadSession loads n pages with their 20 subresources each, all in parallel, as a webview
// would, after the home page.
func benchLoadSession(c *http.Client, home string, n int) error {
	if _, err := fetch(c, home); err != nil {
		return err
	}
	base := strings.TrimSuffix(home, "/")
	var wg sync.WaitGroup
	errs := make(chan error, n*32)
	for i := 1; i <= n; i++ {
		wg.Go(func() {
			body, err := fetch(c, fmt.Sprintf("%s/load/%d", base, i))
			if err != nil {
				errs <- err
				return
			}
			srcs := subresources(base, body)
			if len(srcs) < 20 {
				errs <- fmt.Errorf("page %d references %d subresources through the proxy, want 20", i, len(srcs))
			}
			for _, src := range srcs {
				wg.Go(func() {
					if _, err := fetch(c, src); err != nil {
						errs <- err
					}
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs // nil when there was none
}

// benchRemovalClock timestamps the agent's log line for the monitor's CardRemoved event. The
// agent logs it (at debug level) synchronously before it hands the event to the session
// machine, so the moment of that Write is the moment the agent learnt of the removal.
type benchRemovalClock struct {
	at chan time.Time
}

func newBenchRemovalClock() *benchRemovalClock {
	return &benchRemovalClock{at: make(chan time.Time, 16)}
}

func (r *benchRemovalClock) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(`"msg":"pc/sc event"`)) && bytes.Contains(p, []byte(`"kind":"card removed"`)) {
		select {
		case r.at <- time.Now():
		default:
		}
	}
	return len(p), nil
}

func (r *benchRemovalClock) drain() {
	for {
		select {
		case <-r.at:
		default:
			return
		}
	}
}

func (r *benchRemovalClock) next(b *testing.B) time.Time {
	b.Helper()
	select {
	case t := <-r.at:
		return t
	case <-time.After(wait):
		b.Fatalf("the agent logged no card removed event within %v", wait)
		return time.Time{}
	}
}

// benchPhaseClock timestamps the session machine's published phase changes (it publishes after
// the effects of a step have run, so "idle" after a card removal means the wipe is done).
type benchPhaseClock struct {
	idle chan time.Time
}

func benchWatchPhases(b *testing.B, m *session.Machine) *benchPhaseClock {
	states, unsubscribe := m.Subscribe()
	pc := &benchPhaseClock{idle: make(chan time.Time, 16)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		last := session.Phase("")
		for st := range states {
			if st.Phase == session.PhaseIdle && last != session.PhaseIdle {
				select {
				case pc.idle <- time.Now():
				default:
				}
			}
			last = st.Phase
		}
	}()
	b.Cleanup(func() { unsubscribe(); <-done })
	return pc
}

func (p *benchPhaseClock) drain() {
	for {
		select {
		case <-p.idle:
		default:
			return
		}
	}
}

func (p *benchPhaseClock) nextIdle(b *testing.B) time.Time {
	b.Helper()
	select {
	case t := <-p.idle:
		return t
	case <-time.After(wait):
		b.Fatalf("the session machine published no idle phase within %v", wait)
		return time.Time{}
	}
}

// cardTime is how long the emulation makes the card take for apdus APDUs and sigs private-key
// operations of alg: the card's own time, which the agent cannot shorten.
func benchCardTime(em vcard.Emulation, alg vcard.Alg, apdus, sigs int) time.Duration {
	key := em.ECLatency
	if alg == vcard.AlgRSA2048 {
		key = em.RSALatency
	}
	return time.Duration(apdus)*(em.APDULatency+em.SlowAnswer) + time.Duration(sigs)*key
}
