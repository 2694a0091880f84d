package agent

import (
	"fmt"
	"os"
	"path/filepath"
)

// writeURLFile writes the UI start URL for the kiosk shell, readable by the owner and group
// only, replacing any old file atomically. The URL holds the UI token, so it is written to a
// new temporary file (created 0600 by os.CreateTemp) rather than to a fixed name whose
// leftover could carry wider permissions.
func writeURLFile(path, u string) (err error) {
	if path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("ui.url_file: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("ui.url_file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("ui.url_file: %w", err)
		}
	}()
	if _, err := f.WriteString(u + "\n"); err != nil {
		return err
	}
	if err := f.Chmod(0o640); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
