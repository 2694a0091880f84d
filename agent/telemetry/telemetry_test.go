package telemetry

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"smartpath/agent/session"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

func TestHealthz(t *testing.T) {
	tel := New()
	h := tel.Handler()
	code, body := get(t, h, "/healthz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"status":"starting"`) {
		t.Errorf("starting: %d %s", code, body)
	}
	tel.SetPhase("idle")
	tel.SetReaderPresent(true)
	tel.SetPCSCDUp(true)
	tel.SetLastError("portal_unavailable")
	code, body = get(t, h, "/healthz")
	var got Health
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if code != 200 || got.Status != "ok" || got.State != "idle" || !got.ReaderPresent || !got.PCSCDUp ||
		got.LastError != "portal_unavailable" || got.LastErrorAt.IsZero() {
		t.Errorf("idle: %d %s", code, body)
	}
	tel.SetPhase("out_of_order")
	if code, body = get(t, h, "/healthz"); code != http.StatusServiceUnavailable || !strings.Contains(body, `"status":"out_of_order"`) {
		t.Errorf("out of order: %d %s", code, body)
	}
}

func TestMetricsNames(t *testing.T) {
	tel := New()
	tel.SetPhase("session")
	tel.SessionEnded("idle_timeout", 90*time.Second)
	tel.PINVerification("wrong")
	tel.CardSignature()
	tel.CardEvent("inserted")
	tel.PortalError("portal_untrusted")
	tel.PCSCDRestarted()
	tel.SetUIConnections(2)
	tel.Wiped(3 * time.Millisecond)
	tel.SetVersion("v1.2.3")
	code, body := get(t, tel.Handler(), "/metrics")
	if code != 200 {
		t.Fatal(code)
	}
	for _, want := range []string{
		`kiosk_sessions_total{outcome="idle_timeout"} 1`,
		`kiosk_session_duration_seconds_count 1`,
		`kiosk_state{phase="session"} 1`,
		`kiosk_state{phase="idle"} 0`,
		`kiosk_pin_verifications_total{result="wrong"} 1`,
		`kiosk_pin_verifications_total{result="blocked"} 0`,
		`kiosk_card_signatures_total 1`,
		`kiosk_card_events_total{kind="inserted"} 1`,
		`kiosk_portal_errors_total{code="portal_untrusted"} 1`,
		`kiosk_pcscd_restarts_total 1`,
		`kiosk_ui_connections 2`,
		`kiosk_wipe_duration_seconds_bucket{le="0.005"} 1`,
		`kiosk_build_info{goversion="go`,
		`version="v1.2.3"} 1`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestLabelsOnlyFromFixedLists(t *testing.T) {
	tel := New()
	tel.SessionEnded("Jane Citizen", time.Second)
	tel.PINVerification("123456")
	tel.CardEvent("serial 0042")
	tel.PortalError("https://portal.council.example/repairs/42")
	tel.SetLastError("Jane")
	tel.SetPhase("Jane")
	_, body := get(t, tel.Handler(), "/metrics")
	for _, bad := range []string{"Jane", "123456", "0042", "portal.council"} {
		if strings.Contains(body, bad) {
			t.Errorf("/metrics contains %q", bad)
		}
	}
	if !strings.Contains(body, `kiosk_sessions_total{outcome="other"} 1`) {
		t.Error("unknown outcome not recorded as other")
	}
	_, health := get(t, tel.Handler(), "/healthz")
	if strings.Contains(health, "Jane") {
		t.Errorf("/healthz: %s", health)
	}
}

// A whole session with a named citizen through the real state machine leaves no citizen data
// in /metrics or /healthz (docs/security.md, invariant 6).
func TestNoCitizenDataAfterSession(t *testing.T) {
	const name, portalURL, pin = "Zoe Quixotic-Citizen", "http://127.0.0.1:8471/home/zq-private", "24681357"
	tel := New()
	m := session.New(session.Config{IdleTimeout: time.Minute, IdleWarning: 10 * time.Second, MaxLength: time.Hour,
		GoodbyeAfter: time.Second, PINMin: 6, PINMax: 8, Languages: []string{"en"}, DefaultLanguage: "en"},
		session.Deps{Card: namedCard{name}, Portal: urlPortal{portalURL}, Metrics: tel})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx, session.Links{}) }()
	states, unsub := m.Subscribe()
	wait := func(p session.Phase) {
		t.Helper()
		timeout := time.After(5 * time.Second)
		for {
			select {
			case s := <-states:
				if s.Phase == p {
					return
				}
			case <-timeout:
				t.Fatalf("timed out waiting for %s", p)
			}
		}
	}
	m.Send(session.ServiceRestored{})
	m.Send(session.ReaderFound{})
	m.Send(session.CardInserted{Reader: "Virtual PCD 00 00"})
	wait(session.PhasePIN)
	m.SubmitPIN([]byte(pin))
	wait(session.PhaseSession)
	m.Send(session.CardRemoved{Reader: "Virtual PCD 00 00"})
	wait(session.PhaseIdle)
	cancel()
	<-done
	unsub()

	_, metrics := get(t, tel.Handler(), "/metrics")
	_, health := get(t, tel.Handler(), "/healthz")
	for _, secret := range []string{"Zoe", "Quixotic", "zq-private", "/home", pin, "8471", "Virtual PCD"} {
		if strings.Contains(metrics, secret) || strings.Contains(health, secret) {
			t.Errorf("citizen data %q exported", secret)
		}
	}
	for _, want := range []string{`kiosk_sessions_total{outcome="card_removed"} 1`, `kiosk_pin_verifications_total{result="ok"} 1`,
		`kiosk_card_events_total{kind="read_ok"} 1`, `kiosk_wipe_duration_seconds_count 2`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

type namedCard struct{ name string }

func (c namedCard) Read(context.Context, string) (session.CardInfo, error) {
	return session.CardInfo{Name: c.name, PINTriesLeft: 3}, nil
}
func (namedCard) Verify(context.Context, []byte) (session.PINAnswer, error) {
	return session.PINAnswer{Credential: &session.Credential{}}, nil
}
func (namedCard) Logout(context.Context) error { return nil }

type urlPortal struct{ url string }

type urlSession struct{ url string }

func (p urlPortal) Open(context.Context, session.Credential, session.PortalEvents) (session.PortalSession, error) {
	return urlSession{p.url}, nil
}
func (s urlSession) HomeURL() string          { return s.url }
func (urlSession) SetDisplay(session.Display) {}
func (urlSession) Close() error               { return nil }
