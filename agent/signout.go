package agent

import "net/http"

// signOutWatch ends the kiosk session when the citizen has signed out in the portal: once
// the portal has answered a navigation of theirs to one of its sign-out addresses
// (portal.end_session_urls), the kiosk ends the session as End session does, so the bar
// never goes on saying "Signed in" over a portal that has let the citizen go.
type signOutWatch struct {
	targets map[string]bool // config.Portal.EndSessionTargets
	end     func()
}

func newSignOutWatch(targets []string, end func()) *signOutWatch {
	w := &signOutWatch{targets: map[string]bool{}, end: end}
	for _, t := range targets {
		w.targets[t] = true
	}
	return w
}

// response is proxy.Config.OnResponse. Only a navigation of the frame counts (the portal's
// own page moving there is the portal signing the citizen out): a script's fetch of the
// address or the browser's prefetch of the link is not.
func (w *signOutWatch) response(portalOrigin string, r *http.Request, _ int) {
	if len(w.targets) == 0 || !citizenAction(r) {
		return
	}
	path := r.URL.Path
	if path == "" {
		path = "/"
	}
	if w.targets[portalOrigin+path] {
		w.end()
	}
}
