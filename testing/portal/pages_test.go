package portal

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestHomeGreetsCitizenByName(t *testing.T) {
	w := newWorld(t, nil)
	b := w.browser(t, card(t, w.pki, "Jane Citizen", "C-1001"))
	status, h, body := b.get(t, w.urls.Home())
	if status != http.StatusOK {
		t.Fatalf("status %d, want 200:\n%s", status, body)
	}
	for _, want := range []string{"Welcome, Jane Citizen", "C-1001", `<html lang="en">`, `<main id="main"`} {
		if !strings.Contains(body, want) {
			t.Errorf("home page lacks %q", want)
		}
	}
	if got := h.Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", got)
	}
	for k, want := range map[string]string{"X-Frame-Options": "DENY", "Cache-Control": "no-store"} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, w.urls.Static) {
		t.Errorf("Content-Security-Policy %q", csp)
	}
}

func TestSSOBounce(t *testing.T) {
	w := newWorld(t, nil)
	b := w.browser(t, card(t, w.pki, "Jane Citizen", "C-1001"))
	status, _, _ := b.get(t, w.urls.Portal+"/repairs?sort=new")
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	// portal → sso/login → portal/sso/callback → the page first asked for.
	if len(b.hops) != 3 {
		t.Fatalf("redirects %q, want 3", b.hops)
	}
	if !strings.HasPrefix(b.hops[0], w.urls.SSO+"/login?service=") {
		t.Errorf("first redirect %q does not go to the SSO origin", b.hops[0])
	}
	if !strings.HasPrefix(b.hops[1], w.urls.Portal+"/sso/callback?") || !strings.Contains(b.hops[1], "ticket=ST-") {
		t.Errorf("second redirect %q is not the portal callback with a ticket", b.hops[1])
	}
	if b.hops[2] != w.urls.Portal+"/repairs?sort=new" {
		t.Errorf("last redirect %q, want back to the page", b.hops[2])
	}

	// Signed in: no more bounces.
	b.hops = nil
	b.get(t, w.urls.Home())
	if len(b.hops) != 0 {
		t.Errorf("signed-in visit redirected: %q", b.hops)
	}

	// A ticket works once.
	status, h, body := b.get(t, b.hopsOr(t, w)[1])
	if status != http.StatusForbidden || h.Get(RefusalHeader) != "sso-ticket" || !strings.Contains(body, "Your sign-in has expired") {
		t.Errorf("replayed ticket: status %d, refusal %q", status, h.Get(RefusalHeader))
	}

	// The callback is no open redirect.
	status, _, _ = b.get(t, w.urls.Portal+"/sso/callback?return="+url.QueryEscape("//evil.example/")+"&ticket=x")
	if status != http.StatusBadRequest {
		t.Errorf("foreign return: status %d, want 400", status)
	}
	// The SSO only signs in to this portal.
	status, _, _ = b.get(t, w.urls.SSO+"/login?service="+url.QueryEscape("https://evil.example/sso/callback?return=/"))
	if status != http.StatusBadRequest {
		t.Errorf("foreign service: status %d, want 400", status)
	}
}

// hopsOr signs a fresh browser in and returns its redirect chain (for the replay check).
func (b *browser) hopsOr(t *testing.T, w *world) []string {
	fresh := w.browser(t, card(t, w.pki, "Jane Citizen", "C-1001"))
	fresh.get(t, w.urls.Home())
	if len(fresh.hops) != 3 {
		t.Fatalf("fresh sign-in redirects %q", fresh.hops)
	}
	return fresh.hops
}

func TestSessionBoundToCard(t *testing.T) {
	w := newWorld(t, nil)
	jane := w.browser(t, card(t, w.pki, "Jane Citizen", "C-1001"))
	jane.get(t, w.urls.Home())
	// Nikos's browser with Jane's cookies (the same jar) must not be Jane.
	nikos := w.browser(t, card(t, w.pki, "Nikos Papadopoulos", "C-2002"))
	nikos.Jar = jane.Jar
	_, _, body := nikos.get(t, w.urls.Home())
	if !strings.Contains(body, "Welcome, Nikos Papadopoulos") {
		t.Fatalf("Nikos with Jane's cookie was not greeted as Nikos")
	}
	if len(nikos.hops) == 0 {
		t.Errorf("Jane's session cookie let Nikos in without signing in")
	}
}

