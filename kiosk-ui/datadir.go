package kioskui

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// dataDir is the private directory one run of the shell keeps website data in. A new one
// is made at every start; it is removed on exit, and a later start removes any left behind
// by a shell that was killed.
type dataDir struct {
	path string
}

const (
	dataDirPrefix = "run-"
	ownerFile     = "owner.pid"
)

func newDataDir(parent string) (*dataDir, error) {
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, fmt.Errorf("make the data directory parent %s: %w", parent, err)
	}
	if err := checkPrivateParent(parent); err != nil {
		return nil, fmt.Errorf("the data directory parent %s is not private to this user: %w; remove it or pass -data-dir", parent, err)
	}
	removeStaleDataDirs(parent)
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	path := filepath.Join(parent, dataDirPrefix+strconv.Itoa(os.Getpid())+"-"+hex.EncodeToString(rnd[:]))
	if err := os.Mkdir(path, 0o700); err != nil {
		return nil, fmt.Errorf("make the data directory: %w", err)
	}
	d := &dataDir{path: path}
	if err := os.WriteFile(filepath.Join(path, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		d.remove()
		return nil, fmt.Errorf("make the data directory: %w", err)
	}
	for _, sub := range []string{"data", "cache", "config", "filters"} {
		if err := os.Mkdir(filepath.Join(path, sub), 0o700); err != nil {
			d.remove()
			return nil, fmt.Errorf("make the data directory: %w", err)
		}
	}
	return d, nil
}

func (d *dataDir) sub(name string) string { return filepath.Join(d.path, name) }

func (d *dataDir) remove() error { return os.RemoveAll(d.path) }

// removeStaleDataDirs removes the data directories of shells that are no longer running:
// a shell killed with SIGKILL leaves its citizen's data behind, and the next start must
// not keep it.
func removeStaleDataDirs(parent string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), dataDirPrefix) {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid != os.Getpid() && processAlive(pid) {
				continue
			}
		}
		_ = os.RemoveAll(dir)
	}
}
