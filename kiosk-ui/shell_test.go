package kioskui

import (
	"strings"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	min, max := 250*time.Millisecond, 5*time.Second
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i, w := range want {
		if got := backoff(i+1, min, max); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := backoff(1000, min, max); got != max {
		t.Errorf("backoff(1000) = %v", got)
	}
}

func TestOptionsDefaults(t *testing.T) {
	o, err := Options{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if o.URLFile != DefaultURLFile || len(o.FrameOrigins) != 1 || o.FrameOrigins[0] != LoopbackAnyPort || o.Version != "dev" || o.Logger == nil || o.DataDir == "" {
		t.Fatalf("defaults: %+v", o)
	}
	if _, err := (Options{URL: "http://example.org/#token=s3cret"}).withDefaults(); err == nil {
		t.Fatal("non-loopback URL accepted")
	}
	if _, err := (Options{URL: "http://127.0.0.1:%zz/#token=s3cret"}).withDefaults(); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("bad URL: err = %v (must be an error without the token)", err)
	}
	if _, err := (Options{FrameOrigins: []string{"http://127.0.0.1:1/path"}}).withDefaults(); err == nil {
		t.Fatal("frame origin with a path accepted")
	}
}

func TestUIOriginAndToken(t *testing.T) {
	o, tok, err := uiOriginAndToken("http://127.0.0.1:8470/#token=s3cret")
	if err != nil || o != "http://127.0.0.1:8470" || tok != "s3cret" {
		t.Fatalf("= %q, %q, %v", o, tok, err)
	}
	for _, bad := range []string{"http://127.0.0.1:8470/", "http://127.0.0.1:8470/#token=", "http://127.0.0.1:8470/#token=a&token=b",
		"http://example.org/#token=s3cret", "http://127.0.0.1:%zz/#token=s3cret"} {
		if _, _, err := uiOriginAndToken(bad); err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%q: err = %v (want an error without the token)", bad, err)
		}
	}
}

func TestStartingPageLoadsNothing(t *testing.T) {
	for _, bad := range []string{"src=", "href=", "url(", "@import", "<script", "<link"} {
		if strings.Contains(startingHTML, bad) {
			t.Errorf("starting page contains %q: it must load nothing", bad)
		}
	}
	for _, want := range []string{"Starting", "Εκκίνηση", `role="status"`} {
		if !strings.Contains(startingHTML, want) {
			t.Errorf("starting page lacks %q", want)
		}
	}
}
