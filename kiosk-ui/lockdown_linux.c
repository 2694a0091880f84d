// WebKitGTK lock-down of the kiosk shell. See lockdown_linux.h and docs/kiosk-ui.md.
#include "lockdown_linux.h"

#include <stdint.h>
#include <string.h>
#include <webkit2/webkit2.h>

// Implemented in Go (callbacks_linux.go).
extern int kioskGoAllowNavigation(char *uri);
extern int kioskGoAllowMainDocument(char *uri);
extern void kioskGoLoadFailed(char *uri, char *message, int network);
extern void kioskGoLoadCommitted(char *uri, int status);
extern void kioskGoWebProcessTerminated(int reason);
extern void kioskGoDispatched(uintptr_t handle);
extern void kioskGoRefused(char *what, char *uri);

// The compiled content filter in force, added to every new view's content manager.
static WebKitUserContentFilter *current_filter;

// Links that would open a new window open in the frame they come from. The native side
// refuses every new window anyway; this only keeps such links working. It runs in its own
// script world so page scripts cannot see or undo it.
static const char *same_frame_links_js =
    "(function(){"
    "function fix(e){var n=e.target;"
    " while(n&&n.nodeType===1){"
    "  var t=n.tagName;"
    "  if((t==='A'||t==='AREA'||t==='FORM')&&n.target&&n.target!=='_self'&&n.target!=='_parent'&&n.target!=='_top'){n.target='_self';}"
    "  if(t==='A'||t==='AREA'||t==='FORM')return;"
    "  n=n.parentNode;}"
    "}"
    "document.addEventListener('click',fix,true);"
    "document.addEventListener('auxclick',function(e){if(e.button===1){e.preventDefault();}},true);"
    "document.addEventListener('submit',fix,true);"
    "})();";

static WebKitWebView *view_of(GtkWidget *window) {
  GtkWidget *child = gtk_bin_get_child(GTK_BIN(window));
  if (child == NULL || !WEBKIT_IS_WEB_VIEW(child)) {
    return NULL;
  }
  return WEBKIT_WEB_VIEW(child);
}

int kiosk_gtk_init(void) { return gtk_init_check(NULL, NULL) ? 1 : 0; }

void kiosk_free(void *p) { g_free(p); }

// ---- the window: full screen, undecorated, no shortcuts, cannot be closed ----

static void fit_to_monitor(GtkWindow *window) {
  GdkDisplay *display = gdk_display_get_default();
  if (display == NULL) {
    return;
  }
  GdkMonitor *monitor = gdk_display_get_primary_monitor(display);
  if (monitor == NULL && gdk_display_get_n_monitors(display) > 0) {
    monitor = gdk_display_get_monitor(display, 0);
  }
  if (monitor == NULL) {
    return;
  }
  GdkRectangle geo;
  gdk_monitor_get_geometry(monitor, &geo);
  gtk_window_move(window, geo.x, geo.y);
  gtk_window_set_default_size(window, geo.width, geo.height);
  gtk_window_resize(window, geo.width, geo.height);
  // With a window manager this also removes its frame and panels; without one the
  // explicit position and size above do the work.
  gtk_window_fullscreen(window);
}

static void on_screen_changed(GdkScreen *screen, gpointer window) {
  (void)screen;
  fit_to_monitor(GTK_WINDOW(window));
}

static gboolean on_delete_event(GtkWidget *w, GdkEvent *e, gpointer data) {
  (void)w;
  (void)e;
  (void)data;
  kioskGoRefused("close", "");
  return TRUE; // Alt+F4 through a window manager, or any close request: refused.
}

