//go:build linux || windows

package kioskui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	webview "github.com/webview/webview_go"
)

// platform is the native side of the shell: the window, its web view and whatever lock-down
// the platform offers. Every method runs on the UI thread.
type platform interface {
	view() webview.WebView
	// setPolicy makes p the allow-list of the native lock-down (the content filter). It
	// returns when the new rules are in force.
	setPolicy(p policy) error
	// navigate loads url, the start URL, as the top-level document.
	navigate(url string)
	// showStarting loads the built-in "Starting…" page.
	showStarting(html string)
	// wipe clears all website data, caches and history, then calls shell.wipeDone(id, msg)
	// on the UI thread; or, where the platform cannot clear in place, it sets
	// shell.restart and ends the main loop so that runWindow starts a fresh web view.
	wipe(id int)
	// snapshotHistory remembers the page just loaded (the UI start page) as the only
	// back/forward entry a wipe leaves. It reports false when it could not.
	snapshotHistory() bool
	show()
	destroy()
}

// active is the shell of the running Run: the native callbacks find it here.
var active atomic.Pointer[shell]

// started is set by the first Run of the process.
var started atomic.Bool

type shell struct {
	opts   Options
	log    *slog.Logger
	secret string
	plat   platform
	wv     webview.WebView

	retryCh chan time.Duration // UI thread → supervisor: load again after a delay

	// Touched on the UI thread only.
	pol           *policy // nil until a start URL is known
	startURL      string
	starting      bool // the "Starting…" page is shown or being loaded
	attempts      int  // failed loads since the UI last loaded
	adopting      bool // setPolicy is running (it spins the main loop)
	loadAfterWipe bool
	// loadAfterStarting: load the UI once the "Starting…" page has committed.
	loadAfterStarting bool
	restart           bool // the platform asked for a new web view (see runWindow)
	wipes             map[int]time.Time
	fatal             error
}

// Run opens the kiosk window and shows the kiosk UI until ctx ends. It returns an error
// when the shell cannot run at all (no display, the lock-down cannot be installed, bad
// options): the caller exits non-zero so the session supervisor restarts it. Losing the
// agent is not an error: the shell shows "Starting…" and retries.
//
// Run must be called from the main goroutine, and once per process: a second call returns
// [ErrAlreadyRunning] (on Linux WebKit's default web context and its data directories
// outlive Run).
func Run(ctx context.Context, opts Options) (err error) {
	opts, err = opts.withDefaults()
	if err != nil {
		return err
	}
	s := &shell{opts: opts, log: opts.Logger, retryCh: make(chan time.Duration, 1), wipes: map[int]time.Time{}}
	if !started.CompareAndSwap(false, true) || !active.CompareAndSwap(nil, s) {
		return ErrAlreadyRunning
	}
	defer active.Store(nil)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	if s.secret, err = newSecret(); err != nil {
		return fmt.Errorf("make the wipe secret: %w", err)
	}
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

	s.log.Info("kiosk shell starting", "version", opts.Version, "data_dir", dir.path)
	for gen := 0; ; gen++ {
		restart, err := s.runWindow(ctx, dir, gen)
		if err != nil || !restart || ctx.Err() != nil {
			s.log.Info("kiosk shell stopped")
			return err
		}
	}
}

// runWindow runs one web view until ctx ends or the platform asks for a new one (on
// Windows a wipe replaces the web view and its profile directory).
func (s *shell) runWindow(ctx context.Context, dir *dataDir, gen int) (restart bool, err error) {
	s.plat, err = newPlatform(s, dir, gen)
	if err != nil {
		return false, err
	}
	defer func() {
		s.plat.destroy()
		s.plat, s.wv, s.pol, s.restart = nil, nil, nil, false
	}()
	s.wv = s.plat.view()
	if err := s.wv.Bind(wipeBinding, s.onWipeCall); err != nil {
		return false, fmt.Errorf("bind the wipe function: %w", err)
	}
	s.wv.Init(apiScript(s.secret, s.opts.Version))

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
	s.wv.Run()
	cancel()
	wg.Wait()
	return s.restart && s.fatal == nil, s.fatal
}

// supervise owns the retry timer and the URL file watch; it asks the UI thread to act
// through Dispatch. It returns when run ends; when ctx ends first it stops the main loop.
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
			s.wv.Terminate()
			<-run.Done()
			return
		case d := <-s.retryCh:
			timer.Reset(d)
		case <-timer.C:
			s.wv.Dispatch(s.uiLoad)
		case <-poll:
			url, err := readURLFile(s.opts.URLFile)
			if err != nil || url == lastSeen {
				continue
			}
			lastSeen = url
			s.wv.Dispatch(func() { s.uiURLChanged(url) })
		}
	}
}

// uiFail records a fatal error and stops the main loop.
func (s *shell) uiFail(err error) {
	if s.fatal == nil {
		s.fatal = err
	}
	s.log.Error("fatal", "err", err)
	s.wv.Terminate()
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
	url := s.opts.URL
	if url == "" {
		var err error
		if url, err = readURLFile(s.opts.URLFile); err != nil {
			s.uiNotReachable(err.Error())
			return
		}
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
// old sessions are gone with it, so the shell wipes before loading the new URL.
func (s *shell) uiURLChanged(url string) {
	if url == s.startURL || s.opts.URL != "" {
		return
	}
	s.log.Info("the agent's UI URL changed; wiping and reloading")
	s.loadAfterWipe = true
	s.wipes[0] = time.Now()
	s.plat.wipe(0)
}

// onWipeCall is the webview binding behind window.kioskShell.wipe.
func (s *shell) onWipeCall(secret string, id int) error {
	if !secretOK(secret, s.secret) || id <= 0 {
		s.log.Warn("refused", "what", "wipe call without the shell's secret")
		return errors.New("refused")
	}
	s.wipes[id] = time.Now()
	s.plat.wipe(id)
	return nil
}

// wipeDone is called by the platform when wipe(id) finished.
func (s *shell) wipeDone(id int, errMsg string) {
	took := time.Duration(0)
	if t, ok := s.wipes[id]; ok {
		took = time.Since(t)
		delete(s.wipes, id)
	}
	if errMsg != "" {
		s.log.Error("wipe failed", "id", id, "err", errMsg, "took", took)
	} else {
		s.log.Info("wiped", "id", id, "took", took)
	}
	if id > 0 {
		s.wv.Eval(wipeDoneScript(id, errMsg))
	}
	if id == 0 && s.loadAfterWipe {
		// Load the new URL from the "Starting…" page: from the old UI page a URL that
		// differs only in its #token would be a same-document navigation, not a load.
		s.loadAfterWipe = false
		s.loadAfterStarting = true
		s.uiShowStarting()
	}
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
		if uri == s.startURL && !s.plat.snapshotHistory() {
			s.log.Error("cannot read the back/forward list: wipe will not be able to clear history")
		}
	case uri == "about:blank" && s.starting:
		if s.loadAfterStarting {
			s.loadAfterStarting = false
			s.uiLoad()
		}
	default:
		s.log.Warn("top-level document is not the kiosk UI; loading the UI", "origin", logOrigin(uri))
		s.uiLoad()
	}
}

func (s *shell) webProcessTerminated(reason string, byAPI bool) {
	if byAPI {
		return
	}
	s.log.Warn("web process ended; reloading the kiosk UI", "reason", reason)
	s.uiLoad()
}

func (s *shell) refused(what, detail string) {
	s.log.Info("refused", "what", what, "detail", detail)
}