func TestCitizensSeeOnlyTheirOwnRepairs(t *testing.T) {
	w := newWorld(t, nil)
	jane := w.browser(t, card(t, w.pki, "Jane Citizen", "C-1001"))
	nikos := w.browser(t, card(t, w.pki, "Nikos Papadopoulos", "C-2002"))
	_, _, jp := jane.get(t, w.urls.Portal+"/repairs")
	_, _, np := nikos.get(t, w.urls.Portal+"/repairs")
	jr, nr := refsOf(jp), refsOf(np)
	if len(jr) < 2 || len(nr) < 2 {
		t.Fatalf("repairs: Jane %v, Nikos %v; want at least 2 each", jr, nr)
	}
	for _, r := range jr {
		if !strings.HasPrefix(r, "HR-C1001-") || strings.Contains(np, r) {
			t.Errorf("Jane's repair %s: wrong prefix or shown to Nikos", r)
		}
	}
	for _, r := range nr {
		if !strings.HasPrefix(r, "HR-C2002-") || strings.Contains(jp, r) {
			t.Errorf("Nikos's repair %s: wrong prefix or shown to Jane", r)
		}
	}
	for _, stage := range []string{"Reported", "Inspected", "Scheduled", "Done"} {
		if !strings.Contains(jp, stage) {
			t.Errorf("progress stage %s not shown", stage)
		}
	}
	if !strings.Contains(jp, `aria-current="step"`) {
		t.Errorf("current stage not marked")
	}
	// The same citizen sees the same history on a second visit (and in a second portal).
	w2 := newWorld(t, nil)
	again := w2.browser(t, card(t, w2.pki, "Jane Citizen", "C-1001"))
	_, _, jp2 := again.get(t, w2.urls.Portal+"/repairs")
	if !slices.Equal(refsOf(jp2), jr) {
		t.Errorf("Jane's repairs differ between portals: %v vs %v", refsOf(jp2), jr)
	}
}

func TestFixedRepairs(t *testing.T) {
	w := newWorld(t, func(o *Options) {
		o.Repairs = map[string][]Repair{"C-1001": {{Ref: "HR-FIXED-1", Category: "heating", Room: "kitchen",
			Description: "Boiler is broken", Stage: StageScheduled}}}
	})
	b := w.browser(t, card(t, w.pki, "Jane Citizen", "C-1001"))
	_, _, body := b.get(t, w.urls.Portal+"/repairs")
	if got := refsOf(body); !slices.Equal(got, []string{"HR-FIXED-1"}) {
		t.Errorf("repairs %v, want the fixed one", got)
	}
}

func TestReportRepair(t *testing.T) {
	w := newWorld(t, nil)
	jane := w.browser(t, card(t, w.pki, "Jane Citizen", "C-1001"))
	_, _, before := jane.get(t, w.urls.Portal+"/repairs")
	_, _, form := jane.get(t, w.urls.Portal+"/repairs/new")
	token := csrfOf(t, form)

	// Invalid: clear messages, 422, what was typed kept.
	status, _, body := jane.post(t, w.urls.Portal+"/repairs/new", url.Values{
		"csrf": {token}, "category": {""}, "room": {"attic"}, "description": {"short"}, "phone": {"call me"}})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("invalid form: status %d, want 422", status)
	}
	for _, want := range []string{"There is a problem", "Choose what kind of repair is needed.",
		"Choose one of the listed places.", "at least 10 characters", "Enter a phone number",
		`aria-invalid="true"`, ">short</textarea>", `href="#description"`} {
		if !strings.Contains(body, want) {
			t.Errorf("invalid form page lacks %q", want)
		}
	}

	desc := "Water is dripping through the bathroom ceiling <b>fast</b>."
	status, _, body = jane.post(t, w.urls.Portal+"/repairs/new", url.Values{
		"csrf": {token}, "category": {"plumbing"}, "room": {"bathroom"}, "description": {desc},
		"phone": {"+44 20 7946 0000"}, "urgent": {"yes"}})
	if status != http.StatusOK {
		t.Fatalf("report: status %d:\n%s", status, body)
	}
	if !strings.Contains(body, "Repair reported") || !strings.Contains(body, "&lt;b&gt;fast&lt;/b&gt;") {
		t.Errorf("after reporting, the list does not confirm it or shows the description unescaped")
	}
	newRefs := refsOf(body)
	if len(newRefs) != len(refsOf(before))+1 {
		t.Fatalf("repairs %v after reporting, before %v", newRefs, refsOf(before))
	}
	ref := newRefs[0]
	if !strings.Contains(body, `id="`+ref+`"`) || !strings.Contains(body, "Urgent") {
		t.Errorf("new repair %s not listed first as urgent", ref)
	}
	// Still there later; not visible to anyone else.
	_, _, again := jane.get(t, w.urls.Portal+"/repairs")
	if !strings.Contains(again, ref) {
		t.Errorf("repair %s gone on the next visit", ref)
	}
	nikos := w.browser(t, card(t, w.pki, "Nikos Papadopoulos", "C-2002"))
	_, _, np := nikos.get(t, w.urls.Portal+"/repairs")
	if strings.Contains(np, desc[:20]) {
		t.Errorf("Nikos sees Jane's new repair")
	}
}

