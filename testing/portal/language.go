package portal

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The demo portal speaks English and Greek, chosen by the request's Accept-Language (which
// the kiosk sets to the citizen's language), as docs/portal-integration.md asks a portal to.
const defaultLanguage = "en"

var pageLanguages = map[string]bool{"en": true, "el": true}

// pageLanguage is the language of the highest-weighted Accept-Language entry the portal
// speaks, English when none.
func pageLanguage(r *http.Request) string {
	best, bestQ := defaultLanguage, 0.0
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if pageLanguages[primary] && q > bestQ {
			best, bestQ = primary, q
		}
	}
	return best
}

// greek translates the portal's English texts (format strings for translate).
var greek = map[string]string{
	"Skip to main content": "Μετάβαση στο κύριο περιεχόμενο",
	"Riverside Council":    "Δήμος Ρίβερσαϊντ",
	"Signed in as":         "Συνδεδεμένος/η ως",
	"Sign out":             "Αποσύνδεση",
	"Main":                 "Κύριο μενού",
	"Home":                 "Αρχική",
	"My repairs":           "Οι επισκευές μου",
	"Report a repair":      "Αναφορά βλάβης",
	"Documents":            "Έγγραφα",
	"Estate gallery":       "Φωτογραφίες συγκροτήματος",
	"Live updates":         "Ενημερώσεις σε πραγματικό χρόνο",
	"Riverside Council housing repairs – demonstration portal. No real data.": "Επισκευές κατοικιών του Δήμου Ρίβερσαϊντ – πύλη επίδειξης. Κανένα πραγματικό στοιχείο.",
	"Welcome, %s":                          "Καλώς ήρθατε, %s",
	"Citizen number":                       "Αριθμός δημότη",
	"Your repairs":                         "Οι επισκευές σας",
	"Repair requests: %d, still open: %d.": "Αιτήματα επισκευής: %d, ανοιχτά ακόμη: %d.",
	"See my repairs":                       "Δείτε τις επισκευές μου",
	"Repair reported":                      "Η βλάβη καταγράφηκε",
	"Your reference is":                    "Ο αριθμός αναφοράς σας είναι",
	"We will inspect it soon.":             "Θα την ελέγξουμε σύντομα.",
	"Urgent":                               "Επείγον",
	"Reference":                            "Αναφορά",
	"reported":                             "καταγράφηκε",
	"Progress":                             "Πρόοδος",
	"You have no repair requests.":         "Δεν έχετε αιτήματα επισκευής.",
	"Letters and documents for %s":         "Επιστολές και έγγραφα για %s",
	"Document":                             "Έγγραφο",
	"Date":                                 "Ημερομηνία",
	"Page not found":                       "Η σελίδα δεν βρέθηκε",
	"Reported":                             "Καταγράφηκε",
	"Inspected":                            "Έγινε αυτοψία",
	"Scheduled":                            "Προγραμματίστηκε",
	"Done":                                 "Ολοκληρώθηκε",
	"Progress of %s":                       "Πρόοδος του %s",
	"Plumbing (taps, toilets, leaks)":      "Υδραυλικά (βρύσες, τουαλέτες, διαρροές)",
	"Heating and hot water":                "Θέρμανση και ζεστό νερό",
	"Electrics and lighting":               "Ηλεκτρολογικά και φωτισμός",
	"Windows, doors and locks":             "Παράθυρα, πόρτες και κλειδαριές",
	"Damp and mould":                       "Υγρασία και μούχλα",
	"Something else":                       "Κάτι άλλο",
	"Kitchen":                              "Κουζίνα",
	"Bathroom":                             "Μπάνιο",
	"Bedroom":                              "Υπνοδωμάτιο",
	"Living room":                          "Σαλόνι",
	"Hallway or stairs":                    "Διάδρομος ή σκάλες",
	"Outside the home":                     "Έξω από το σπίτι",
}

// translate renders the English format string in lang, with args.
func translate(lang, format string, args ...any) string {
	if lang == "el" {
		if g, ok := greek[format]; ok {
			format = g
		}
	}
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

var greekMonths = [...]string{"Ιανουαρίου", "Φεβρουαρίου", "Μαρτίου", "Απριλίου", "Μαΐου", "Ιουνίου",
	"Ιουλίου", "Αυγούστου", "Σεπτεμβρίου", "Οκτωβρίου", "Νοεμβρίου", "Δεκεμβρίου"}

// formatDate writes a day as the language does: "2 January 2006", "2 Ιανουαρίου 2006".
func formatDate(lang string, t time.Time) string {
	if lang == "el" {
		return fmt.Sprintf("%d %s %d", t.Day(), greekMonths[t.Month()-1], t.Year())
	}
	return t.Format("2 January 2006")
}
