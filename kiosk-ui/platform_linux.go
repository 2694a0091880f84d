package kioskui

/*
#cgo pkg-config: gtk+-3.0 webkit2gtk-4.0
#include <stdlib.h>
#include "lockdown_linux.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
	"unsafe"
)

// gtkPlatform is the WebKitGTK shell: a GtkWindow made and locked down in C
// (lockdown_linux.c) holding one web view at a time, each with an ephemeral web context of
// its own. No webview binding or script message handler exists: no page can reach native
// code.
type gtkPlatform struct {
	window    *C.GtkWidget
	filterDir string
}

func newPlatform(s *shell, dir *dataDir, gen int) (platform, error) {
	if gen > 0 {
		return nil, errors.New("the WebKitGTK shell renews its web view in place and never needs a second window")
	}
	// WebKit keeps whatever it writes besides website data (which stays in memory in an
	// ephemeral context) under these; they must be set before GLib first reads them. The web
	// and network processes inherit them.
	for k, v := range map[string]string{
		"XDG_DATA_HOME":   dir.sub("data"),
		"XDG_CACHE_HOME":  dir.sub("cache"),
		"XDG_CONFIG_HOME": dir.sub("config"),
	} {
		if err := os.Setenv(k, v); err != nil {
			return nil, fmt.Errorf("set %s: %w", k, err)
		}
	}
	if C.kiosk_gtk_init() == 0 {
		return nil, ErrNoDisplay
	}
	p := &gtkPlatform{window: C.kiosk_window_new(), filterDir: dir.sub("filters")}
	if err := p.newView(); err != nil {
		C.kiosk_window_destroy(p.window)
		return nil, err
	}
	return p, nil
}

func (p *gtkPlatform) newView() error {
	if msg := C.kiosk_view_new(p.window); msg != nil {
		defer C.kiosk_free(unsafe.Pointer(msg))
		return fmt.Errorf("create the web view (is WebKitGTK installed?): %s", C.GoString(msg))
	}
	return nil
}

func (p *gtkPlatform) setPolicy(pol policy) error {
	rules, err := filterRules(pol)
	if err != nil {
		return err
	}
	cr := C.CString(string(rules))
	defer C.free(unsafe.Pointer(cr))
	cd := C.CString(p.filterDir)
	defer C.free(unsafe.Pointer(cd))
	if msg := C.kiosk_set_filter(p.window, cr, cd); msg != nil {
		defer C.kiosk_free(unsafe.Pointer(msg))
		return errors.New(C.GoString(msg))
	}
	return nil
}

// navigate loads url; load-changed and load-failed report how it went.
func (p *gtkPlatform) navigate(url string) {
	c := C.CString(url)
	defer C.free(unsafe.Pointer(c))
	C.kiosk_navigate(p.window, c)
}

func (p *gtkPlatform) showStarting(html string) {
	c := C.CString(html)
	defer C.free(unsafe.Pointer(c))
	C.kiosk_show_starting(p.window, c)
}

// renew destroys the view with its ephemeral context and makes a new one.
func (p *gtkPlatform) renew() error {
	C.kiosk_view_destroy(p.window)
	return p.newView()
}

func (p *gtkPlatform) show() { C.kiosk_window_show(p.window) }

func (p *gtkPlatform) run() { C.kiosk_run() }

func (p *gtkPlatform) terminate() { C.kiosk_quit() }

// Functions waiting for the main loop, by handle (kioskGoDispatched runs them).
var (
	dispatchMu   sync.Mutex
	dispatchNext uintptr
	dispatched   = map[uintptr]func(){}
)

func (p *gtkPlatform) dispatch(f func()) {
	dispatchMu.Lock()
	dispatchNext++
	h := dispatchNext
	dispatched[h] = f
	dispatchMu.Unlock()
	C.kiosk_dispatch(C.uintptr_t(h))
}

func runDispatched(h uintptr) {
	dispatchMu.Lock()
	f := dispatched[h]
	delete(dispatched, h)
	dispatchMu.Unlock()
	if f != nil {
		f()
	}
}

func (p *gtkPlatform) destroy() {
	if p.window != nil {
		C.kiosk_view_destroy(p.window)
		C.kiosk_window_destroy(p.window)
		p.window = nil
	}
	// Functions dispatched after the loop stopped never run; drop them.
	dispatchMu.Lock()
	clear(dispatched)
	dispatchMu.Unlock()
	endChildren(3 * time.Second)
}
