package proxy

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Bounds on what the proxy buffers to rewrite.
const (
	maxRewriteBody = 4 << 20 // HTML and CSS responses
	maxFormBody    = 1 << 20 // url-encoded request forms
)

// errLeaves is the ModifyResponse error for a redirect to an origin that is not configured.
var errLeaves = errors.New("the portal redirected to a site that is not configured")

// handler serves one local origin: it admits only requests addressed to this listener in
// origin form and forwards them to the one upstream origin o.
func (s *Session) handler(o *origin) http.Handler {
	rp := &httputil.ReverseProxy{
		Rewrite:        func(pr *httputil.ProxyRequest) { s.rewriteRequest(o, pr) },
		Transport:      s.rt,
		ModifyResponse: func(resp *http.Response) error { return s.rewriteResponse(resp) },
		ErrorHandler:   func(w http.ResponseWriter, r *http.Request, err error) { s.proxyError(o, w, r, err) },
		BufferPool:     bufferPool{},
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.enter() {
			http.Error(w, "session ended", http.StatusServiceUnavailable)
			return
		}
		defer s.handlers.Done()
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		if code, why := admit(o, r); code != 0 {
			s.log.Warn("portal proxy refused a request", "reason", why, "method", sanitizeMethod(r.Method), "origin", o.index)
			http.Error(rec, http.StatusText(code)+": "+why, code)
		} else if s.guard(o, rec, r) {
			if s.cfg.OnRequest != nil {
				s.cfg.OnRequest(o.upOrigin, r)
			}
			rp.ServeHTTP(rec, r)
			if s.cfg.OnResponse != nil {
				s.cfg.OnResponse(o.upOrigin, r, rec.status())
			}
		}
		if s.log.Enabled(r.Context(), slog.LevelDebug) {
			s.log.LogAttrs(r.Context(), slog.LevelDebug, "portal proxy request",
				slog.String("method", sanitizeMethod(r.Method)),
				slog.Int("origin", o.index),
				slog.Int("status", rec.status()),
				slog.Duration("duration", time.Since(start)))
		}
	})
}

// admit refuses what would make this an open proxy. It returns 0 for a request to serve.
func admit(o *origin, r *http.Request) (int, string) {
	switch {
	case r.Method == http.MethodConnect:
		return http.StatusMethodNotAllowed, "CONNECT is not allowed"
	case r.URL.IsAbs() || r.URL.Host != "" || !strings.HasPrefix(r.RequestURI, "/"):
		return http.StatusBadRequest, "absolute-form requests are not allowed"
	case !strings.EqualFold(r.Host, o.localHost):
		return http.StatusForbidden, "wrong Host"
	}
	return 0, ""
}

func sanitizeMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// rewriteRequest points the outbound request at o and maps what refers to local origins.
func (s *Session) rewriteRequest(o *origin, pr *httputil.ProxyRequest) {
	in, out := pr.In, pr.Out
	out.URL.Scheme = "https"
	out.URL.Host = o.upHost
	out.URL.User = nil
	out.Host = ""
	if in.URL.RawQuery != "" {
		out.URL.RawQuery = s.toUp.Replace(in.URL.RawQuery)
	}
	h := out.Header
	// The jar is the only source of the portal's cookies. Dropping the webview's Cookie header
	// also keeps the proxy's own access cookie from the portal.
	h.Del("Cookie")
	h.Del("Forwarded")
	for _, c := range s.jar.cookies(out.URL) {
		out.AddCookie(c)
	}
	if d := s.currentDisplay(); d.Lang != "" {
		h.Set("Accept-Language", d.Lang) // the citizen's choice, not the webview's default
	}
	if v := h.Get("Origin"); v != "" {
		if up, ok := s.origins.originToUpstream(v); ok {
			h.Set("Origin", up)
		}
	}
	if v := h.Get("Referer"); v != "" {
		if up, ok := s.origins.toUpstreamURL(v); ok && !isReserved(v) {
			h.Set("Referer", up)
		} else {
			h.Del("Referer") // never leak the kiosk UI's address, nor the enter URL's secret
		}
	}
	// Compression: gzip only, so that the HTML and CSS the proxy rewrites can be decoded.
	if acceptsGzip(in.Header.Get("Accept-Encoding")) {
		h.Set("Accept-Encoding", "gzip")
	} else {
		h.Del("Accept-Encoding")
	}
	if isForm(in.Header.Get("Content-Type")) && in.ContentLength > 0 && in.ContentLength <= maxFormBody && out.Body != nil {
		b, err := io.ReadAll(io.LimitReader(out.Body, maxFormBody+1))
		out.Body.Close()
		if err == nil {
			b = []byte(s.toUp.Replace(string(b)))
		}
		out.Body = io.NopCloser(bytes.NewReader(b))
		out.ContentLength = int64(len(b))
		out.GetBody = nil
	}
}

func acceptsGzip(v string) bool {
	for _, t := range strings.Split(v, ",") {
		t, q, _ := strings.Cut(strings.TrimSpace(t), ";")
		if strings.EqualFold(strings.TrimSpace(t), "gzip") && !strings.Contains(strings.ReplaceAll(q, " ", ""), "q=0") {
			return true
		}
	}
	return false
}

