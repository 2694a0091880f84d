//go:build linux || windows

package kioskui

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// platform is the native side of the shell: the window, the web view in it and whatever
// lock-down the platform offers. Every method except dispatch and terminate runs on the UI
// thread; those two may be called from any goroutine.
type platform interface {
	// setPolicy makes p the allow-list of the native lock-down (the content filter). It
	// returns when the new rules are in force, for this view and every later one.
	setPolicy(p policy) error
	// navigate loads url, the start URL, as the top-level document.
	navigate(url string)
	// showStarting loads the built-in "Starting…" page.
	showStarting(html string)
	// renew destroys the browser — the web view, its web context and processes, and with
	// them everything any page left — and makes a fresh one that has never loaded anything.
	// Where that cannot be done in place it sets shell.restart and ends the main loop, and
	// runWindow starts a new platform.
	renew() error
	show()
	// run runs the main loop until terminate.
	run()
	dispatch(f func())
	terminate()
	destroy()
}

// active is the shell of the running Run: the native callbacks find it here.
var active atomic.Pointer[shell]

// started is set by the first Run of the process.
var started atomic.Bool

type shell struct {
	opts Options
	log  *slog.Logger
	plat platform
	link *agentLink

	retryCh chan time.Duration // UI thread → supervisor: load again after a delay

	// Touched on the UI thread only.
	pol      *policy // nil until a start URL is known
	startURL string
	starting bool // the "Starting…" page is shown or being loaded
	attempts int  // failed loads since the UI last loaded
	adopting bool // setPolicy is running (it spins the main loop)
	restart  bool // the platform asked for a new web view (see runWindow)
	// pending are the agent's wipe orders carried out (the browser renewed) whose
	// confirmation waits for the UI to load in the fresh browser; renewedAt is when.
	pending   []uint64
	renewedAt time.Time
	fatal     error
}

// Run opens the kiosk window and shows the kiosk UI until ctx ends. It returns an error
// when the shell cannot run at all (no display, the lock-down cannot be installed, a fresh
// browser cannot be made, bad options): the caller exits non-zero so the session supervisor
// restarts it. Losing the agent is not an error: the shell shows "Starting…" and retries.
//
// Run must be called from the main goroutine, and once per process: a second call returns
// [ErrAlreadyRunning] (GTK and WebKit live for the whole process).
func Run(ctx context.Context, opts Options) (err error) {
	opts, err = opts.withDefaults()
	if err != nil {
		return err
	}
	s := &shell{opts: opts, log: opts.Logger, retryCh: make(chan time.Duration, 1)}
	if !started.CompareAndSwap(false, true) || !active.CompareAndSwap(nil, s) {
		return ErrAlreadyRunning
	}
	defer active.Store(nil)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	dir, err := newDataDir(opts.DataDir)
	if err != nil {
		return err
	}
	defer func() {
		if rerr := dir.remove(); rerr != nil {
			s.log.Error("remove the data directory", "err", rerr)
			if err == nil {
				err = fmt.Errorf("remove the data directory (it may hold a citizen's data): %w", rerr)
			}
		}
	}()

	s.link = newAgentLink(s.log, s.currentURL, opts.RetryMin, opts.RetryMax)
	linkCtx, stopLink := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.link.run(linkCtx)
	}()
	defer func() {
		stopLink()
		wg.Wait()
	}()

	s.log.Info("kiosk shell starting", "version", opts.Version, "data_dir", dir.path)
	for gen := 0; ; gen++ {
		restart, err := s.runWindow(ctx, dir, gen)
		if err != nil || !restart || ctx.Err() != nil {
			s.log.Info("kiosk shell stopped")
			return err
		}
	}
}

// currentURL is the start URL: Options.URL, or the URL file read now.
func (s *shell) currentURL() (string, error) {
	if s.opts.URL != "" {
		return s.opts.URL, nil
	}
	return readURLFile(s.opts.URLFile)
}

// runWindow runs one window until ctx ends or the platform asks for a new one (on Windows
// a wipe replaces the web view and its profile directory).
func (s *shell) runWindow(ctx context.Context, dir *dataDir, gen int) (restart bool, err error) {
	s.plat, err = newPlatform(s, dir, gen)
	if err != nil {
		return false, err
	}
	defer func() {
		s.plat.destroy()
		s.plat, s.pol, s.restart = nil, nil, false
	}()

	s.uiShowStarting()
	s.plat.show()
	s.uiLoad()
	if s.fatal != nil {
		return false, s.fatal
	}

	runCtx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.supervise(ctx, runCtx)
	}()
	s.plat.run()
	cancel()
	wg.Wait()
	return s.restart && s.fatal == nil, s.fatal
}

// supervise owns the retry timer and the URL file watch, and passes the agent's wipe orders
// on; it asks the UI thread to act through dispatch. It returns when run ends; when ctx ends
// first it stops the main loop.
func (s *shell) supervise(ctx, run context.Context) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var poll <-chan time.Time
	if s.opts.URL == "" {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		poll = t.C
	}
	var lastSeen string
	for {
		select {
		case <-run.Done():
			return
		case <-ctx.Done():
			s.plat.terminate()
			<-run.Done()
			return
		case id := <-s.link.orders:
			s.plat.dispatch(func() { s.uiWipeOrdered(id) })
		case d := <-s.retryCh:
			timer.Reset(d)
		case <-timer.C:
			s.plat.dispatch(s.uiLoad)
		case <-poll:
			url, err := readURLFile(s.opts.URLFile)
			if err != nil || url == lastSeen {
				continue
			}
			lastSeen = url
			s.plat.dispatch(func() { s.uiURLChanged(url) })
		}
	}
}