// is_browser_shortcut says whether a key press is one a browser would act on (reload,
// developer tools, history, new window, print, save, open, close, quit). The kiosk swallows
// those; ordinary typing, Tab, Escape and clipboard keys pass through to the page.
static gboolean is_browser_shortcut(GdkEventKey *ev) {
  guint mods = ev->state & (GDK_CONTROL_MASK | GDK_SHIFT_MASK | GDK_MOD1_MASK |
                            GDK_SUPER_MASK | GDK_META_MASK);
  guint key = gdk_keyval_to_lower(ev->keyval);
  if (key >= GDK_KEY_F1 && key <= GDK_KEY_F35) {
    return TRUE; // F5 reload, F7 caret browsing, F11, F12 inspector, Alt+F4 ...
  }
  switch (key) {
  case GDK_KEY_Back:
  case GDK_KEY_Forward:
  case GDK_KEY_Refresh:
  case GDK_KEY_Reload:
  case GDK_KEY_Stop:
  case GDK_KEY_HomePage:
  case GDK_KEY_Search:
  case GDK_KEY_Favorites:
  case GDK_KEY_OpenURL:
  case GDK_KEY_WWW:
  case GDK_KEY_Close:
  case GDK_KEY_Print:
  case GDK_KEY_Menu:
    return TRUE;
  default:
    break;
  }
  if (mods & (GDK_MOD1_MASK | GDK_META_MASK)) {
    switch (key) {
    case GDK_KEY_Left:
    case GDK_KEY_Right:
    case GDK_KEY_Home:
    case GDK_KEY_KP_Left:
    case GDK_KEY_KP_Right:
    case GDK_KEY_KP_Home:
      return TRUE;
    default:
      break;
    }
  }
  if (mods & GDK_CONTROL_MASK) {
    switch (key) {
    case GDK_KEY_r: // reload
    case GDK_KEY_l: // location
    case GDK_KEY_t: // new tab
    case GDK_KEY_n: // new window
    case GDK_KEY_w: // close
    case GDK_KEY_p: // print
    case GDK_KEY_s: // save
    case GDK_KEY_o: // open
    case GDK_KEY_q: // quit
    case GDK_KEY_u: // view source
    case GDK_KEY_j: // downloads
    case GDK_KEY_h: // history
    case GDK_KEY_d: // bookmark
    case GDK_KEY_Tab:
    case GDK_KEY_ISO_Left_Tab:
    case GDK_KEY_Page_Up:
    case GDK_KEY_Page_Down:
      return TRUE;
    case GDK_KEY_i: // Ctrl+Shift+I/J/C/K: developer tools
    case GDK_KEY_c:
    case GDK_KEY_k:
      return (mods & GDK_SHIFT_MASK) != 0;
    default:
      break;
    }
  }
  return FALSE;
}

static gboolean on_key_press(GtkWidget *w, GdkEventKey *ev, gpointer data) {
  (void)w;
  (void)data;
  if (is_browser_shortcut(ev)) {
    kioskGoRefused("shortcut", gdk_keyval_name(ev->keyval) ? (char *)gdk_keyval_name(ev->keyval) : "");
    return TRUE;
  }
  return FALSE;
}

static gboolean on_key_release(GtkWidget *w, GdkEventKey *ev, gpointer data) {
  (void)w;
  (void)data;
  return is_browser_shortcut(ev);
}

GtkWidget *kiosk_window_new(void) {
  GtkWidget *window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
  GtkWindow *win = GTK_WINDOW(window);
  gtk_window_set_title(win, "SmartPath");
  gtk_window_set_decorated(win, FALSE);
  gtk_window_set_deletable(win, FALSE);
  gtk_window_set_skip_taskbar_hint(win, TRUE);
  gtk_window_set_skip_pager_hint(win, TRUE);
  gtk_window_set_keep_above(win, TRUE);
  fit_to_monitor(win);
  g_signal_connect(window, "delete-event", G_CALLBACK(on_delete_event), NULL);
  g_signal_connect(window, "key-press-event", G_CALLBACK(on_key_press), NULL);
  g_signal_connect(window, "key-release-event", G_CALLBACK(on_key_release), NULL);
  GdkScreen *screen = gtk_widget_get_screen(window);
  if (screen != NULL) {
    g_signal_connect_object(screen, "size-changed", G_CALLBACK(on_screen_changed), window, 0);
    g_signal_connect_object(screen, "monitors-changed", G_CALLBACK(on_screen_changed), window,
                            0);
  }
  return window;
}

