package portal

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseRepairForm(t *testing.T) {
	for _, tc := range []struct {
		name   string
		form   string
		fields []string // fields with errors, in order
	}{
		{"valid", "category=plumbing&room=kitchen&description=The+tap+drips+all+night", nil},
		{"valid with extras", "category=heating&room=hallway&description=Radiator+is+cold&phone=%2B44+20+7946+0000&urgent=yes", nil},
		{"empty", "", []string{"category", "room", "description"}},
		{"unknown choices", "category=roof&room=attic&description=Tiles+fell+off+the+roof", []string{"category", "room"}},
		{"short", "category=other&room=outside&description=bad", []string{"description"}},
		{"long", "category=other&room=outside&description=" + strings.Repeat("a", 1001), []string{"description"}},
		{"control", "category=other&room=outside&description=Bell+rings%07+all+day", []string{"description"}},
		{"invalid utf8", "category=other&room=outside&description=%ff%fe+broken+text+here", []string{"description"}},
		{"phone letters", "category=other&room=outside&description=Fence+is+down+again&phone=call+me", []string{"phone"}},
		{"phone short", "category=other&room=outside&description=Fence+is+down+again&phone=123", []string{"phone"}},
		{"urgent other", "category=other&room=outside&description=Fence+is+down+again&urgent=maybe", []string{"urgent"}},
		{"twice", "category=other&category=heating&room=outside&description=Fence+is+down+again", []string{"category"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := url.ParseQuery(tc.form)
			if err != nil {
				t.Fatal(err)
			}
			_, errs := parseRepairForm(v)
			var got []string
			for _, e := range errs {
				got = append(got, e.Field)
				if e.Message == "" || !strings.HasSuffix(e.Message, ".") {
					t.Errorf("message %q for %s is not a sentence", e.Message, e.Field)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("errors on %v, want %v (%v)", got, tc.fields, errs)
			}
		})
	}
}

// FuzzRepairForm: whatever is posted, the parser either returns a repair whose every field
// is within bounds, or only messages about the form's own fields.
func FuzzRepairForm(f *testing.F) {
	for _, s := range []string{
		"category=plumbing&room=kitchen&description=The+tap+drips+all+night",
		"category=heating&room=hallway&description=Radiator+is+cold&phone=%2B44+20+7946+0000&urgent=yes",
		"",
		"category=&room=&description=",
		"description=%ff%fe%00%e2%80%a8xxxxxxxxxxxx",
		"category=other&category=other&csrf=x&urgent=yes&urgent=yes",
		"phone=+++++++1234567&description=" + strings.Repeat("%C3%A9", 1000),
	} {
		f.Add(s)
	}
	fields := map[string]bool{fieldCategory: true, fieldRoom: true, fieldDescription: true, fieldPhone: true, fieldUrgent: true}
	f.Fuzz(func(t *testing.T, body string) {
		v, err := url.ParseQuery(body)
		if err != nil {
			return // net/http would refuse the body before the parser sees it
		}
		r, errs := parseRepairForm(v)
		for _, e := range errs {
			if !fields[e.Field] || e.Message == "" {
				t.Fatalf("error %+v is not about a form field", e)
			}
		}
		if errs != nil {
			if r != (repairForm{}) {
				t.Fatalf("errors %v with a non-empty result %+v", errs, r)
			}
			return
		}
		n := utf8.RuneCountInString(r.Description)
		if !isChoice(categories, r.Category) || !isChoice(rooms, r.Room) || n < minDescription || n > maxDescription ||
			!utf8.ValidString(r.Description) || strings.IndexFunc(r.Description, isControl) >= 0 ||
			(r.Phone != "" && !validPhone(r.Phone)) || r.Description != strings.TrimSpace(r.Description) {
			t.Fatalf("accepted an out-of-bounds repair %+v", r)
		}
	})
}
