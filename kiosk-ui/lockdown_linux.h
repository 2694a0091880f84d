// The WebKitGTK lock-down of the kiosk shell. The Go side (platform_linux.go) creates the
// window with these functions, lets webview_go put its WebKitWebView inside, then calls
// kiosk_lockdown before the window is shown or anything is loaded. Decisions about URLs are
// made in Go (callbacks_linux.go), so the policy has one implementation with unit tests.
#ifndef SMARTPATH_KIOSK_LOCKDOWN_LINUX_H
#define SMARTPATH_KIOSK_LOCKDOWN_LINUX_H

#include <gtk/gtk.h>

// kiosk_gtk_init initialises GTK; it returns 0 when there is no usable display.
int kiosk_gtk_init(void);

// kiosk_window_new makes the undecorated top-level window sized to the whole monitor, with
// the shortcut, close and mouse back/forward handlers attached. It is not shown yet.
GtkWidget *kiosk_window_new(void);

// kiosk_lockdown locks down the WebKitWebView inside window (settings, policy, new windows,
// downloads, permissions, printing, file choosers, crash reload). It returns NULL, or an
// error message the caller frees with kiosk_free.
char *kiosk_lockdown(GtkWidget *window);

// kiosk_set_filter replaces the content filter with the one compiled from filter_json (in
// filter_dir). It waits, running the GLib main loop, until the filter is in force, so the
// caller can navigate right after. It returns NULL or an error to free with kiosk_free.
char *kiosk_set_filter(GtkWidget *window, const char *filter_json, const char *filter_dir);

// kiosk_window_show shows the window full screen and gives the web view the focus.
void kiosk_window_show(GtkWidget *window);

// kiosk_show_starting loads html (no external resources) as the "Starting…" page.
void kiosk_show_starting(GtkWidget *window, const char *html);

// kiosk_wipe clears all website data, caches and the back/forward list, then calls the Go
// function kioskGoWipeDone(id, error).
void kiosk_wipe(GtkWidget *window, int id);

// kiosk_snapshot_history remembers the current page as the one entry the back/forward list
// is reset to by kiosk_wipe. Call it when the UI's start page has just loaded. It returns 0
// when the session state could not be read.
int kiosk_snapshot_history(GtkWidget *window);

// kiosk_window_destroy destroys the window (after webview_go has let go of its view).
void kiosk_window_destroy(GtkWidget *window);

void kiosk_free(void *p);

#endif
