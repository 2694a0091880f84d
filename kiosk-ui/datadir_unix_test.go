//go:build !windows

package kioskui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The citizen's website data never goes where another account could reach it: a parent
// directory others may write in, or a symlink in its place, is refused.
func TestDataDirParentMustBePrivate(t *testing.T) {
	base := t.TempDir()
	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(base, "elsewhere")
	if err := os.Mkdir(elsewhere, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(elsewhere, link); err != nil {
		t.Fatal(err)
	}
	for _, parent := range []string{open, link} {
		d, err := newDataDir(parent)
		if err == nil {
			d.remove()
			t.Errorf("newDataDir(%s) accepted it", parent)
			continue
		}
		if !strings.Contains(err.Error(), "not private") || !strings.Contains(err.Error(), "-data-dir") {
			t.Errorf("newDataDir(%s): %v; want it to say the parent is not private and what to do", parent, err)
		}
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("data written through the symlink: %v", entries)
	}
	// A private parent, as the shell makes it, is fine.
	d, err := newDataDir(filepath.Join(base, "private"))
	if err != nil {
		t.Fatal(err)
	}
	d.remove()
}
