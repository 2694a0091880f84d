package portal

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The repair form's fields and their limits.
const (
	fieldCategory    = "category"
	fieldRoom        = "room"
	fieldDescription = "description"
	fieldPhone       = "phone"
	fieldUrgent      = "urgent"
	fieldCSRF        = "csrf"

	minDescription = 10
	maxDescription = 1000
	maxFormBytes   = 16 << 10
)

type choice struct{ Value, Label string }

var categories = []choice{
	{"plumbing", "Plumbing (taps, toilets, leaks)"},
	{"heating", "Heating and hot water"},
	{"electrical", "Electrics and lighting"},
	{"windows-doors", "Windows, doors and locks"},
	{"damp-mould", "Damp and mould"},
	{"other", "Something else"},
}

var rooms = []choice{
	{"kitchen", "Kitchen"},
	{"bathroom", "Bathroom"},
	{"bedroom", "Bedroom"},
	{"living-room", "Living room"},
	{"hallway", "Hallway or stairs"},
	{"outside", "Outside the home"},
}

func labelOf(cs []choice, v string) string {
	for _, c := range cs {
		if c.Value == v {
			return c.Label
		}
	}
	return v
}

// repairForm is a validated repair report.
type repairForm struct {
	Category, Room, Description, Phone string
	Urgent                             bool
}

// fieldError is one validation message, tied to the field it is about.
type fieldError struct{ Field, Message string }

// parseRepairForm validates a posted repair form. It never fails on hostile input: every
// problem becomes a message a person can act on, in the order of the form's fields.
func parseRepairForm(v url.Values) (repairForm, []fieldError) {
	var f repairForm
	var errs []fieldError
	one := func(name string) (string, bool) {
		vals := v[name]
		switch len(vals) {
		case 0:
			return "", true
		case 1:
			return vals[0], true
		}
		errs = append(errs, fieldError{name, "Send this field once."})
		return "", false
	}

	if c, ok := one(fieldCategory); ok {
		switch {
		case c == "":
			errs = append(errs, fieldError{fieldCategory, "Choose what kind of repair is needed."})
		case !isChoice(categories, c):
			errs = append(errs, fieldError{fieldCategory, "Choose one of the listed kinds of repair."})
		default:
			f.Category = c
		}
	}
	if r, ok := one(fieldRoom); ok {
		switch {
		case r == "":
			errs = append(errs, fieldError{fieldRoom, "Choose where the problem is."})
		case !isChoice(rooms, r):
			errs = append(errs, fieldError{fieldRoom, "Choose one of the listed places."})
		default:
			f.Room = r
		}
	}
	if d, ok := one(fieldDescription); ok {
		d = strings.TrimSpace(strings.ReplaceAll(d, "\r\n", "\n"))
		n := utf8.RuneCountInString(d)
		switch {
		case !utf8.ValidString(d):
			errs = append(errs, fieldError{fieldDescription, "The description contains characters that cannot be read. Type it again."})
		case n == 0:
			errs = append(errs, fieldError{fieldDescription, "Describe the problem."})
		case n < minDescription:
			errs = append(errs, fieldError{fieldDescription, "Describe the problem in at least 10 characters."})
		case n > maxDescription:
			errs = append(errs, fieldError{fieldDescription, "Keep the description to 1000 characters or fewer."})
		case strings.IndexFunc(d, isControl) >= 0:
			errs = append(errs, fieldError{fieldDescription, "The description contains control characters. Use letters, numbers and punctuation."})
		default:
			f.Description = d
		}
	}
	if p, ok := one(fieldPhone); ok {
		p = strings.TrimSpace(p)
		if p != "" && !validPhone(p) {
			errs = append(errs, fieldError{fieldPhone, "Enter a phone number using digits, spaces and an optional + at the start, like 020 7946 0000."})
		} else {
			f.Phone = p
		}
	}
	if u, ok := one(fieldUrgent); ok {
		switch u {
		case "":
		case "yes":
			f.Urgent = true
		default:
			errs = append(errs, fieldError{fieldUrgent, "Tick the box or leave it empty."})
		}
	}
	if len(errs) > 0 {
		return repairForm{}, errs
	}
	return f, nil
}

func isChoice(cs []choice, v string) bool {
	for _, c := range cs {
		if c.Value == v {
			return true
		}
	}
	return false
}

func isControl(r rune) bool {
	return r != '\n' && r != '\t' && (unicode.IsControl(r) || r == '\u2028' || r == '\u2029')
}

// validPhone accepts 7–15 digits, optional spaces between them and one leading "+".
func validPhone(p string) bool {
	if len(p) > 24 {
		return false
	}
	digits := 0
	for i, r := range p {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == ' ':
		case r == '+' && i == 0:
		default:
			return false
		}
	}
	return digits >= 7 && digits <= 15
}
