package session

import "time"

// Effect is something the driver must do. The concrete types are the ones in this file.
type Effect interface{ isEffect() }

// ReadCard: read the card in Reader (certificate, CHUID, PIN tries); answer with CardRead or
// CardReadFailed carrying Op.
type ReadCard struct {
	Op     uint64
	Reader string
}

// VerifyPIN: send the PIN held under Handle to the card, once; answer with VerifyOK,
// VerifyWrong or VerifyFailed carrying Op. The driver zeroes the PIN after.
type VerifyPIN struct {
	Op     uint64
	Handle uint64
}

// Connect: open the portal session; answer with ConnectOK or ConnectFailed carrying Op.
type Connect struct{ Op uint64 }

// Wipe ends whatever the visit left behind: cancel outstanding operations, close the portal
// session (connections, TLS session cache, cookies), log the card out, and tell the UI to wipe
// its storage. The driver answers with WipeDone.
type Wipe struct{ Reason Reason }

// ShellWipe: order the kiosk shell on connection Conn to destroy its browser and show the
// UI in a fresh one; it answers with ShellWiped carrying Gen.
type ShellWipe struct{ Conn, Gen uint64 }

// DropShell: close the shell connection Conn, which did not confirm in time; only a shell
// that connects again (restarted) can make the kiosk usable.
type DropShell struct{ Conn uint64 }

// Broadcast: the UI-visible state changed; send it to the UI.
type Broadcast struct{}

// ArmTimer: (re)start timer Timer to fire After from now as TimerFired{Timer, Gen}.
type ArmTimer struct {
	Timer TimerID
	After time.Duration
	Gen   uint64
}

// DisarmTimer: stop timer Timer; a TimerFired of an older generation is ignored anyway.
type DisarmTimer struct{ Timer TimerID }

func (ReadCard) isEffect()    {}
func (VerifyPIN) isEffect()   {}
func (Connect) isEffect()     {}
func (Wipe) isEffect()        {}
func (ShellWipe) isEffect()   {}
func (DropShell) isEffect()   {}
func (Broadcast) isEffect()   {}
func (ArmTimer) isEffect()    {}
func (DisarmTimer) isEffect() {}