void kiosk_window_show(GtkWidget *window) {
  fit_to_monitor(GTK_WINDOW(window));
  gtk_widget_show_all(window);
  gtk_window_present(GTK_WINDOW(window));
  WebKitWebView *view = view_of(window);
  if (view != NULL) {
    gtk_widget_grab_focus(GTK_WIDGET(view));
  }
}

void kiosk_window_destroy(GtkWidget *window) {
  g_signal_handlers_disconnect_by_func(window, G_CALLBACK(on_delete_event), NULL);
  gtk_widget_destroy(window);
}

// ---- the web view ----

static gboolean on_mouse_button(GtkWidget *w, GdkEventButton *ev, gpointer data) {
  (void)w;
  (void)data;
  return ev->button == 8 || ev->button == 9; // back / forward buttons
}

static gboolean on_context_menu(WebKitWebView *v, WebKitContextMenu *m, GdkEvent *e,
                                WebKitHitTestResult *h, gpointer data) {
  (void)v;
  (void)m;
  (void)e;
  (void)h;
  (void)data;
  kioskGoRefused("context-menu", "");
  return TRUE;
}

static gboolean on_decide_policy(WebKitWebView *v, WebKitPolicyDecision *decision,
                                 WebKitPolicyDecisionType type, gpointer data) {
  (void)v;
  (void)data;
  switch (type) {
  case WEBKIT_POLICY_DECISION_TYPE_NAVIGATION_ACTION: {
    WebKitNavigationAction *action = webkit_navigation_policy_decision_get_navigation_action(
        WEBKIT_NAVIGATION_POLICY_DECISION(decision));
    const char *uri = webkit_uri_request_get_uri(webkit_navigation_action_get_request(action));
    if (uri != NULL && kioskGoAllowNavigation((char *)uri)) {
      webkit_policy_decision_use(decision);
    } else {
      kioskGoRefused("navigation", uri ? (char *)uri : "");
      webkit_policy_decision_ignore(decision);
    }
    return TRUE;
  }
  case WEBKIT_POLICY_DECISION_TYPE_NEW_WINDOW_ACTION: {
    WebKitNavigationAction *action = webkit_navigation_policy_decision_get_navigation_action(
        WEBKIT_NAVIGATION_POLICY_DECISION(decision));
    const char *uri = webkit_uri_request_get_uri(webkit_navigation_action_get_request(action));
    kioskGoRefused("new-window", uri ? (char *)uri : "");
    webkit_policy_decision_ignore(decision);
    return TRUE;
  }
  case WEBKIT_POLICY_DECISION_TYPE_RESPONSE: {
    WebKitResponsePolicyDecision *rd = WEBKIT_RESPONSE_POLICY_DECISION(decision);
    const char *uri = webkit_uri_request_get_uri(webkit_response_policy_decision_get_request(rd));
    if (!webkit_response_policy_decision_is_mime_type_supported(rd)) {
      kioskGoRefused("download", uri ? (char *)uri : "");
      webkit_policy_decision_ignore(decision);
      return TRUE;
    }
    if (webkit_response_policy_decision_is_main_frame_main_resource(rd) &&
        (uri == NULL || !kioskGoAllowMainDocument((char *)uri))) {
      kioskGoRefused("top-level", uri ? (char *)uri : "");
      webkit_policy_decision_ignore(decision);
      return TRUE;
    }
    webkit_policy_decision_use(decision);
    return TRUE;
  }
  default:
    webkit_policy_decision_ignore(decision);
    return TRUE;
  }
}

static GtkWidget *on_create(WebKitWebView *v, WebKitNavigationAction *a, gpointer data) {
  (void)v;
  (void)a;
  (void)data;
  return NULL; // never a second window
}

static gboolean on_permission_request(WebKitWebView *v, WebKitPermissionRequest *r,
                                      gpointer data) {
  (void)v;
  (void)data;
  kioskGoRefused("permission", (char *)G_OBJECT_TYPE_NAME(r));
  webkit_permission_request_deny(r);
  return TRUE;
}

