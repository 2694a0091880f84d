package config

import (
	"errors"
	"testing"
)

func FuzzParse(f *testing.F) {
	ca := writeCA(f)
	f.Add([]byte("portal:\n  ca_file: " + ca + "\n"))
	f.Add([]byte("ui: {listen: 127.0.0.1:1, languages: [en]}\nsession: {idle_timeout: 1m, idle_warning: 2m}\n"))
	f.Add([]byte("a: &x [1, *x]\n"))
	f.Add([]byte("portal:\n  origins: [https://a.example, \"https://[::1]:99\"]\n  first_port: 65534\n"))
	f.Add([]byte("- 1\n---\n{}"))
	f.Add([]byte("log: &l {level: debug}\nadmin: *l\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("kiosk.yaml", data)
		if (cfg == nil) == (err == nil) {
			t.Fatalf("cfg %v and err %v", cfg, err)
		}
		if err != nil {
			for _, e := range allErrors(err) {
				if e.File != "kiosk.yaml" || e.Err == nil || e.Line < 0 {
					t.Fatalf("malformed error %#v", e)
				}
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error is not a *config.Error: %v", err)
			}
		}
	})
}
