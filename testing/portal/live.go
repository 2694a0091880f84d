package portal

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

const (
	maxEventCount = 10000
	maxWSMessage  = 64 << 10
	wsWriteWait   = 10 * time.Second
)

type update struct {
	Seq  int    `json:"seq"`
	Ref  string `json:"ref"`
	Text string `json:"text"`
	Time string `json:"time"`
}

var updateTexts = []string{
	"an inspector has been assigned",
	"the inspector's notes have been added",
	"parts have been ordered",
	"an appointment slot is being arranged",
	"the repairs team is on its way",
}

// handleEvents streams server-sent "update" events: the first at once, then one every
// Options.EventInterval, until the client leaves, the server closes or ?count=N were sent
// (N ≤ 10000).
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request, c *Citizen) {
	count := maxEventCount
	if q := r.URL.Query().Get("count"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > maxEventCount {
			http.Error(w, fmt.Sprintf("count must be a number from 1 to %d", maxEventCount), http.StatusBadRequest)
			return
		}
		count = n
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	refs := []string{"HR-" + refPart(c.Number)}
	for _, rp := range s.repairs.list(c.Number) {
		refs = append(refs, rp.Ref)
	}
	tick := time.NewTicker(s.opts.EventInterval)
	defer tick.Stop()
	for i := 0; i < count; i++ {
		if i > 0 {
			select {
			case <-r.Context().Done():
				return
			case <-s.ctx.Done():
				return
			case <-tick.C:
			}
		}
		u := update{Seq: i + 1, Ref: refs[i%len(refs)], Time: s.opts.Now().UTC().Format(time.RFC3339)}
		u.Text = u.Ref + ": " + updateTexts[i%len(updateTexts)]
		b, _ := json.Marshal(u)
		if _, err := fmt.Fprintf(w, "id: %d\nevent: update\ndata: %s\n\n", u.Seq, b); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// checkWSOrigin accepts no Origin (non-browser clients), the portal's own origin (by the
// request's Host, so a proxy that rewrites Host and Origin together passes) and
// Options.WebSocketOrigins.
func (s *Server) checkWSOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	if slices.Contains(s.opts.WebSocketOrigins, o) || o == s.urls.Portal {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Scheme == "https" && strings.EqualFold(u.Host, r.Host)
}

// handleWS echoes every websocket message (text or binary, at most 64 KiB) back to the sender.
func (s *Server) handleWS(w http.ResponseWriter, r *http.Request, c *Citizen) {
	if !s.checkWSOrigin(r) {
		w.Header().Set(RefusalHeader, "ws-origin")
		http.Error(w, fmt.Sprintf("websocket origin %q is not this portal (%s): connect from the portal's own pages",
			r.Header.Get("Origin"), s.urls.Portal), http.StatusForbidden)
		return
	}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered the client
	}
	defer conn.Close()
	conn.SetReadLimit(maxWSMessage)
	s.log.Info("websocket open", "cn", c.Name)
	for {
		mt, msg, err := conn.ReadMessage()
		if err != nil {
			return
		}
		conn.SetWriteDeadline(time.Now().Add(wsWriteWait))
		if err := conn.WriteMessage(mt, msg); err != nil {
			return
		}
	}
}