func isForm(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// responseHeadersDropped are response headers that make no sense, or harm, behind the
// loopback proxy.
var responseHeadersDropped = []string{
	"X-Frame-Options", "Strict-Transport-Security", "Alt-Svc", "Public-Key-Pins",
	"Public-Key-Pins-Report-Only", "Nel", "Report-To", "Reporting-Endpoints", "Set-Cookie",
}

// rewriteResponse keeps the portal's cookies in the jar, shows or refuses attachments
// (rewriteAttachment), and maps headers and text bodies to the local origins.
func (s *Session) rewriteResponse(resp *http.Response) error {
	h := resp.Header
	s.jar.setCookies(resp.Request.URL, resp.Cookies())
	if s.rewriteAttachment(resp) {
		return nil
	}
	for _, k := range responseHeadersDropped {
		h.Del(k)
	}
	if v := h.Get("Location"); v != "" {
		l, ok := s.origins.toLocalURL(v)
		switch {
		case ok:
			h.Set("Location", l)
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			return errLeaves // a redirect out of the portal: show an error page instead
		default:
			h.Del("Location") // e.g. 201 Created naming another site: not a navigation
		}
	}
	if v := h.Get("Content-Location"); v != "" {
		if l, ok := s.origins.toLocalURL(v); ok {
			h.Set("Content-Location", l)
		} else {
			h.Del("Content-Location")
		}
	}
	if v := h.Get("Refresh"); v != "" {
		r, ok := s.origins.rewriteRefresh(v)
		if !ok {
			return errLeaves
		}
		h.Set("Refresh", r)
	}
	if vs := h.Values("Link"); len(vs) > 0 {
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = s.origins.rewriteLink(v)
		}
		h["Link"] = out
	}
	if v := h.Get("Access-Control-Allow-Origin"); v != "" {
		h.Set("Access-Control-Allow-Origin", s.origins.originToLocal(v))
	}
	csp := h.Values("Content-Security-Policy")
	if len(csp) == 0 {
		h.Set("Content-Security-Policy", s.origins.frameAncestors())
	} else {
		out := make([]string, len(csp))
		for i, v := range csp {
			out[i] = s.origins.rewriteCSP(v)
		}
		h["Content-Security-Policy"] = out
	}
	if ro := h.Values("Content-Security-Policy-Report-Only"); len(ro) > 0 {
		out := make([]string, len(ro))
		for i, v := range ro {
			out[i] = s.origins.rewriteCSP(v)
		}
		h["Content-Security-Policy-Report-Only"] = out
	}
	return s.rewriteBody(resp)
}

// rewriteBody rewrites an HTML or CSS body of at most maxRewriteBody bytes; anything else
// streams through untouched.
func (s *Session) rewriteBody(resp *http.Response) error {
	if resp.Request.Method == http.MethodHead || resp.StatusCode < 200 || resp.StatusCode == http.StatusNoContent ||
		resp.StatusCode == http.StatusPartialContent || resp.StatusCode == http.StatusNotModified || resp.Body == nil {
		return nil
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch mt {
	case "text/html", "text/css", "application/xhtml+xml":
	default:
		return nil
	}
	enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding")))
	if enc != "" && enc != "identity" && enc != "gzip" {
		return nil
	}
	if resp.ContentLength > maxRewriteBody {
		return nil
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxRewriteBody+1))
	if err != nil {
		return err
	}
	if len(raw) > maxRewriteBody { // too big: pass it on as it came
		resp.Body = readCloser{io.MultiReader(bytes.NewReader(raw), resp.Body), resp.Body}
		return nil
	}
	resp.Body.Close()
	plain := raw
	if enc == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err == nil {
			plain, err = io.ReadAll(io.LimitReader(zr, maxRewriteBody+1))
		}
		if err != nil || len(plain) > maxRewriteBody {
			resp.Body = io.NopCloser(bytes.NewReader(raw)) // undecodable or too big: as it came
			return nil
		}
	}
	body, changed := s.origins.rewriteBody(plain)
	if mt != "text/css" && s.currentDisplay().HighContrast {
		body, changed = withContrast(body), true
	}
	if !changed && enc == "gzip" {
		body = raw
	} else {
		resp.Header.Del("Content-Encoding")
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	resp.Header.Del("Transfer-Encoding")
	resp.TransferEncoding = nil
	return nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// proxyError answers a failed upstream round trip with a short page and logs why, without
// URLs (a query may carry citizen data).
func (s *Session) proxyError(o *origin, w http.ResponseWriter, r *http.Request, err error) {
	if s.ctx.Err() != nil || r.Context().Err() != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	if errors.Is(err, errLeaves) {
		s.log.Warn("portal proxy blocked a redirect to a site that is not configured", "origin", o.index)
		http.Error(w, "The portal tried to send you to a site outside the council portal. It was blocked.", http.StatusBadGateway)
		return
	}
	cerr := classify(err)
	code := http.StatusBadGateway
	var te interface{ Timeout() bool }
	if errors.As(err, &te) && te.Timeout() {
		code = http.StatusGatewayTimeout
	}
	s.log.Warn("portal proxy upstream error", "origin", o.index, "error", cerr)
	http.Error(w, "The council portal cannot be reached at the moment.", code)
}

// statusRecorder remembers the status for the request log; Unwrap lets
// http.ResponseController reach Flush and Hijack.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

// WriteHeader sends the headers of a streaming response (no Content-Length) at once, so that
// an event stream or long poll that has nothing to say yet still reaches the browser.
func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
	if code >= 200 && code != http.StatusNoContent && code != http.StatusNotModified &&
		r.Header().Get("Content-Length") == "" {
		http.NewResponseController(r.ResponseWriter).Flush()
	}
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Flush() {
	http.NewResponseController(r.ResponseWriter).Flush()
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

// bufferPool lends the 32 KiB copy buffers of the reverse proxy.
type bufferPool struct{}

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *(copyBuffers.Get().(*[]byte)) }
func (bufferPool) Put(b []byte) { copyBuffers.Put(&b) }
