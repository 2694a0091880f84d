package agent

import (
	"os"
	"path/filepath"
	"testing"
)

// The URL file holds the per-boot UI token (docs/security.md, invariant 2): whatever was left in the
// directory before, the file the shell reads is the owner's and group's only and holds just
// the URL, and no temporary file is left beside it.
func TestWriteURLFileKeepsTokenPrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ui-url")
	// Leftovers of an earlier run or another writer, world-readable.
	for _, name := range []string{path, path + ".tmp"} {
		if err := os.WriteFile(name, []byte("old\n"), 0o666); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(name, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	const u = "http://127.0.0.1:8470/#token=secret"
	if err := writeURLFile(path, u); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o640 {
		t.Errorf("URL file mode %v, want -rw-r-----", mode)
	}
	if b, _ := os.ReadFile(path); string(b) != u+"\n" {
		t.Errorf("URL file holds %q, want %q", b, u+"\n")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "ui-url" && e.Name() != "ui-url.tmp" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
