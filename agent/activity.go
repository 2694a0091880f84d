package agent

import (
	"sync/atomic"
	"time"
)

// portalActivityEvery is how often proxied portal requests may count as the citizen's
// activity. The session machine only needs to hear of it well within the idle warning time.
const portalActivityEvery = time.Second

// activityThrottle turns the portal proxy's requests into the citizen's activity. The kiosk
// UI cannot see taps and typing inside the portal's frame (another origin), so requests the
// portal page makes are the only sign that somebody is using it. One page load makes dozens
// of requests; the machine hears at most one Activity per interval.
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
func (a *activityThrottle) request() {
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
