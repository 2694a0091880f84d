package portal

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

var templateFuncs = template.FuncMap{
	"categoryLabel": func(v string) string { return labelOf(categories, v) },
	"roomLabel":     func(v string) string { return labelOf(rooms, v) },
	"stages":        func() []Stage { return Stages },
	"stageKey":      func(s Stage) string { return strings.ToLower(s.String()) },
	"tr":            translate,
	"date":          formatDate,
}

// pages holds one parsed template set per page.
type pages map[string]*template.Template

func parsePages() (pages, error) {
	names := []string{"home", "repairs", "repair_new", "load", "gallery", "documents", "document", "live", "message"}
	ps := make(pages, len(names))
	for _, n := range names {
		t, err := template.New(n).Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", "templates/"+n+".html")
		if err != nil {
			return nil, fmt.Errorf("portal: parse page %s: %w", n, err)
		}
		ps[n] = t
	}
	return ps, nil
}

// pageData is what every page template sees.
type pageData struct {
	Lang    string // the page's language, from Accept-Language
	Title   string
	Nav     string
	Static  string
	Citizen *Citizen
	CSRF    string
	Data    any
}

// securityHeaders are those of a portal that does not want to be framed or to load
// anything but its own and its static origin's resources. A kiosk proxy that shows the
// portal inside its UI has to rewrite frame-ancestors and X-Frame-Options.
func (s *Server) securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", fmt.Sprintf(
		"default-src 'self'; img-src 'self' %[1]s; style-src 'self' %[1]s; script-src 'self' %[1]s; "+
			"connect-src 'self'; form-action 'self' %[2]s; frame-ancestors 'none'; base-uri 'none'",
		s.urls.Static, s.urls.SSO))
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, d pageData) {
	d.Static = s.urls.Static
	d.Lang = pageLanguage(r)
	d.Title = translate(d.Lang, d.Title)
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, "layout", d); err != nil {
		s.log.Error("render page", "page", page, "err", err)
		http.Error(w, "The page could not be shown. Try again.", http.StatusInternalServerError)
		return
	}
	s.securityHeaders(w.Header())
	w.Header().Set("Vary", "Accept-Language")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

type messageData struct{ Advice, Code string }

// renderError shows a plain page with a title and what to do; code, when set, also goes in
// the RefusalHeader so that programs can tell the cases apart.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, title, advice, code string) {
	if code != "" {
		w.Header().Set(RefusalHeader, code)
	}
	s.render(w, r, status, "message", pageData{Title: title, Data: messageData{Advice: advice, Code: code}})
}

// renderRefusal answers a request whose client certificate is not accepted: 403 and a page
// a citizen understands, plus the RefusalHeader for the kiosk.
func (s *Server) renderRefusal(w http.ResponseWriter, r *http.Request, ref *Refusal) {
	s.log.Warn("client certificate refused", "refusal", ref.Code, "path", r.URL.Path, "err", ref)
	s.renderError(w, r, http.StatusForbidden, ref.Title, ref.Advice, string(ref.Code))
}

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request, se *session) {
	rs := s.repairs.list(se.citizen.Number)
	open := 0
	for _, rp := range rs {
		if rp.Stage != StageDone {
			open++
		}
	}
	s.render(w, r, http.StatusOK, "home", pageData{Title: "Home", Nav: "home", Citizen: &se.citizen, CSRF: se.csrf,
		Data: struct {
			Repairs []Repair
			Open    int
		}{rs, open}})
}

func (s *Server) handleRepairs(w http.ResponseWriter, r *http.Request, se *session) {
	reported := r.URL.Query().Get("reported")
	rs := s.repairs.list(se.citizen.Number)
	known := false
	for _, rp := range rs {
		known = known || rp.Ref == reported
	}
	if !known {
		reported = ""
	}
	s.render(w, r, http.StatusOK, "repairs", pageData{Title: "My repairs", Nav: "repairs", Citizen: &se.citizen, CSRF: se.csrf,
		Data: struct {
			Repairs  []Repair
			Reported string
		}{rs, reported}})
}

type repairFormData struct {
	Errors     []fieldError
	ErrorFor   map[string]string
	Values     repairForm
	Categories []choice
	Rooms      []choice
}

func (s *Server) renderRepairForm(w http.ResponseWriter, r *http.Request, status int, se *session, d repairFormData) {
	d.Categories, d.Rooms = categories, rooms
	d.ErrorFor = make(map[string]string, len(d.Errors))
	for _, e := range d.Errors {
		if _, dup := d.ErrorFor[e.Field]; !dup {
			d.ErrorFor[e.Field] = e.Message
		}
	}
	title := "Report a repair"
	if len(d.Errors) > 0 {
		title = "Error: " + title
	}
	s.render(w, r, status, "repair_new", pageData{Title: title, Nav: "new", Citizen: &se.citizen, CSRF: se.csrf, Data: d})
}

func (s *Server) handleRepairForm(w http.ResponseWriter, r *http.Request, se *session) {
	s.renderRepairForm(w, r, http.StatusOK, se, repairFormData{})
}

