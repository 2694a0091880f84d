// The WebKitGTK side of the kiosk shell. The Go side (platform_linux.go) makes the window,
// then one web view per citizen with kiosk_view_new, and destroys it with kiosk_view_destroy
// when the agent orders a wipe. Decisions about URLs are made in Go (callbacks_linux.go), so
// the policy has one implementation with unit tests. No script message handler, binding or
// other native bridge is ever registered: no page can call into the shell.
#ifndef SMARTPATH_KIOSK_LOCKDOWN_LINUX_H
#define SMARTPATH_KIOSK_LOCKDOWN_LINUX_H

#include <gtk/gtk.h>
#include <stdint.h>

// kiosk_gtk_init initialises GTK; it returns 0 when there is no usable display.
int kiosk_gtk_init(void);

// kiosk_window_new makes the undecorated top-level window sized to the whole monitor, with
// the shortcut, close and mouse back/forward handlers attached. It is not shown yet.
GtkWidget *kiosk_window_new(void);

// kiosk_view_new puts a fresh, locked-down web view into window (which must hold none): a new
// ephemeral web context (website data in memory, its own web and network processes), the
// content filter in force, settings, policy, new windows, downloads, permissions, printing,
// file choosers, crash report. It returns NULL, or an error to free with kiosk_free.
char *kiosk_view_new(GtkWidget *window);

// kiosk_view_destroy ends the window's web view, its web process and its web context, with
// everything the pages in it left in memory.
void kiosk_view_destroy(GtkWidget *window);

// kiosk_set_filter compiles filter_json (in filter_dir) into the content filter for the
// current and every later view. It waits, running the GLib main loop, until the filter is in
// force, so the caller can navigate right after. It returns NULL or an error (kiosk_free).
char *kiosk_set_filter(GtkWidget *window, const char *filter_json, const char *filter_dir);

// kiosk_window_show shows the window full screen and gives the web view the focus.
void kiosk_window_show(GtkWidget *window);

// kiosk_navigate loads uri as the top-level document of the current view.
void kiosk_navigate(GtkWidget *window, const char *uri);

// kiosk_show_starting loads html (no external resources) as the "Starting…" page.
void kiosk_show_starting(GtkWidget *window, const char *html);

// kiosk_window_destroy destroys the window and its view.
void kiosk_window_destroy(GtkWidget *window);

// The main loop: kiosk_run runs it until kiosk_quit; kiosk_dispatch makes the loop call the
// Go function kioskGoDispatched(handle). kiosk_quit and kiosk_dispatch may be called from
// any thread.
void kiosk_run(void);
void kiosk_quit(void);
void kiosk_dispatch(uintptr_t handle);

void kiosk_free(void *p);

#endif
