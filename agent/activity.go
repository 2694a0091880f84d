package agent

import (
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// portalActivityEvery is how often proxied portal requests may count as the citizen's
// activity. The session machine only needs to hear of it well within the idle warning time.
const portalActivityEvery = time.Second

// activityThrottle turns the portal proxy's requests into the citizen's activity. The kiosk
// UI cannot see taps and typing inside the portal's frame (another origin), so the
// navigations the portal's frame makes are the sign that somebody is using it. One page load
// makes dozens of requests; the machine hears at most one Activity per interval.
type activityThrottle struct {
	every time.Duration
	now   func() time.Time
	send  func()
	last  atomic.Int64 // unix nanoseconds of the last send; 0 before the first
}

func newActivityThrottle(every time.Duration, send func()) *activityThrottle {
	return &activityThrottle{every: every, now: time.Now, send: send}
}

// request is proxy.Config.OnRequest: safe for concurrent use, quick, never blocks on
// another request.
func (a *activityThrottle) request(_ string, r *http.Request) {
	if !citizenAction(r) {
		return
	}
	now := a.now().UnixNano()
	last := a.last.Load()
	if last != 0 && now-last < int64(a.every) {
		return
	}
	if !a.last.CompareAndSwap(last, now) {
		return // a concurrent request sent it
	}
	a.send()
}

// citizenAction reports whether a proxied request is something a person did in the
// portal's frame: a navigation (a link followed, a form submitted, a page reloaded).
// Subresources and script requests (fetch, XHR, polling, event streams, websockets) are
// not: a portal page that polls must not keep an abandoned session open for the next
// person. Nor are the browser's speculative loads (prefetch, prerender): nobody asked for
// them. A webview that sends no Fetch Metadata is judged by what it asks for: a document.
func citizenAction(r *http.Request) bool {
	if r.Header.Get("Sec-Purpose") != "" || r.Header.Get("Purpose") != "" {
		return false
	}
	if mode := r.Header.Get("Sec-Fetch-Mode"); mode != "" {
		return mode == "navigate"
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}
