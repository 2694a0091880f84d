package portal

import (
	"bufio"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// statusWriter remembers the status and size of a response for the request log. It keeps
// Flush and Hijack working for server-sent events and websockets.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("portal: connection cannot be hijacked (HTTP/2): use HTTP/1.1 for websockets")
	}
	if w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return h.Hijack()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe counts and logs every request with the connection and client certificate that
// served it, and keeps Close waiting for handlers that are still running.
func (s *Server) observe(o origin, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.inflight.enter() {
			w.Header().Set("Connection", "close")
			http.Error(w, "the portal is shutting down", http.StatusServiceUnavailable)
			return
		}
		defer s.inflight.leave()
		start := time.Now()
		ci := connFrom(r.Context())
		attrs := []slog.Attr{slog.String("origin", string(o))}
		if ci != nil {
			s.reg.request(ci)
			ci.mu.Lock()
			attrs = append(attrs, slog.Uint64("conn", ci.id), slog.Int64("connRequest", ci.requests.Load()),
				slog.Bool("resumed", ci.resumed), slog.String("cn", ci.peer.CN), slog.String("cert", ci.peer.SerialHash))
			ci.mu.Unlock()
		}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		attrs = append(attrs, slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("proto", r.Proto), slog.Int("status", sw.status), slog.Int64("bytes", sw.bytes),
			slog.Duration("dur", time.Since(start)))
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	})
}
