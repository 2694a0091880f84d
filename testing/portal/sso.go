package portal

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The sign-in bounce (CAS-like): a portal page visited without a session redirects to
//
//	{SSO}/login?service={Portal}/sso/callback?return=/the/page
//
// The SSO origin issues a single-use ticket and redirects back to the service URL with
// &ticket=…; the portal's /sso/callback redeems it, sets the session cookie and redirects to
// the page. A kiosk proxy therefore sees two cross-origin Location headers per sign-in.

const (
	ticketTTL      = time.Minute
	maxTickets     = 10000
	ssoCookie      = "sso_session"
	callbackPath   = "/sso/callback"
	maxReturnBytes = 2048
)

type ticket struct {
	service    string
	serialHash string // set when the SSO origin saw a council certificate
	expires    time.Time
}

type ticketStore struct {
	now func() time.Time

	mu sync.Mutex
	m  map[string]ticket
}

func newTicketStore(now func() time.Time) *ticketStore {
	return &ticketStore{now: now, m: make(map[string]ticket)}
}

func (ts *ticketStore) issue(service, serialHash string) string {
	id := "ST-" + randomToken()
	now := ts.now()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.m) >= maxTickets {
		for k, t := range ts.m {
			if now.After(t.expires) || len(ts.m) >= maxTickets {
				delete(ts.m, k)
			}
		}
	}
	ts.m[id] = ticket{service: service, serialHash: serialHash, expires: now.Add(ticketTTL)}
	return id
}

// redeem consumes a ticket; it is valid once, before it expires.
func (ts *ticketStore) redeem(id string) (ticket, bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	t, ok := ts.m[id]
	delete(ts.m, id)
	if !ok || ts.now().After(t.expires) {
		return ticket{}, false
	}
	return t, true
}

// bounce sends a visitor without a session to the SSO origin.
func (s *Server) bounce(w http.ResponseWriter, r *http.Request) {
	ret := "/"
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		ret = r.URL.RequestURI()
	}
	service := s.urls.Portal + callbackPath + "?return=" + url.QueryEscape(ret)
	http.Redirect(w, r, s.urls.SSO+"/login?service="+url.QueryEscape(service), http.StatusFound)
}

// localReturn accepts only a path on this origin, so the callback is no open redirect.
func localReturn(ret string) (string, bool) {
	if ret == "" {
		return "/", true
	}
	if len(ret) > maxReturnBytes || !strings.HasPrefix(ret, "/") || strings.HasPrefix(ret, "//") ||
		strings.ContainsAny(ret, "\\\r\n\t") {
		return "", false
	}
	u, err := url.Parse(ret)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "", false
	}
	return ret, true
}

// handleCallback redeems a ticket on the portal origin.
func (s *Server) handleCallback(w http.ResponseWriter, r *http.Request, c *Citizen) {
	ret, ok := localReturn(r.URL.Query().Get("return"))
	if !ok {
		s.renderError(w, r, http.StatusBadRequest, "The sign-in link is not valid",
			"Go to the home page and sign in again.", "")
		return
	}
	t, ok := s.tickets.redeem(r.URL.Query().Get("ticket"))
	wantService := s.urls.Portal + callbackPath + "?return=" + url.QueryEscape(ret)
	if !ok || t.service != wantService || (t.serialHash != "" && t.serialHash != c.SerialHash) {
		s.renderError(w, r, http.StatusForbidden, "Your sign-in has expired",
			"Sign-in links work once and for one minute. Go to the home page to sign in again.", "sso-ticket")
		return
	}
	se := s.sessions.create(*c)
	setSessionCookie(w, se.id, int(sessionTTL/time.Second))
	s.log.Info("signed in", "cn", c.Name, "cert", c.SerialHash)
	http.Redirect(w, r, ret, http.StatusFound)
}

// ssoHandler serves the SSO origin.
func (s *Server) ssoHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		service := r.URL.Query().Get("service")
		if !strings.HasPrefix(service, s.urls.Portal+callbackPath+"?") || len(service) > 4*maxReturnBytes {
			s.renderError(w, r, http.StatusBadRequest, "Unknown service",
				"This sign-in service only signs in to the council portal. Go to the portal's home page.", "sso-service")
			return
		}
		var serial string
		if s.opts.SSORequiresClientCert {
			c, ref := s.requestCitizen(r)
			if ref != nil {
				s.renderRefusal(w, r, ref)
				return
			}
			serial = c.SerialHash
		}
		u, err := url.Parse(service)
		if err != nil {
			s.renderError(w, r, http.StatusBadRequest, "Unknown service", "Go to the portal's home page.", "sso-service")
			return
		}
		q := u.Query()
		q.Set("ticket", s.tickets.issue(service, serial))
		u.RawQuery = q.Encode()
		// The SSO remembers the browser, as a real one would; the portal never sees this cookie.
		http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: randomToken(), Path: "/",
			HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, u.String(), http.StatusFound)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s.renderError(w, r, http.StatusOK, "Council sign-in service",
			"You reach this service through the council portal.", "")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.renderError(w, r, http.StatusNotFound, "Page not found", "Go to the council portal's home page.", "")
	})
	return mux
}
