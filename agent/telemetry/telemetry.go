package telemetry

import (
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"smartpath/agent/session"
)

// Label values outside these lists are recorded as "other".
var (
	outcomes = []string{string(session.ReasonCardRemoved), string(session.ReasonIdleTimeout),
		string(session.ReasonEnded), string(session.ReasonMaxLength), string(session.ReasonShutdown),
		string(session.ReasonReaderLost), string(session.ReasonServiceLost)}
	pinResults = []string{"ok", "wrong", "blocked", "failed"}
	cardKinds  = []string{"inserted", "removed", "read_ok", "read_failed", "reader_added", "reader_removed"}
	// portalCodes are the codes a portal session can fail with (kiosk_portal_errors_total).
	portalCodes = []string{string(session.ErrCodePortalUnavailable), string(session.ErrCodePortalUntrusted),
		string(session.ErrCodeClientCertRefused)}
	errorCodes = []string{string(session.ErrCodeCardUnreadable), string(session.ErrCodeCardUnsupported),
		string(session.ErrCodeCardExpired), string(session.ErrCodePINBlocked), string(session.ErrCodePortalUnavailable),
		string(session.ErrCodePortalUntrusted), string(session.ErrCodeClientCertRefused),
		string(session.ErrCodeReaderMissing), string(session.ErrCodeOutOfOrder)}
)

func allow(v string, list []string) string {
	if slices.Contains(list, v) {
		return v
	}
	return "other"
}

// Telemetry holds the agent's metrics (on a registry of its own) and health.
type Telemetry struct {
	reg *prometheus.Registry

	sessions         *prometheus.CounterVec
	sessionDuration  prometheus.Histogram
	readerPresent    prometheus.Gauge
	pcscdUp          prometheus.Gauge
	state            *prometheus.GaugeVec
	pinVerifications *prometheus.CounterVec
	cardSignatures   prometheus.Counter
	cardEvents       *prometheus.CounterVec
	portalErrors     *prometheus.CounterVec
	pcscdRestarts    prometheus.Counter
	uiConnections    prometheus.Gauge
	wipeDuration     prometheus.Histogram
	shellConnected   prometheus.Gauge
	shellFailures    prometheus.Counter
	shellWipe        prometheus.Histogram
	buildInfo        *prometheus.GaugeVec

	mu     sync.Mutex
	health Health
}

var _ session.Metrics = (*Telemetry)(nil)

// New makes a Telemetry with every metric at zero, phase "starting", and build information
// from the binary.
func New() *Telemetry {
	t := &Telemetry{
		reg: prometheus.NewRegistry(),
		sessions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiosk_sessions_total", Help: "Citizen portal sessions ended, by how they ended.",
		}, []string{"outcome"}),
		sessionDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kiosk_session_duration_seconds", Help: "Length of citizen portal sessions.",
			Buckets: []float64{15, 30, 60, 120, 300, 600, 900, 1200, 1800, 2700, 3600},
		}),
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kiosk_state", Help: "1 for the kiosk's current phase, 0 for the others.",
		}, []string{"phase"}),
		pinVerifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiosk_pin_verifications_total", Help: "PIN VERIFY commands sent to cards, by result.",
		}, []string{"result"}),
		cardSignatures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kiosk_card_signatures_total", Help: "Signatures made with the card's key (TLS handshakes).",
		}),
		cardEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiosk_card_events_total", Help: "Card and reader events, by kind.",
		}, []string{"kind"}),
		portalErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiosk_portal_errors_total", Help: "Portal sessions that could not be opened, by error code.",
		}, []string{"code"}),
		pcscdRestarts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kiosk_pcscd_restarts_total", Help: "Times the PC/SC service came back after being lost.",
		}),
		uiConnections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kiosk_ui_connections", Help: "Open kiosk UI control-channel connections.",
		}),
		wipeDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kiosk_wipe_duration_seconds", Help: "Time to wipe a session (portal closed, card logged out, UI told).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
		readerPresent: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kiosk_reader_present", Help: "1 while a usable card reader is connected.",
		}),
		pcscdUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kiosk_pcscd_up", Help: "1 while the PC/SC service answers.",
		}),
		shellConnected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kiosk_shell_connected", Help: "1 while the kiosk shell is connected on its channel.",
		}),
		shellFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kiosk_shell_failures_total", Help: "Times the kiosk shell did not confirm a fresh browser in time (the kiosk went out of order).",
		}),
		shellWipe: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kiosk_shell_wipe_seconds", Help: "Time from a wipe order to the shell's confirmation that a fresh browser shows the UI.",
			Buckets: []float64{.025, .05, .1, .2, .3, .5, .75, 1, 1.5, 2, 3},
		}),
		buildInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kiosk_build_info", Help: "Always 1; the labels describe the running agent.",
		}, []string{"version", "goversion"}),
		health: Health{State: string(session.PhaseStarting)},
	}
	t.reg.MustRegister(t.sessions, t.sessionDuration, t.state, t.pinVerifications, t.cardSignatures,
		t.cardEvents, t.portalErrors, t.pcscdRestarts, t.uiConnections, t.wipeDuration, t.buildInfo,
		t.shellConnected, t.shellFailures, t.shellWipe, t.readerPresent, t.pcscdUp,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, p := range session.Phases {
		t.state.WithLabelValues(string(p))
	}
	t.state.WithLabelValues(string(session.PhaseStarting)).Set(1)
	for _, v := range outcomes {
		t.sessions.WithLabelValues(v)
	}
	for _, v := range pinResults {
		t.pinVerifications.WithLabelValues(v)
	}
	for _, v := range cardKinds {
		t.cardEvents.WithLabelValues(v)
	}
	for _, v := range portalCodes {
		t.portalErrors.WithLabelValues(v) // every series from 0, so increase() sees the first error
	}
	version := "devel"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		version = bi.Main.Version
	}
	t.SetVersion(version)
	return t
}