static gboolean on_print(WebKitWebView *v, WebKitPrintOperation *p, gpointer data) {
  (void)v;
  (void)p;
  (void)data;
  kioskGoRefused("print", "");
  return TRUE;
}

static gboolean on_file_chooser(WebKitWebView *v, WebKitFileChooserRequest *r, gpointer data) {
  (void)v;
  (void)data;
  kioskGoRefused("file-chooser", "");
  webkit_file_chooser_request_cancel(r);
  return TRUE;
}

static gboolean on_authenticate(WebKitWebView *v, WebKitAuthenticationRequest *r,
                                gpointer data) {
  (void)v;
  (void)data;
  kioskGoRefused("authentication", "");
  webkit_authentication_request_cancel(r);
  return TRUE;
}

static gboolean on_refuse_quietly(WebKitWebView *v, gpointer data) {
  (void)v;
  (void)data;
  return TRUE;
}

static gboolean on_show_notification(WebKitWebView *v, WebKitNotification *n, gpointer data) {
  (void)v;
  (void)n;
  (void)data;
  return TRUE;
}

static void on_download_started(WebKitWebContext *c, WebKitDownload *d, gpointer data) {
  (void)c;
  (void)data;
  kioskGoRefused("download", "");
  webkit_download_cancel(d);
}

static void on_load_changed(WebKitWebView *v, WebKitLoadEvent event, gpointer data) {
  (void)data;
  if (event != WEBKIT_LOAD_COMMITTED) {
    return;
  }
  int status = 0;
  WebKitWebResource *res = webkit_web_view_get_main_resource(v);
  if (res != NULL) {
    WebKitURIResponse *resp = webkit_web_resource_get_response(res);
    if (resp != NULL) {
      status = (int)webkit_uri_response_get_status_code(resp);
    }
  }
  const char *uri = webkit_web_view_get_uri(v);
  kioskGoLoadCommitted(uri ? (char *)uri : "", status);
}

static gboolean on_load_failed(WebKitWebView *v, WebKitLoadEvent event, gchar *uri,
                               GError *error, gpointer data) {
  (void)v;
  (void)event;
  (void)data;
  // A navigation that a newer one replaced ends here too: not a failure.
  if (error->domain == WEBKIT_NETWORK_ERROR && error->code == WEBKIT_NETWORK_ERROR_CANCELLED) {
    return TRUE;
  }
  // Network errors on the UI mean the agent is not reachable; anything else (the policy or
  // the content filter stopped it) is a refusal.
  kioskGoLoadFailed(uri ? uri : "", error->message ? error->message : "",
                    error->domain == WEBKIT_NETWORK_ERROR ? 1 : 0);
  return TRUE; // no built-in error page
}

static void on_web_process_terminated(WebKitWebView *v, WebKitWebProcessTerminationReason r,
                                      gpointer data) {
  (void)v;
  (void)data;
  kioskGoWebProcessTerminated((int)r);
}

// ---- the content filter ----

typedef struct {
  gboolean done;
  WebKitUserContentFilter *filter;
  char *error;
} filter_job;

static void on_filter_saved(GObject *store, GAsyncResult *result, gpointer data) {
  filter_job *job = data;
  GError *err = NULL;
  job->filter = webkit_user_content_filter_store_save_finish(
      WEBKIT_USER_CONTENT_FILTER_STORE(store), result, &err);
  if (job->filter == NULL) {
    job->error = g_strdup_printf("compile the content filter: %s",
                                 err ? err->message : "unknown error");
  }
  if (err != NULL) {
    g_error_free(err);
  }
  job->done = TRUE;
}

static gboolean on_filter_timeout(gpointer data) {
  filter_job *job = data;
  if (!job->done) {
    job->error = g_strdup("compile the content filter: timed out after 30 s");
    job->done = TRUE;
  }
  return G_SOURCE_REMOVE;
}

