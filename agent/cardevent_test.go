package agent

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"smartpath/agent/telemetry"
	"smartpath/pcsc"
)

// kiosk_card_events_total offers reader_added and reader_removed for alerts on a reader
// unplugged (docs/security.md, invariant 8); the monitor's reader events must move them.
func TestReaderEventsCounted(t *testing.T) {
	a := &Agent{telemetry: telemetry.New(), logger: slog.New(slog.DiscardHandler)}
	for _, ev := range []pcsc.Event{
		{Kind: pcsc.ReaderAdded, Reader: "Virtual PCD 00 00"},
		{Kind: pcsc.ReaderAdded, Reader: "Virtual PCD 00 01"},
		{Kind: pcsc.ReaderRemoved, Reader: "Virtual PCD 00 00"},
		{Kind: pcsc.ServiceLost},
		{Kind: pcsc.ServiceRestored},
	} {
		a.onCardEvent(ev)
	}
	rec := httptest.NewRecorder()
	a.telemetry.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`kiosk_card_events_total{kind="reader_added"} 2`,
		`kiosk_card_events_total{kind="reader_removed"} 1`,
		`kiosk_pcscd_restarts_total 1`,
	} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