// SetVersion sets kiosk_build_info's version label (e.g. from -ldflags -X at build time).
func (t *Telemetry) SetVersion(version string) {
	t.buildInfo.Reset()
	t.buildInfo.WithLabelValues(version, runtime.Version()).Set(1)
}

// Registry is the registry /metrics serves, for adding a component's own collectors.
func (t *Telemetry) Registry() *prometheus.Registry { return t.reg }

// SetPhase records the kiosk's current phase (a session.Phase).
func (t *Telemetry) SetPhase(phase string) {
	phase = allow(phase, phaseNames())
	t.mu.Lock()
	t.health.State = phase
	t.mu.Unlock()
	for _, p := range session.Phases {
		v := 0.0
		if string(p) == phase {
			v = 1
		}
		t.state.WithLabelValues(string(p)).Set(v)
	}
}

func phaseNames() []string {
	out := make([]string, len(session.Phases))
	for i, p := range session.Phases {
		out[i] = string(p)
	}
	return out
}

// SessionEnded counts a portal session that ended for outcome (a session.Reason) after d.
func (t *Telemetry) SessionEnded(outcome string, d time.Duration) {
	t.sessions.WithLabelValues(allow(outcome, outcomes)).Inc()
	t.sessionDuration.Observe(d.Seconds())
}

// PINVerification counts one VERIFY: ok, wrong, blocked or failed.
func (t *Telemetry) PINVerification(result string) {
	t.pinVerifications.WithLabelValues(allow(result, pinResults)).Inc()
}

// CardSignature counts one signature made with the card's key.
func (t *Telemetry) CardSignature() { t.cardSignatures.Inc() }

// CardEvent counts a card or reader event: inserted, removed, read_ok, read_failed,
// reader_added, reader_removed.
func (t *Telemetry) CardEvent(kind string) {
	t.cardEvents.WithLabelValues(allow(kind, cardKinds)).Inc()
}

// PortalError counts a portal session that failed to open, by session.ErrorCode.
func (t *Telemetry) PortalError(code string) {
	t.portalErrors.WithLabelValues(allow(code, portalCodes)).Inc()
}

// PCSCDRestarted counts PC/SC coming back after being lost.
func (t *Telemetry) PCSCDRestarted() { t.pcscdRestarts.Inc() }

// SetUIConnections records the number of open UI connections (uilink Options.OnConnections).
func (t *Telemetry) SetUIConnections(n int) {
	t.uiConnections.Set(float64(n))
	t.mu.Lock()
	t.health.UIConnections = n
	t.mu.Unlock()
}

// Wiped records how long a wipe took.
func (t *Telemetry) Wiped(d time.Duration) { t.wipeDuration.Observe(d.Seconds()) }

// SetReaderPresent records whether a usable reader is connected.
func (t *Telemetry) SetReaderPresent(ok bool) {
	t.readerPresent.Set(b2f(ok))
	t.mu.Lock()
	t.health.ReaderPresent = ok
	t.mu.Unlock()
}

// SetPCSCDUp records whether PC/SC answers.
func (t *Telemetry) SetPCSCDUp(ok bool) {
	t.pcscdUp.Set(b2f(ok))
	t.mu.Lock()
	t.health.PCSCDUp = ok
	t.mu.Unlock()
}

// SetShell records the kiosk shell's state (session.Metrics).
func (t *Telemetry) SetShell(up, clean, failed bool) {
	t.shellConnected.Set(b2f(up))
	t.mu.Lock()
	if failed && !t.health.ShellFailed {
		t.shellFailures.Inc()
	}
	t.health.ShellConnected, t.health.ShellReady, t.health.ShellFailed = up, clean, failed
	t.mu.Unlock()
}

// ShellWipeConfirmed records how long the shell took to confirm a wipe order.
func (t *Telemetry) ShellWipeConfirmed(d time.Duration) { t.shellWipe.Observe(d.Seconds()) }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// SetLastError records the latest error code shown (a session.ErrorCode).
func (t *Telemetry) SetLastError(code string) {
	code = allow(code, errorCodes)
	t.mu.Lock()
	t.health.LastError = code
	t.health.LastErrorAt = time.Now().UTC().Truncate(time.Second)
	t.mu.Unlock()
}