char *kiosk_set_filter(GtkWidget *window, const char *json, const char *dir) {
  WebKitUserContentFilterStore *store = webkit_user_content_filter_store_new(dir);
  GBytes *source = g_bytes_new(json, strlen(json));
  // On the heap: after a timeout the compile may still finish and write into it, and the
  // shell exits on that error anyway, so a timed-out job is deliberately left allocated.
  filter_job *job = g_new0(filter_job, 1);
  guint timer = g_timeout_add_seconds(30, on_filter_timeout, job);
  webkit_user_content_filter_store_save(store, "smartpath-kiosk", source, NULL, on_filter_saved,
                                        job);
  while (!job->done) {
    g_main_context_iteration(NULL, TRUE);
  }
  g_bytes_unref(source);
  if (job->filter == NULL) {
    char *err = job->error ? g_strdup(job->error) : g_strdup("compile the content filter: failed");
    return err; // job and store stay alive for the late completion
  }
  g_source_remove(timer);
  g_object_unref(store);
  // Swap only now: the old rules stay in force while the new ones compile.
  if (current_filter != NULL) {
    webkit_user_content_filter_unref(current_filter);
  }
  current_filter = job->filter;
  WebKitWebView *view = view_of(window);
  if (view != NULL) {
    WebKitUserContentManager *ucm = webkit_web_view_get_user_content_manager(view);
    webkit_user_content_manager_remove_all_filters(ucm);
    webkit_user_content_manager_add_filter(ucm, current_filter);
  }
  g_free(job->error);
  g_free(job);
  return NULL;
}

// ---- one browser per citizen ----

static void lock_settings(WebKitSettings *s) {
  webkit_settings_set_enable_developer_extras(s, FALSE);
  webkit_settings_set_enable_write_console_messages_to_stdout(s, FALSE);
  webkit_settings_set_javascript_can_access_clipboard(s, FALSE);
  webkit_settings_set_javascript_can_open_windows_automatically(s, FALSE);
  webkit_settings_set_enable_page_cache(s, FALSE); // no earlier page kept alive in memory
  webkit_settings_set_enable_back_forward_navigation_gestures(s, FALSE);
  webkit_settings_set_allow_file_access_from_file_urls(s, FALSE);
  webkit_settings_set_allow_universal_access_from_file_urls(s, FALSE);
  webkit_settings_set_allow_modal_dialogs(s, FALSE);
}