func (s *Server) handleRepairPost(w http.ResponseWriter, r *http.Request, se *session) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusRequestEntityTooLarge, "The form could not be read",
			"The form was too large or malformed. Go back, shorten the description and try again.", "")
		return
	}
	if !se.validCSRF(r.PostForm.Get(fieldCSRF)) || len(r.PostForm[fieldCSRF]) != 1 {
		s.log.Warn("repair form without a valid CSRF token", "cn", se.citizen.Name)
		s.renderError(w, r, http.StatusForbidden, "This form has expired",
			"For your safety the form could not be accepted. Open “Report a repair” again and resend it.", "csrf")
		return
	}
	f, errs := parseRepairForm(r.PostForm)
	if errs != nil {
		// Show back what was typed so nothing is lost.
		vals := repairForm{Category: r.PostForm.Get(fieldCategory), Room: r.PostForm.Get(fieldRoom),
			Description: r.PostForm.Get(fieldDescription), Phone: r.PostForm.Get(fieldPhone),
			Urgent: r.PostForm.Get(fieldUrgent) == "yes"}
		s.renderRepairForm(w, r, http.StatusUnprocessableEntity, se, repairFormData{Errors: errs, Values: vals})
		return
	}
	rp, err := s.repairs.add(se.citizen.Number, f)
	if err != nil {
		s.renderRepairForm(w, r, http.StatusUnprocessableEntity, se, repairFormData{
			Errors: []fieldError{{fieldDescription, err.Error()}}, Values: f})
		return
	}
	s.log.Info("repair reported", "cn", se.citizen.Name, "ref", rp.Ref)
	http.Redirect(w, r, "/repairs?reported="+rp.Ref, http.StatusSeeOther)
}

func (s *Server) handleGallery(w http.ResponseWriter, r *http.Request, se *session) {
	s.render(w, r, http.StatusOK, "gallery", pageData{Title: "Estate gallery", Nav: "gallery", Citizen: &se.citizen, CSRF: se.csrf,
		Data: struct{ Pages []int }{[]int{1, 2, 3, 4, 5}}})
}

func (s *Server) handleLoad(w http.ResponseWriter, r *http.Request, se *session) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 || n > MaxLoadPage {
		s.renderError(w, r, http.StatusNotFound, "Page not found",
			fmt.Sprintf("Gallery pages are numbered 1 to %d.", MaxLoadPage), "")
		return
	}
	s.render(w, r, http.StatusOK, "load", pageData{Title: fmt.Sprintf("Gallery page %d", n), Nav: "gallery",
		Citizen: &se.citizen, CSRF: se.csrf, Data: struct {
			N, Prev, Next int
			Images        []loadImage
		}{n, n - 1, n%MaxLoadPage + 1, s.loadImages(n)}})
}

type document struct {
	ID, Title, Body string
	Date            time.Time
}

func (s *Server) documents(c *Citizen) []document {
	base := s.opts.Now().UTC().Truncate(24 * time.Hour)
	return []document{
		{"tenancy", "Your tenancy agreement", "This letter confirms your tenancy at the address we hold for citizen number " + c.Number + ".", base.Add(-400 * 24 * time.Hour)},
		{"rent-2026", "Rent for 2026", "Your weekly rent from April is unchanged. Thank you for paying on time.", base.Add(-200 * 24 * time.Hour)},
		{"gas-check", "Annual gas safety check", "Our engineer will visit to check your gas appliances. Please make sure someone is at home.", base.Add(-30 * 24 * time.Hour)},
	}
}

func (s *Server) handleDocuments(w http.ResponseWriter, r *http.Request, se *session) {
	s.render(w, r, http.StatusOK, "documents", pageData{Title: "Documents", Nav: "documents", Citizen: &se.citizen, CSRF: se.csrf,
		Data: struct{ Documents []document }{s.documents(&se.citizen)}})
}

func (s *Server) handleDocument(w http.ResponseWriter, r *http.Request, se *session) {
	for _, d := range s.documents(&se.citizen) {
		if d.ID == r.PathValue("id") {
			s.render(w, r, http.StatusOK, "document", pageData{Title: d.Title, Nav: "documents", Citizen: &se.citizen, CSRF: se.csrf, Data: d})
			return
		}
	}
	s.renderError(w, r, http.StatusNotFound, "Document not found", "Go back to your documents.", "")
}

// handleDocumentDownload sends the letter as a plain-text attachment, as portals offer their
// documents for saving; the kiosk shows it in the frame instead (docs/portal-integration.md).
func (s *Server) handleDocumentDownload(w http.ResponseWriter, r *http.Request, se *session) {
	for _, d := range s.documents(&se.citizen) {
		if d.ID == r.PathValue("id") {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="letter-`+d.ID+`.txt"`)
			w.Header().Set("Cache-Control", "no-store")
			fmt.Fprintf(w, "%s\n%s\n\nDear %s,\n\n%s\n\nYours sincerely,\nHousing Services, Riverside Council\n",
				d.Title, d.Date.Format("2 January 2006"), se.citizen.Name, d.Body)
			return
		}
	}
	s.renderError(w, r, http.StatusNotFound, "Document not found", "Go back to your documents.", "")
}

func (s *Server) handleLive(w http.ResponseWriter, r *http.Request, se *session) {
	s.render(w, r, http.StatusOK, "live", pageData{Title: "Live updates", Nav: "live", Citizen: &se.citizen, CSRF: se.csrf})
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, se *session) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil || !se.validCSRF(r.PostForm.Get(fieldCSRF)) {
		s.renderError(w, r, http.StatusForbidden, "This form has expired", "Go to the home page and try again.", "csrf")
		return
	}
	s.sessions.remove(se)
	setSessionCookie(w, "", -1)
	s.renderError(w, r, http.StatusOK, "You have signed out", "Take your card with you.", "")
}
