package screens

import (
	"encoding/json"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The phases, error codes and goodbye reasons of docs/ui-protocol.md (version 1).
var (
	protocolPhases = []string{"starting", "idle", "reading", "pin", "verifying", "connecting",
		"session", "ending", "goodbye", "error", "out_of_order"}
	protocolErrorCodes = []string{"card_unreadable", "card_unsupported", "card_expired",
		"pin_blocked", "portal_unavailable", "portal_untrusted", "client_cert_refused",
		"reader_missing", "out_of_order"}
	protocolGoodbyeReasons = []string{"card_removed", "idle_timeout", "ended", "max_length",
		"shutdown", "cancelled"}
)

// phaseKeys are the strings each phase's screen shows.
var phaseKeys = map[string][]string{
	"starting":     {"starting.title", "starting.body"},
	"idle":         {"idle.title", "idle.body", "idle.step1", "idle.step2", "idle.step3", "idle.picture"},
	"reading":      {"reading.title", "reading.body"},
	"pin":          {"pin.title", "pin.body", "pin.hint", "pin.triesLeft", "pin.wrong", "pin.ok", "pin.cancel", "pin.delete"},
	"verifying":    {"verifying.title", "verifying.body"},
	"connecting":   {"connecting.title", "connecting.body"},
	"session":      {"session.title", "session.timeLeft", "session.end", "session.portal", "warning.title", "warning.body", "warning.stay"},
	"ending":       {"ending.title", "ending.body"},
	"goodbye":      {"goodbye.title", "goodbye.body"},
	"error":        {"error.unknown.title", "error.unknown.body", "error.finish"},
	"out_of_order": {"error.out_of_order.title", "error.out_of_order.body"},
}

// pluralCategories are the CLDR plural categories Intl.PluralRules can return.
var pluralCategories = []string{"zero", "one", "two", "few", "many", "other"}

// A catalog value is a string or an object of plural forms.
type message struct {
	text  string
	forms map[string]string
}

func (m *message) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &m.text); err == nil {
		return nil
	}
	return json.Unmarshal(b, &m.forms)
}

func (m message) all() []string {
	if m.forms == nil {
		return []string{m.text}
	}
	var out []string
	for _, v := range m.forms {
		out = append(out, v)
	}
	return out
}

func loadCatalogs(t *testing.T) map[string]map[string]message {
	t.Helper()
	cats := map[string]map[string]message{}
	for _, lang := range Languages() {
		b, err := fs.ReadFile(assets, "assets/i18n/"+lang+".json")
		if err != nil {
			t.Fatal(err)
		}
		var cat map[string]message
		if err := json.Unmarshal(b, &cat); err != nil {
			t.Fatalf("i18n/%s.json: %v", lang, err)
		}
		cats[lang] = cat
	}
	if _, ok := cats["en"]; !ok {
		t.Fatal("no i18n/en.json: English is the fallback catalog")
	}
	return cats
}

var placeholder = regexp.MustCompile(`\{(\w+)\}`)

