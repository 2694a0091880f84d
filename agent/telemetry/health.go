package telemetry

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"smartpath/agent/session"
)

// Health is the body of /healthz.
type Health struct {
	Status        string `json:"status"` // ok, starting or out_of_order
	State         string `json:"state"`  // the session phase
	ReaderPresent bool   `json:"readerPresent"`
	PCSCDUp       bool   `json:"pcscdUp"`
	UIConnections int    `json:"uiConnections"`
	// The kiosk shell: connected on its channel; confirmed a fresh browser since the last
	// session; failed to confirm in time (out of order until a shell connects and confirms).
	ShellConnected bool      `json:"shellConnected"`
	ShellReady     bool      `json:"shellReady"`
	ShellFailed    bool      `json:"shellFailed"`
	LastError      string    `json:"lastError,omitempty"`
	LastErrorAt    time.Time `json:"lastErrorAt,omitzero"`
}

// Health returns the current health and whether the kiosk can serve a citizen: not while
// starting and not while out of order.
func (t *Telemetry) Health() (Health, bool) {
	t.mu.Lock()
	h := t.health
	t.mu.Unlock()
	switch h.State {
	case string(session.PhaseStarting):
		h.Status = "starting"
	case string(session.PhaseOutOfOrder):
		h.Status = "out_of_order"
	default:
		h.Status = "ok"
	}
	return h, h.Status == "ok"
}

// Handler serves GET /healthz (200 when healthy, 503 while starting or out of order) and
// GET /metrics. Mount it on the admin listener.
func (t *Telemetry) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", t.serveHealth)
	mux.Handle("GET /metrics", promhttp.HandlerFor(t.reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError, MaxRequestsInFlight: 4, Timeout: 10 * time.Second,
	}))
	return mux
}

func (t *Telemetry) serveHealth(w http.ResponseWriter, r *http.Request) {
	h, ok := t.Health()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	json.NewEncoder(w).Encode(h)
}
