package agent

import (
	"io"
	"log/slog"

	"smartpath/agent/config"
)

// NewLogger makes the agent's structured logger from the log section: JSON lines by
// default (journald and log shippers read them as they are), text for a person at a terminal.
func NewLogger(cfg config.Log, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.SlogLevel()}
	if cfg.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
