package session

import "time"

// Input is something that happened: a card event, a result of an operation, a UI message,
// a timer. The concrete types are the ones in this file.
type Input interface{ isInput() }

// CardInserted: a card came into Reader.
type CardInserted struct {
	Reader string
	ATR    []byte
}

// CardRemoved: the card left Reader.
type CardRemoved struct{ Reader string }

// CardRead is the result of a ReadCard effect that succeeded.
type CardRead struct {
	Op   uint64
	Info CardInfo
}

// CardReadFailed is the result of a ReadCard effect that failed.
type CardReadFailed struct {
	Op   uint64
	Code ErrorCode // card_unreadable, card_unsupported or card_expired
}

// PINSubmitted: the citizen sent a PIN. The PIN stays with the driver under Handle; Next sees
// only its shape.
type PINSubmitted struct {
	Handle uint64
	Len    int  // number of bytes
	Digits bool // every byte is an ASCII digit
}

// VerifyOK: the card accepted the PIN.
type VerifyOK struct{ Op uint64 }

// VerifyWrong: the card refused the PIN; Left tries remain (-1 unknown, 0 the PIN is now
// blocked).
type VerifyWrong struct {
	Op   uint64
	Left int
}

// VerifyFailed: VERIFY could not be carried out (the card stopped answering). Nothing is
// retried.
type VerifyFailed struct{ Op uint64 }

// ConnectOK: the portal session is open; PortalURL is its home page through the proxy.
type ConnectOK struct {
	Op        uint64
	PortalURL string
	At        time.Time
}

// ConnectFailed: the portal session could not be opened.
type ConnectFailed struct {
	Op   uint64
	Code ErrorCode // portal_unavailable, portal_untrusted or client_cert_refused
}

// Cancel: the citizen left PIN entry or an error screen.
type Cancel struct{}

// EndSession: the citizen pressed End session (or a fleet command ended it).
type EndSession struct{}

// Activity: the citizen touched or typed.
type Activity struct{ At time.Time }

// Language: the citizen chose a language.
type Language struct{ Lang string }

// TimerFired: timer Timer of generation Gen ran out at At.
type TimerFired struct {
	Timer TimerID
	Gen   uint64
	At    time.Time
}

// WipeDone: the driver finished a Wipe effect.
type WipeDone struct{}

// ReaderLost: no usable reader is connected any more.
type ReaderLost struct{}

// ReaderFound: a usable reader is connected.
type ReaderFound struct{}

// ServiceLost: PC/SC (pcscd) stopped answering.
type ServiceLost struct{}

// ServiceRestored: PC/SC answers again.
type ServiceRestored struct{}

// ShellConnected: kiosk shell connection Conn opened on the shell channel (it replaces
// any earlier one).
type ShellConnected struct{ Conn uint64 }

// ShellLost: kiosk shell connection Conn closed.
type ShellLost struct{ Conn uint64 }

// ShellWiped: the shell on connection Conn confirmed wipe order Gen: the browser that
// showed the last citizen is destroyed and a fresh one shows the reloaded UI.
type ShellWiped struct{ Conn, Gen uint64 }

// Shutdown: the agent is stopping.
type Shutdown struct{}

func (CardInserted) isInput()    {}
func (CardRemoved) isInput()     {}
func (CardRead) isInput()        {}
func (CardReadFailed) isInput()  {}
func (PINSubmitted) isInput()    {}
func (VerifyOK) isInput()        {}
func (VerifyWrong) isInput()     {}
func (VerifyFailed) isInput()    {}
func (ConnectOK) isInput()       {}
func (ConnectFailed) isInput()   {}
func (Cancel) isInput()          {}
func (EndSession) isInput()      {}
func (Activity) isInput()        {}
func (Language) isInput()        {}
func (TimerFired) isInput()      {}
func (WipeDone) isInput()        {}
func (ReaderLost) isInput()      {}
func (ReaderFound) isInput()     {}
func (ServiceLost) isInput()     {}
func (ServiceRestored) isInput() {}
func (ShellConnected) isInput()  {}
func (ShellLost) isInput()       {}
func (ShellWiped) isInput()      {}
func (Shutdown) isInput()        {}
