package kioskui

// The functions lockdown_linux.c calls. A file with //export may only declare C in its
// preamble, so the C lives in lockdown_linux.c.

/*
#include <stdint.h>
#include <stdlib.h>
*/
import "C"

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

//export kioskGoAllowNavigation
func kioskGoAllowNavigation(uri *C.char) C.int {
	s := active.Load()
	return cbool(s != nil && s.allowNavigation(C.GoString(uri)))
}

//export kioskGoAllowMainDocument
func kioskGoAllowMainDocument(uri *C.char) C.int {
	s := active.Load()
	return cbool(s != nil && s.allowMainDocument(C.GoString(uri)))
}

//export kioskGoLoadFailed
func kioskGoLoadFailed(uri, msg *C.char, network C.int) {
	if s := active.Load(); s != nil {
		s.loadFailed(C.GoString(uri), C.GoString(msg), network != 0)
	}
}

//export kioskGoLoadCommitted
func kioskGoLoadCommitted(uri *C.char, status C.int) {
	if s := active.Load(); s != nil {
		s.loadCommitted(C.GoString(uri), int(status))
	}
}

// WebKitWebProcessTerminationReason.
var terminationReasons = map[C.int]string{0: "crashed", 1: "exceeded memory limit", 2: "terminated by the shell"}

//export kioskGoWebProcessTerminated
func kioskGoWebProcessTerminated(reason C.int) {
	if s := active.Load(); s != nil {
		s.webProcessTerminated(terminationReasons[reason], reason == 2)
	}
}

//export kioskGoDispatched
func kioskGoDispatched(handle C.uintptr_t) { runDispatched(uintptr(handle)) }

//export kioskGoRefused
func kioskGoRefused(what, detail *C.char) {
	s := active.Load()
	if s == nil {
		return
	}
	w, d := C.GoString(what), C.GoString(detail)
	switch w {
	case "navigation", "new-window", "top-level", "download":
		d = logOrigin(d)
	}
	s.refused(w, d)
}
