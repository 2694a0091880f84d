//go:build !windows

package kioskui

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// checkPrivateParent makes sure the data directories' parent cannot be tampered with by
// another user: a real directory (not a symlink), owned by this user and writable by no one
// else. Under a shared /tmp another account could otherwise create it first and swap a
// citizen's data directory for a link into its own.
func checkPrivateParent(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return errors.New("it is not a directory (a symlink?)")
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("it belongs to user id %d, not to this user (%d)", st.Uid, os.Getuid())
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("others may write in it (mode %v)", fi.Mode().Perm())
	}
	return nil
}

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
