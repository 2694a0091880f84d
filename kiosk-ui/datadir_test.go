package kioskui

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDataDirFreshAndStaleRemoved(t *testing.T) {
	parent := t.TempDir()
	// A directory left by a killed shell (its pid is not running) and one of a live shell.
	stale := filepath.Join(parent, dataDirPrefix+"stale")
	live := filepath.Join(parent, dataDirPrefix+"live")
	other := filepath.Join(parent, "not-ours")
	for _, d := range []string{stale, live, other} {
		if err := os.MkdirAll(filepath.Join(d, "data"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(stale, ownerFile), []byte("999999999"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(live, ownerFile), []byte("1"), 0o600); err != nil { // init is alive
		t.Fatal(err)
	}
	d, err := newDataDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale data directory kept: %v", err)
	}
	for _, keep := range []string{live, other, d.sub("data"), d.sub("cache"), d.sub("filters")} {
		if _, err := os.Stat(keep); err != nil {
			t.Errorf("%s: %v", keep, err)
		}
	}
	fi, err := os.Stat(d.path)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data directory mode: %v %v", fi, err)
	}
	if err := d.remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.path); !os.IsNotExist(err) {
		t.Fatalf("data directory not removed: %v", err)
	}
}