char *kiosk_view_new(GtkWidget *window) {
  if (view_of(window) != NULL) {
    return g_strdup("the window already holds a web view");
  }
  // An ephemeral context: its website data manager keeps everything (cookies, storage,
  // caches, HSTS, TLS state, visited links) in memory, in web and network processes of its
  // own that end with it.
  WebKitWebContext *ctx = webkit_web_context_new_ephemeral();
  if (ctx == NULL || !webkit_web_context_is_ephemeral(ctx)) {
    if (ctx != NULL) {
      g_object_unref(ctx);
    }
    return g_strdup("WebKit made no ephemeral web context");
  }
  // A memory cache for the citizen's pages; it goes with the context.
  webkit_web_context_set_cache_model(ctx, WEBKIT_CACHE_MODEL_WEB_BROWSER);
  WebKitWebsiteDataManager *data = webkit_web_context_get_website_data_manager(ctx);
  // The kiosk only talks to loopback: no proxy from the environment applies.
  webkit_website_data_manager_set_network_proxy_settings(data, WEBKIT_NETWORK_PROXY_MODE_NO_PROXY,
                                                         NULL);
  g_signal_connect(ctx, "download-started", G_CALLBACK(on_download_started), NULL);

  // A content manager with no script message handler: nothing native is reachable from
  // any page. Its only script runs in an isolated world that page scripts cannot see.
  WebKitUserContentManager *ucm = webkit_user_content_manager_new();
  WebKitUserScript *links = webkit_user_script_new_for_world(
      same_frame_links_js, WEBKIT_USER_CONTENT_INJECT_ALL_FRAMES,
      WEBKIT_USER_SCRIPT_INJECT_AT_DOCUMENT_START, "smartpath-kiosk", NULL, NULL);
  webkit_user_content_manager_add_script(ucm, links);
  webkit_user_script_unref(links);
  if (current_filter != NULL) {
    webkit_user_content_manager_add_filter(ucm, current_filter);
  }

  WebKitSettings *settings = webkit_settings_new();
  lock_settings(settings);

  GtkWidget *w = GTK_WIDGET(g_object_new(WEBKIT_TYPE_WEB_VIEW, "web-context", ctx,
                                         "user-content-manager", ucm, "settings", settings,
                                         NULL));
  g_object_unref(settings);
  g_object_unref(ucm);
  g_object_unref(ctx); // the view holds it; it goes when the view does
  WebKitWebView *view = WEBKIT_WEB_VIEW(w);

  g_signal_connect(view, "decide-policy", G_CALLBACK(on_decide_policy), NULL);
  g_signal_connect(view, "create", G_CALLBACK(on_create), NULL);
  g_signal_connect(view, "context-menu", G_CALLBACK(on_context_menu), NULL);
  g_signal_connect(view, "permission-request", G_CALLBACK(on_permission_request), NULL);
  g_signal_connect(view, "print", G_CALLBACK(on_print), NULL);
  g_signal_connect(view, "run-file-chooser", G_CALLBACK(on_file_chooser), NULL);
  g_signal_connect(view, "authenticate", G_CALLBACK(on_authenticate), NULL);
  g_signal_connect(view, "show-notification", G_CALLBACK(on_show_notification), NULL);
  g_signal_connect(view, "enter-fullscreen", G_CALLBACK(on_refuse_quietly), NULL);
  g_signal_connect(view, "leave-fullscreen", G_CALLBACK(on_refuse_quietly), NULL);
  g_signal_connect(view, "load-changed", G_CALLBACK(on_load_changed), NULL);
  g_signal_connect(view, "load-failed", G_CALLBACK(on_load_failed), NULL);
  g_signal_connect(view, "web-process-terminated", G_CALLBACK(on_web_process_terminated), NULL);
  g_signal_connect(view, "button-press-event", G_CALLBACK(on_mouse_button), NULL);
  g_signal_connect(view, "button-release-event", G_CALLBACK(on_mouse_button), NULL);

  gtk_container_add(GTK_CONTAINER(window), w);
  gtk_widget_show(w);
  gtk_widget_grab_focus(w);
  return NULL;
}

void kiosk_view_destroy(GtkWidget *window) {
  WebKitWebView *view = view_of(window);
  if (view == NULL) {
    return;
  }
  // No more callbacks from the old page while it goes.
  g_signal_handlers_disconnect_matched(view, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, NULL);
  webkit_web_view_stop_loading(view);
  webkit_web_view_terminate_web_process(view);
  gtk_widget_destroy(GTK_WIDGET(view));
}

void kiosk_show_starting(GtkWidget *window, const char *html) {
  WebKitWebView *view = view_of(window);
  if (view != NULL) {
    webkit_web_view_load_html(view, html, NULL);
  }
}

void kiosk_navigate(GtkWidget *window, const char *uri) {
  WebKitWebView *view = view_of(window);
  if (view != NULL) {
    webkit_web_view_load_uri(view, uri);
  }
}

// ---- the main loop ----

void kiosk_run(void) { gtk_main(); }

static gboolean quit_now(gpointer data) {
  (void)data;
  gtk_main_quit();
  return G_SOURCE_REMOVE;
}

void kiosk_quit(void) { g_idle_add_full(G_PRIORITY_HIGH_IDLE, quit_now, NULL, NULL); }

static gboolean run_dispatched(gpointer data) {
  kioskGoDispatched((uintptr_t)data);
  return G_SOURCE_REMOVE;
}

void kiosk_dispatch(uintptr_t handle) {
  g_idle_add_full(G_PRIORITY_HIGH_IDLE, run_dispatched, (gpointer)handle, NULL);
}