// uiFail records a fatal error and stops the main loop.
func (s *shell) uiFail(err error) {
	if s.fatal == nil {
		s.fatal = err
	}
	s.log.Error("fatal", "err", err)
	s.plat.terminate()
}

func (s *shell) uiShowStarting() {
	s.starting = true
	s.plat.showStarting(startingHTML)
}

// uiLoad (re)loads the UI from the start URL, reading the URL file again when there is
// one (the agent writes a new token every boot).
func (s *shell) uiLoad() {
	if s.adopting {
		s.scheduleRetry()
		return
	}
	url, err := s.currentURL()
	if err != nil {
		s.uiNotReachable(err.Error())
		return
	}
	p, err := newPolicy(url, s.opts.FrameOrigins)
	if err != nil {
		s.uiNotReachable(err.Error())
		return
	}
	if s.pol == nil || s.pol.ui != p.ui || !sameOrigins(s.pol.frames, p.frames) {
		s.adopting = true
		err := s.plat.setPolicy(p)
		s.adopting = false
		if err != nil {
			s.uiFail(fmt.Errorf("install the lock-down rules: %w", err))
			return
		}
		s.pol = &p
		s.log.Info("allow-list", "ui", p.ui.String(), "frames", fmt.Sprint(p.frames))
	}
	s.startURL = url
	s.plat.navigate(url)
}

func sameOrigins(a, b []origin) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// uiNotReachable shows "Starting…" and schedules another attempt with backoff.
func (s *shell) uiNotReachable(reason string) {
	s.attempts++
	if s.attempts == 1 || s.attempts%20 == 0 {
		s.log.Warn("kiosk UI not reachable; retrying", "reason", reason, "attempt", s.attempts)
	}
	if !s.starting {
		s.uiShowStarting()
	}
	s.scheduleRetry()
}

func (s *shell) scheduleRetry() {
	d := backoff(s.attempts, s.opts.RetryMin, s.opts.RetryMax)
	for {
		select {
		case s.retryCh <- d:
			return
		default:
			select { // replace a pending request with this one
			case <-s.retryCh:
			default:
			}
		}
	}
}

// uiURLChanged handles a new URL in the agent's file: a restarted agent (new token). The
// old sessions are gone with it, so the shell starts a fresh browser for the new URL.
func (s *shell) uiURLChanged(url string) {
	if url == s.startURL || s.opts.URL != "" {
		return
	}
	s.log.Info("the agent's UI URL changed; starting a fresh browser")
	s.uiRenew()
}

// uiWipeOrdered carries out the agent's wipe order id: a fresh browser, then the UI loaded
// in it; the confirmation goes out when the UI has committed there (loadCommitted).
func (s *shell) uiWipeOrdered(id uint64) {
	s.pending = append(s.pending, id)
	s.uiRenew()
}

// uiRenew replaces the browser and loads the UI in the fresh one. A shell that cannot make
// a fresh browser must not show anything more: it exits for its supervisor to restart it.
func (s *shell) uiRenew() {
	s.renewedAt = time.Now()
	if err := s.plat.renew(); err != nil {
		s.uiFail(fmt.Errorf("make a fresh browser: %w", err))
		return
	}
	if s.restart {
		return // the platform starts a new window, which loads the UI
	}
	s.starting = false
	s.uiLoad()
}

// The native callbacks below run on the UI thread.

func (s *shell) allowNavigation(uri string) bool {
	if s.pol == nil {
		return isLocalDocument(uri)
	}
	return s.pol.allowNavigation(uri)
}

func (s *shell) allowMainDocument(uri string) bool {
	if s.pol == nil {
		return isLocalDocument(uri)
	}
	return s.pol.allowMainDocument(uri)
}

// loadFailed: a top-level load did not complete.
func (s *shell) loadFailed(uri, msg string, network bool) {
	switch {
	case s.pol != nil && s.pol.isUI(uri) && network:
		s.uiNotReachable(msg)
	case s.pol != nil && s.pol.isUI(uri):
		s.log.Warn("kiosk UI load failed", "err", msg)
	default:
		s.refused("top-level", logOrigin(uri))
	}
}

func (s *shell) loadCommitted(uri string, status int) {
	switch {
	case s.pol != nil && s.pol.isUI(uri):
		if status >= 400 {
			s.uiNotReachable(fmt.Sprintf("HTTP status %d", status))
			return
		}
		s.starting = false
		if s.attempts > 0 {
			s.log.Info("kiosk UI reachable again", "after_attempts", s.attempts)
		}
		s.attempts = 0
		s.log.Info("kiosk UI loaded", "origin", logOrigin(uri))
		if len(s.pending) > 0 {
			// A fresh browser shows the UI: the wipe orders are carried out.
			s.log.Info("wiped", "orders", len(s.pending), "took", time.Since(s.renewedAt))
			for _, id := range s.pending {
				s.link.confirm(id)
			}
			s.pending = nil
		}
	case uri == "about:blank" && s.starting:
	default:
		s.log.Warn("top-level document is not the kiosk UI; loading the UI", "origin", logOrigin(uri))
		s.uiLoad()
	}
}

func (s *shell) webProcessTerminated(reason string, byAPI bool) {
	if byAPI {
		return
	}
	s.log.Warn("web process ended; starting a fresh browser", "reason", reason)
	// Not from inside the view's own signal: the view must outlive its emission.
	s.plat.dispatch(s.uiRenew)
}

func (s *shell) refused(what, detail string) {
	s.log.Info("refused", "what", what, "detail", detail)
}
