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
	"time"
	"unsafe"

	webview "github.com/webview/webview_go"
)

// gtkPlatform is the WebKitGTK shell: a GtkWindow made and locked down in C
// (lockdown_linux.c) with webview_go's WebKitWebView inside.
type gtkPlatform struct {
	window    *C.GtkWidget
	wv        webview.WebView
	filterDir string
}

func newPlatform(s *shell, dir *dataDir, gen int) (platform, error) {
	if gen > 0 {
		return nil, errors.New("the WebKitGTK shell clears data in place and never needs a second web view")
	}
	// WebKit keeps every kind of website data under these; they must be set before GLib
	// first reads them. The web and network processes inherit them.
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
	p.wv = webview.NewWindow(false, unsafe.Pointer(p.window))
	if !webviewCreated(p.wv) {
		C.kiosk_window_destroy(p.window)
		return nil, errors.New("create the web view (is WebKitGTK installed?)")
	}
	if msg := C.kiosk_lockdown(p.window); msg != nil {
		defer C.kiosk_free(unsafe.Pointer(msg))
		p.destroy()
		return nil, fmt.Errorf("lock down the web view: %s", C.GoString(msg))
	}
	return p, nil
}

func (p *gtkPlatform) view() webview.WebView { return p.wv }

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
func (p *gtkPlatform) navigate(url string) { p.wv.Navigate(url) }

func (p *gtkPlatform) showStarting(html string) {
	c := C.CString(html)
	defer C.free(unsafe.Pointer(c))
	C.kiosk_show_starting(p.window, c)
}

func (p *gtkPlatform) wipe(id int) { C.kiosk_wipe(p.window, C.int(id)) }

func (p *gtkPlatform) snapshotHistory() bool { return C.kiosk_snapshot_history(p.window) != 0 }

func (p *gtkPlatform) show() { C.kiosk_window_show(p.window) }

func (p *gtkPlatform) destroy() {
	if p.wv != nil {
		p.wv.Destroy()
		p.wv = nil
	}
	if p.window != nil {
		C.kiosk_window_destroy(p.window)
		p.window = nil
	}
	endChildren(3 * time.Second)
}
