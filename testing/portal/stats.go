package portal

import (
	"crypto/tls"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
)

// Stats is a snapshot of the portal's connection and request counters, also served as JSON
// at /_test/stats on the portal origin.
type Stats struct {
	// Handshakes counts full TLS handshakes in which the client presented a certificate, on
	// any origin: each cost the client one signature with its private key (on a kiosk, one
	// card signature). Resumed handshakes are not counted here.
	Handshakes int `json:"handshakes"`
	// Resumptions counts resumed handshakes (tls.ConnectionState.DidResume) on any origin.
	Resumptions int `json:"resumptions"`
	// Requests counts requests on the portal origin.
	Requests int `json:"requests"`
	// ConnsOpen counts open connections on all origins.
	ConnsOpen int `json:"connsOpen"`
	// Origins breaks the counters down by origin: "portal", "sso", "static".
	Origins map[string]OriginStats `json:"origins"`
	// Conns lists the most recent connections (open first, then by id), at most 256.
	Conns []ConnStats `json:"conns"`
}

// OriginStats are the counters of one origin.
type OriginStats struct {
	Conns             int `json:"conns"`
	ConnsOpen         int `json:"connsOpen"`
	FullHandshakes    int `json:"fullHandshakes"`
	ResumedHandshakes int `json:"resumedHandshakes"`
	// RefusedHandshakes counts handshakes the portal ended with an alert because the client
	// certificate was foreign or invalid (only with Options.RefuseInHandshake).
	RefusedHandshakes int `json:"refusedHandshakes"`
	Requests          int `json:"requests"`
}

// ConnStats describes one connection.
type ConnStats struct {
	ID         uint64 `json:"id"`
	Origin     string `json:"origin"`
	Remote     string `json:"remote"`
	Open       bool   `json:"open"`
	Handshook  bool   `json:"handshook"`
	Resumed    bool   `json:"resumed"`
	TLSVersion string `json:"tlsVersion,omitempty"`
	// CN and SerialHash identify the client certificate (SerialHash: the first 8 bytes of
	// SHA-256 over the certificate's serial number, in hex).
	CN         string `json:"cn,omitempty"`
	SerialHash string `json:"serialHash,omitempty"`
	Requests   int    `json:"requests"`
}

const maxRecentConns = 256

// registry owns the connection table and the counters.
type registry struct {
	log *slog.Logger

	mu      sync.Mutex
	nextID  uint64
	open    map[*connInfo]struct{}
	recent  []*connInfo // closed connections, oldest first, at most maxRecentConns
	origins map[origin]*OriginStats
	certHS  int // full handshakes with a client certificate
}

func newRegistry(log *slog.Logger) *registry {
	return &registry{
		log:  log,
		open: make(map[*connInfo]struct{}),
		origins: map[origin]*OriginStats{
			originPortal: {}, originSSO: {}, originStatic: {},
		},
	}
}

// opened registers a freshly accepted connection and returns it wrapped for tracking.
func (r *registry) opened(o origin, raw net.Conn) *trackedConn {
	ci := &connInfo{origin: o, remote: raw.RemoteAddr().String(), open: true}
	tc := &trackedConn{Conn: raw, info: ci, onClose: r.closed}
	ci.conn = tc
	r.mu.Lock()
	r.nextID++
	ci.id = r.nextID
	r.open[ci] = struct{}{}
	st := r.origins[o]
	st.Conns++
	st.ConnsOpen++
	r.mu.Unlock()
	r.log.Debug("connection opened", "origin", o, "conn", ci.id, "remote", ci.remote)
	return tc
}

func (r *registry) closed(ci *connInfo) {
	r.mu.Lock()
	delete(r.open, ci)
	r.origins[ci.origin].ConnsOpen--
	r.recent = append(r.recent, ci)
	if len(r.recent) > maxRecentConns {
		r.recent = append(r.recent[:0:0], r.recent[len(r.recent)-maxRecentConns:]...)
	}
	r.mu.Unlock()
	ci.mu.Lock()
	ci.open = false
	ci.mu.Unlock()
	r.log.Debug("connection closed", "origin", ci.origin, "conn", ci.id, "requests", ci.requests.Load())
}

