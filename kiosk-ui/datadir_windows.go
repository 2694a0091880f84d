package kioskui

import "os"

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid) // opens the process: fails when it is gone
	if err != nil {
		return false
	}
	p.Release()
	return true
}
