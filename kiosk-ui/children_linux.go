package kioskui

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// endChildren ends this process's children (WebKit's web and network processes) and waits
// for them, at most timeout, so that nothing writes into the data directory after the shell
// removes it. They are children of this process only; nothing else is touched.
func endChildren(timeout time.Duration) {
	kids := children(os.Getpid())
	for _, pid := range kids {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	deadline := time.Now().Add(timeout)
	for len(kids) > 0 {
		var left []int
		for _, pid := range kids {
			if running(pid) {
				left = append(left, pid)
			}
		}
		kids = left
		if len(kids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, pid := range kids {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			return
		}
		time.Sleep(10 * time.Millisecond) // polling /proc with a deadline: there is no event to wait on
	}
}

// children lists the pids whose parent is ppid.
func children(ppid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, _, ok := procStat(pid); ok && p == ppid {
			out = append(out, pid)
		}
	}
	return out
}

// running: the process exists and is not a zombie.
func running(pid int) bool {
	_, state, ok := procStat(pid)
	return ok && state != "Z" && state != "X"
}

// procStat returns the parent pid and state of pid from /proc/<pid>/stat.
func procStat(pid int) (ppid int, state string, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, "", false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, "", false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, "", false
	}
	ppid, err = strconv.Atoi(f[1])
	return ppid, f[0], err == nil
}