// handshake records the end of a handshake on ci.
func (r *registry) handshake(ci *connInfo, cs tls.ConnectionState, refused bool) {
	var peer peerCert
	if len(cs.PeerCertificates) > 0 {
		peer = peerOf(cs.PeerCertificates[0])
	}
	ci.mu.Lock()
	ci.handshook = !refused
	ci.resumed = cs.DidResume
	ci.version = cs.Version
	ci.peer = peer
	ci.mu.Unlock()

	r.mu.Lock()
	st := r.origins[ci.origin]
	switch {
	case refused:
		st.RefusedHandshakes++
	case cs.DidResume:
		st.ResumedHandshakes++
	default:
		st.FullHandshakes++
		if len(cs.PeerCertificates) > 0 {
			r.certHS++
		}
	}
	r.mu.Unlock()
	r.log.Info("tls handshake", "origin", ci.origin, "conn", ci.id, "resumed", cs.DidResume,
		"version", tls.VersionName(cs.Version), "cn", peer.CN, "cert", peer.SerialHash, "refused", refused)
}

func (r *registry) request(ci *connInfo) {
	ci.requests.Add(1)
	r.mu.Lock()
	r.origins[ci.origin].Requests++
	r.mu.Unlock()
}

// closeAll closes every open connection, including hijacked ones (websockets) that
// http.Server.Close does not know about.
func (r *registry) closeAll() {
	r.mu.Lock()
	conns := make([]net.Conn, 0, len(r.open))
	for ci := range r.open {
		conns = append(conns, ci.conn)
	}
	r.mu.Unlock()
	for _, c := range conns {
		c.Close() // unblocks the goroutine reading it and counts it closed
	}
}

func (r *registry) snapshot() Stats {
	r.mu.Lock()
	s := Stats{Handshakes: r.certHS, Origins: make(map[string]OriginStats, len(r.origins))}
	for o, st := range r.origins {
		s.Origins[string(o)] = *st
		s.Resumptions += st.ResumedHandshakes
		s.ConnsOpen += st.ConnsOpen
	}
	s.Requests = r.origins[originPortal].Requests
	open := make([]*connInfo, 0, len(r.open))
	for ci := range r.open {
		open = append(open, ci)
	}
	recent := append([]*connInfo(nil), r.recent...)
	r.mu.Unlock()

	sort.Slice(open, func(i, j int) bool { return open[i].id < open[j].id })
	all := append(open, recent...)
	if len(all) > maxRecentConns {
		all = all[:maxRecentConns]
	}
	s.Conns = make([]ConnStats, 0, len(all))
	for _, ci := range all {
		s.Conns = append(s.Conns, ci.stats())
	}
	return s
}

func (ci *connInfo) stats() ConnStats {
	ci.mu.Lock()
	defer ci.mu.Unlock()
	cs := ConnStats{
		ID: ci.id, Origin: string(ci.origin), Remote: ci.remote, Open: ci.open,
		Handshook: ci.handshook, Resumed: ci.resumed, CN: ci.peer.CN, SerialHash: ci.peer.SerialHash,
		Requests: int(ci.requests.Load()),
	}
	if ci.version != 0 {
		cs.TLSVersion = tls.VersionName(ci.version)
	}
	return cs
}

// Stats returns a snapshot of all counters.
func (s *Server) Stats() Stats { return s.reg.snapshot() }

// Handshakes counts full handshakes in which the client presented a certificate (see
// [Stats.Handshakes]): on a kiosk, the number of card signatures spent on TLS.
func (s *Server) Handshakes() int { return s.reg.snapshot().Handshakes }

// Resumptions counts resumed TLS handshakes on all origins.
func (s *Server) Resumptions() int { return s.reg.snapshot().Resumptions }

// Requests counts requests served on the portal origin.
func (s *Server) Requests() int { return s.reg.snapshot().Requests }

// ConnsOpen counts the connections open on all origins right now.
func (s *Server) ConnsOpen() int { return s.reg.snapshot().ConnsOpen }

// Conns describes the most recent connections (open ones first); see [ConnStats].
func (s *Server) Conns() []ConnStats { return s.reg.snapshot().Conns }

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(s.Stats())
}

// handlePing is the cheapest request that still needs a verified council certificate: for
// latency and throughput benchmarks through a proxy against a direct client.
func handlePing(w http.ResponseWriter, r *http.Request, _ *Citizen) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("pong\n"))
}
