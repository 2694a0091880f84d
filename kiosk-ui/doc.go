// Package kioskui is the kiosk shell: a locked-down, full-screen web view (WebKitGTK on
// Linux, WebView2 through webview_go on Windows) that shows the kiosk UI served by kiosk-agent on its loopback UI
// origin, with the council portal inside a frame of it.
//
// # Running
//
// [Run] opens the window and blocks until its context ends or a fatal error occurs. It must
// be called from the program's main goroutine (GTK and WebView2 want one thread for all UI
// work). The start URL comes from [Options].URL or from the agent's URL file
// (docs/ui-protocol.md); while the agent cannot be reached the shell shows a "Starting…"
// page and retries with backoff.
//
// # Lock-down
//
// On Linux the lock-down is done in C (lockdown_linux.c) on the WebKitWebView: navigation
// only to the allowed origins, a content filter blocking every other request, no new
// windows, no context menu, developer tools, browser shortcuts, downloads, permission
// prompts, printing or file choosers, and a window that cannot be closed. What exists on
// Windows is listed in docs/kiosk-ui.md.
//
// # Between citizens
//
// No page can call into the shell: there is no binding, script message handler or page API.
// The shell takes its orders from the agent on its own channel (package agent/shelllink): on
// each wipe order it destroys the web view with its ephemeral web context — everything any
// page left — shows the UI in a fresh one, and confirms. Whatever WebKit writes to disk lives
// in a fresh private directory per start, removed on exit. The contract is in
// docs/kiosk-ui.md.
package kioskui
