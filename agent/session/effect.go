package session

import "time"

// effect is something the driver must do. The concrete types are the ones in this file.
type effect interface{ isEffect() }

// readCard: read the card in Reader (certificate, CHUID, PIN tries); answer with CardRead or
// cardReadFailed carrying Op.
type readCard struct {
	Op     uint64
	Reader string
}

// verifyPIN: send the PIN held under Handle to the card, once; answer with VerifyOK,
// verifyWrong or VerifyFailed carrying Op. The driver zeroes the PIN after.
type verifyPIN struct {
	Op     uint64
	Handle uint64
}

// connect: open the portal session; answer with ConnectOK or ConnectFailed carrying Op.
type connect struct{ Op uint64 }

// wipe ends whatever the visit left behind: cancel outstanding operations, close the portal
// session (connections, TLS session cache, cookies), log the card out, and tell the UI to wipe
// its storage. The driver answers with WipeDone.
type wipe struct{ Reason Reason }

// shellWipe: order the kiosk shell on connection Conn to destroy its browser and show the
// UI in a fresh one; it answers with ShellWiped carrying Gen.
type shellWipe struct{ Conn, Gen uint64 }

// dropShell: close the shell connection Conn, which did not confirm in time; only a shell
// that connects again (restarted) can make the kiosk usable.
type dropShell struct{ Conn uint64 }

// broadcast: the UI-visible state changed; send it to the UI.
type broadcast struct{}

// armTimer: (re)start timer Timer to fire After from now as TimerFired{Timer, Gen}.
type armTimer struct {
	Timer timerID
	After time.Duration
	Gen   uint64
}

// disarmTimer: stop timer Timer; a TimerFired of an older generation is ignored anyway.
type disarmTimer struct{ Timer timerID }

func (readCard) isEffect()    {}
func (verifyPIN) isEffect()   {}
func (connect) isEffect()     {}
func (wipe) isEffect()        {}
func (shellWipe) isEffect()   {}
func (dropShell) isEffect()   {}
func (broadcast) isEffect()   {}
func (armTimer) isEffect()    {}
func (disarmTimer) isEffect() {}
