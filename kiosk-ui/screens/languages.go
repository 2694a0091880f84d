package screens

import (
	"encoding/json"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Languages returns the language codes that have a message catalog, sorted: one per file
// assets/i18n/<code>.json, for example ["el", "en"].
func Languages() []string {
	entries, err := fs.ReadDir(assets, "assets/i18n")
	if err != nil {
		return nil
	}
	var langs []string
	for _, e := range entries {
		name := e.Name()
		code, ok := strings.CutSuffix(name, ".json")
		if e.IsDir() || !ok || path.Base(languagesPath) == name || !validLanguageCode(code) {
			continue
		}
		langs = append(langs, code)
	}
	slices.Sort(langs)
	return langs
}

// validLanguageCode accepts BCP 47 primary tags and simple tags such as "pt-BR".
func validLanguageCode(code string) bool {
	if len(code) < 2 || len(code) > 10 {
		return false
	}
	for _, c := range code {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}

// languagesJSON is what the page fetches to learn which catalogs to offer: those of
// configured (in its order) that have a catalog, or every catalog when configured is empty,
// and def as the default when it is one of them (else the first).
func languagesJSON(configured []string, def string) []byte {
	have := Languages()
	offer := have
	if len(configured) > 0 {
		offer = nil
		for _, l := range configured {
			if slices.Contains(have, l) && !slices.Contains(offer, l) {
				offer = append(offer, l)
			}
		}
	}
	if !slices.Contains(offer, def) && len(offer) > 0 {
		def = offer[0]
	}
	b, err := json.Marshal(struct {
		Languages []string `json:"languages"`
		Default   string   `json:"default"`
	}{offer, def})
	if err != nil {
		panic("screens: " + err.Error())
	}
	return b
}