func placeholders(m message) []string {
	set := map[string]bool{}
	for _, s := range m.all() {
		for _, p := range placeholder.FindAllStringSubmatch(s, -1) {
			set[p[1]] = true
		}
	}
	var out []string
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func TestCatalogsHaveTheSameKeys(t *testing.T) {
	cats := loadCatalogs(t)
	en := cats["en"]
	for lang, cat := range cats {
		for key := range en {
			if _, ok := cat[key]; !ok {
				t.Errorf("i18n/%s.json lacks %q", lang, key)
			}
		}
		for key, m := range cat {
			ref, ok := en[key]
			if !ok {
				t.Errorf("i18n/%s.json has %q, which en.json lacks", lang, key)
				continue
			}
			if (m.forms == nil) != (ref.forms == nil) {
				t.Errorf("i18n/%s.json %q: plural in one catalog, plain in the other", lang, key)
			}
			if m.forms != nil {
				if _, ok := m.forms["other"]; !ok {
					t.Errorf("i18n/%s.json %q: plural forms lack \"other\"", lang, key)
				}
				for cat := range m.forms {
					if !slices.Contains(pluralCategories, cat) {
						t.Errorf("i18n/%s.json %q: %q is not a plural category", lang, key, cat)
					}
				}
			}
			for _, s := range m.all() {
				if strings.TrimSpace(s) == "" {
					t.Errorf("i18n/%s.json %q is empty", lang, key)
				}
			}
			if got, want := placeholders(m), placeholders(ref); !slices.Equal(got, want) {
				t.Errorf("i18n/%s.json %q: placeholders %q, en.json has %q", lang, key, got, want)
			}
		}
	}
}

func TestEveryPhaseAndErrorHasStrings(t *testing.T) {
	cats := loadCatalogs(t)
	var keys []string
	for _, phase := range protocolPhases {
		pk, ok := phaseKeys[phase]
		if !ok {
			t.Errorf("phase %q has no screen strings listed", phase)
		}
		keys = append(keys, pk...)
	}
	for _, code := range protocolErrorCodes {
		keys = append(keys, "error."+code+".title", "error."+code+".body")
	}
	for _, r := range protocolGoodbyeReasons {
		keys = append(keys, "goodbye.reason."+r)
	}
	for lang, cat := range cats {
		for _, k := range keys {
			if _, ok := cat[k]; !ok {
				t.Errorf("i18n/%s.json lacks %q", lang, k)
			}
		}
	}
}

// The page must know every phase, error code and goodbye reason of the protocol.
func TestScriptKnowsTheProtocol(t *testing.T) {
	b, err := fs.ReadFile(assets, "assets/app.js")
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	for _, list := range [][]string{protocolPhases, protocolErrorCodes, protocolGoodbyeReasons} {
		for _, name := range list {
			if !strings.Contains(src, "'"+name+"'") {
				t.Errorf("app.js does not name %q", name)
			}
		}
	}
}

// Every key the page names literally must exist in en.json.
func TestPageKeysExist(t *testing.T) {
	en := loadCatalogs(t)["en"]
	uses := []*regexp.Regexp{
		regexp.MustCompile(`data-i18n(?:-label)?="([^"]+)"`),
		regexp.MustCompile(`\b(?:t|plural)\('([a-zA-Z_.]+)'`),
	}
	for _, file := range []string{"index.html", "app.js", "pin.js"} {
		b, err := fs.ReadFile(assets, "assets/"+file)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, re := range uses {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				n++
				if _, ok := en[m[1]]; !ok {
					t.Errorf("%s uses %q, which en.json lacks", file, m[1])
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: found no message keys; has the pattern changed?", file)
		}
	}
}

// glossary is the one word each language uses for the kiosk, and the words it must not
// use instead: every screen and the proxy's refusal page (agent/proxy/access.go) say the
// same thing.
var glossary = map[string]struct {
	term  string
	avoid []string
}{
	"el": {"τερματικ", []string{"περίπτερ", "Περίπτερ", "κιόσκ", "Κιόσκ"}},
	"pl": {"kiosk", []string{"terminal", "Terminal"}},
}

func TestOneTermForTheKiosk(t *testing.T) {
	cats := loadCatalogs(t)
	proxyPage, err := os.ReadFile("../../agent/proxy/access.go") // English and Greek only
	if err != nil {
		t.Fatal(err)
	}
	for lang, g := range glossary {
		var all []string
		for key, m := range cats[lang] {
			for _, s := range m.all() {
				all = append(all, key+": "+s)
			}
		}
		all = append(all, "agent/proxy/access.go: "+string(proxyPage))
		used := false
		for _, s := range all {
			used = used || strings.Contains(s, g.term)
			for _, bad := range g.avoid {
				if strings.Contains(s, bad) {
					t.Errorf("%s: %q says %q; the %s word for the kiosk is %q…", lang, s[:min(len(s), 60)], bad, lang, g.term)
				}
			}
		}
		if !used {
			t.Errorf("%s: no screen uses %q", lang, g.term)
		}
	}
}
