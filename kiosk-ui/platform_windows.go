package kioskui

import (
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"

	webview "github.com/webview/webview_go"
)

// The WebView2 shell. webview_go exposes no WebView2 settings or events beyond its own, so
// the lock-down here is what a window style, Chromium switches and a page script can do;
// docs/kiosk-ui.md lists what exists on Windows and what does not.

// edgeArgs are Chromium switches for the WebView2 browser process. Every request to a
// host other than loopback goes to a proxy that does not exist (Chromium never proxies
// loopback), so nothing outside this machine is reachable; new windows fail.
const edgeArgs = "--proxy-server=http://127.0.0.1:9 --block-new-web-contents --no-pings " +
	"--disable-background-networking --disable-component-update --disable-sync --no-first-run"

// lockdownWindowsJS runs in every document (top level and frames): no context menu, no
// browser shortcuts, target=_blank links stay in their frame, no window.open.
//
//go:embed lockdown_windows.js
var lockdownWindowsJS string

var (
	user32              = syscall.NewLazyDLL("user32.dll")
	procSetWindowLongW  = user32.NewProc("SetWindowLongPtrW")
	procGetSystemMetric = user32.NewProc("GetSystemMetrics")
	procSetWindowPos    = user32.NewProc("SetWindowPos")
	procCallWindowProcW = user32.NewProc("CallWindowProcW")
)

// GWL_STYLE and GWLP_WNDPROC: variables, so that uintptr() takes their two's complement.
var gwlStyle, gwlpWndProc = -16, -4

const (
	wsPopup         = 0x80000000
	wsVisible       = 0x10000000
	smCxScreen      = 0
	smCyScreen      = 1
	swpFrameChanged = 0x0020
	swpShowWindow   = 0x0040
	wmClose         = 0x0010
	wmSysCommand    = 0x0112
	scClose         = 0xF060
	hwndTopmost     = ^uintptr(0) // (HWND)-1
)

// The subclassed window procedure refuses WM_CLOSE (Alt+F4, the close button) and passes
// everything else to webview_go's. One window exists at a time; callbacks are never freed,
// so there is one for the life of the process.
var (
	wndProcOnce sync.Once
	wndProcCB   uintptr
	oldWndProc  uintptr
)

func kioskWndProc(hwnd, msg, wparam, lparam uintptr) uintptr {
	if msg == wmClose || (msg == wmSysCommand && wparam&0xFFF0 == scClose) {
		if s := active.Load(); s != nil {
			s.refused("close", "")
		}
		return 0
	}
	r, _, _ := procCallWindowProcW.Call(oldWndProc, hwnd, msg, wparam, lparam)
	return r
}

type edgePlatform struct {
	s  *shell
	wv webview.WebView
}

func newPlatform(s *shell, dir *dataDir, gen int) (platform, error) {
	// WebView2 keeps the whole profile here; a wipe starts a new web view on a new folder.
	profile := dir.sub(fmt.Sprintf("webview2-%d", gen))
	if err := os.MkdirAll(profile, 0o700); err != nil {
		return nil, fmt.Errorf("make the WebView2 profile folder: %w", err)
	}
	if gen > 0 {
		_ = os.RemoveAll(dir.sub(fmt.Sprintf("webview2-%d", gen-1))) // best effort; all goes at exit
	}
	for k, v := range map[string]string{"WEBVIEW2_USER_DATA_FOLDER": profile, "WEBVIEW2_ADDITIONAL_BROWSER_ARGUMENTS": edgeArgs} {
		if err := os.Setenv(k, v); err != nil {
			return nil, fmt.Errorf("set %s: %w", k, err)
		}
	}
	wv := webview.NewWindow(false, nil) // debug false: WebView2 developer tools disabled
	if !webviewCreated(wv) {
		return nil, errors.New("create the WebView2 web view: is the Microsoft Edge WebView2 Runtime installed?")
	}
	wv.SetTitle("SmartPath")
	wv.Init(lockdownWindowsJS)
	return &edgePlatform{s: s, wv: wv}, nil
}

func (p *edgePlatform) run()              { p.wv.Run() }
func (p *edgePlatform) dispatch(f func()) { p.wv.Dispatch(f) }
func (p *edgePlatform) terminate()        { p.wv.Terminate() }

// setPolicy: WebView2 offers no navigation or request filter through webview_go; the
// Chromium switches keep every non-loopback host unreachable.
func (p *edgePlatform) setPolicy(policy) error { return nil }

// navigate first asks the UI server whether it answers (WebView2 reports no load errors
// through webview_go), briefly and on loopback only, then loads it.
func (p *edgePlatform) navigate(url string) {
	client := http.Client{Timeout: 500 * time.Millisecond, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := client.Get(url)
	if err != nil {
		p.s.uiNotReachable(redactErr(err).Error())
		return
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		p.s.uiNotReachable(fmt.Sprintf("HTTP status %d", resp.StatusCode))
		return
	}
	p.wv.Navigate(url)
	p.s.loadCommitted(url, resp.StatusCode)
}

func (p *edgePlatform) showStarting(html string) { p.wv.SetHtml(html) }

// renew replaces the web view: runWindow destroys this one and starts another on a new,
// empty profile folder (a fresh browser process with no data of anyone), which loads the UI.
// No webview binding is ever made, so no page can reach native code.
func (p *edgePlatform) renew() error {
	p.s.log.Info("replacing the web view with a fresh one")
	p.s.restart = true
	p.wv.Terminate()
	return nil
}

func (p *edgePlatform) show() {
	hwnd := uintptr(p.wv.Window())
	w, _, _ := procGetSystemMetric.Call(smCxScreen)
	h, _, _ := procGetSystemMetric.Call(smCyScreen)
	style := uintptr(wsPopup | wsVisible)
	procSetWindowLongW.Call(hwnd, uintptr(gwlStyle), style)
	procSetWindowPos.Call(hwnd, hwndTopmost, 0, 0, w, h, swpFrameChanged|swpShowWindow)
	wndProcOnce.Do(func() { wndProcCB = syscall.NewCallback(kioskWndProc) })
	old, _, _ := procSetWindowLongW.Call(hwnd, uintptr(gwlpWndProc), wndProcCB)
	if old != 0 {
		oldWndProc = old
	}
}

func (p *edgePlatform) destroy() {
	if p.wv != nil {
		p.wv.Destroy()
		p.wv = nil
	}
}