func TestCSRFRejected(t *testing.T) {
	w := newWorld(t, nil)
	jane := w.browser(t, card(t, w.pki, "Jane Citizen", "C-1001"))
	nikos := w.browser(t, card(t, w.pki, "Nikos Papadopoulos", "C-2002"))
	_, _, nform := nikos.get(t, w.urls.Portal+"/repairs/new")
	_, _, before := jane.get(t, w.urls.Portal+"/repairs")
	good := url.Values{"category": {"plumbing"}, "room": {"kitchen"}, "description": {"The kitchen tap is leaking badly."}}
	for name, token := range map[string][]string{
		"none":          nil,
		"empty":         {""},
		"wrong":         {"AAAA"},
		"other session": {csrfOf(t, nform)},
		"sent twice":    {csrfOf(t, nform), csrfOf(t, nform)},
	} {
		t.Run(name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range good {
				f[k] = v
			}
			if token != nil {
				f["csrf"] = token
			}
			status, h, body := jane.post(t, w.urls.Portal+"/repairs/new", f)
			if status != http.StatusForbidden || h.Get(RefusalHeader) != "csrf" || !strings.Contains(body, "This form has expired") {
				t.Errorf("status %d, refusal %q", status, h.Get(RefusalHeader))
			}
		})
	}
	_, _, after := jane.get(t, w.urls.Portal+"/repairs")
	if len(refsOf(after)) != len(refsOf(before)) {
		t.Errorf("a rejected form added a repair")
	}
}

func TestLogout(t *testing.T) {
	w := newWorld(t, nil)
	b := w.browser(t, card(t, w.pki, "Jane Citizen", "C-1001"))
	_, _, home := b.get(t, w.urls.Home())
	status, _, body := b.post(t, w.urls.Portal+"/logout", url.Values{"csrf": {csrfOf(t, home)}})
	if status != http.StatusOK || !strings.Contains(body, "You have signed out") {
		t.Fatalf("logout: status %d", status)
	}
	b.hops = nil
	b.get(t, w.urls.Home())
	if len(b.hops) != 3 {
		t.Errorf("after logout the home page did not bounce through the SSO: %q", b.hops)
	}
}

func TestDocumentsAndGallery(t *testing.T) {
	w := newWorld(t, nil)
	b := w.browser(t, card(t, w.pki, "Jane Citizen", "C-1001"))
	for path, want := range map[string]string{
		"/documents":         "Your tenancy agreement",
		"/documents/tenancy": "Dear Jane Citizen",
		"/gallery":           `href="/load/5"`,
		"/live":              `id="chat"`,
	} {
		status, _, body := b.get(t, w.urls.Portal+path)
		if status != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("%s: status %d, lacks %q", path, status, want)
		}
	}
	status, h, body := b.get(t, w.urls.Portal+"/documents/tenancy/download")
	if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Disposition"), "attachment;") ||
		!strings.HasPrefix(h.Get("Content-Type"), "text/plain") || !strings.Contains(body, "Dear Jane Citizen") {
		t.Errorf("the letter's download: status %d, %q, %q, %.80q", status, h.Get("Content-Disposition"), h.Get("Content-Type"), body)
	}
	for _, path := range []string{"/documents/nope", "/documents/nope/download", "/load/0", "/load/101", "/load/x", "/nope"} {
		if status, _, _ := b.get(t, w.urls.Portal+path); status != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, status)
		}
	}
}

// The portal speaks the citizen's language when the request asks for it (the kiosk's proxy
// sends Accept-Language), English otherwise, and says that its pages vary with it.
func TestPagesInTheCitizensLanguage(t *testing.T) {
	w := newWorld(t, nil)
	b := w.browser(t, card(t, w.pki, "Jane Citizen", "C-1001"))
	b.get(t, w.urls.Home()) // sign in through the SSO
	for _, c := range []struct{ accept, lang, welcome, nav string }{
		{"el", "el", "Καλώς ήρθατε, Jane Citizen", "Οι επισκευές μου"},
		{"el-GR,el;q=0.9,en;q=0.5", "el", "Καλώς ήρθατε, Jane Citizen", "Αποσύνδεση"},
		{"el;q=0.4, en", "en", "Welcome, Jane Citizen", "My repairs"},
		{"fr", "en", "Welcome, Jane Citizen", "Sign out"},
		{"", "en", "Welcome, Jane Citizen", "Report a repair"},
	} {
		req, _ := http.NewRequest(http.MethodGet, w.urls.Home(), nil)
		if c.accept != "" {
			req.Header.Set("Accept-Language", c.accept)
		}
		res, err := b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		page := string(body)
		if !strings.Contains(page, `<html lang="`+c.lang+`">`) || !strings.Contains(page, c.welcome) || !strings.Contains(page, c.nav) {
			t.Errorf("Accept-Language %q: want a %s page with %q and %q; got %.300s", c.accept, c.lang, c.welcome, c.nav, page)
		}
		if res.Header.Get("Vary") != "Accept-Language" {
			t.Errorf("Accept-Language %q: Vary %q", c.accept, res.Header.Get("Vary"))
		}
	}
	req, _ := http.NewRequest(http.MethodGet, w.urls.Portal+"/repairs", nil)
	req.Header.Set("Accept-Language", "el")
	res, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), "Πρόοδος") || strings.Contains(string(body), "Progress:") {
		t.Errorf("the repairs page in Greek: %.400s", body)
	}
}
