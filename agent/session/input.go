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

// cardRead is the result of a ReadCard effect that succeeded.
type cardRead struct {
	Op   uint64
	Info CardInfo
}

// cardReadFailed is the result of a ReadCard effect that failed.
type cardReadFailed struct {
	Op   uint64
	Code ErrorCode // card_unreadable, card_unsupported or card_expired
}

// pinSubmitted: the citizen sent a PIN. The PIN stays with the driver under Handle; decide sees
// only its shape.
type pinSubmitted struct {
	Handle uint64
	Len    int  // number of bytes
	Digits bool // every byte is an ASCII digit
}

// verifyOK: the card accepted the PIN.
type verifyOK struct{ Op uint64 }

// verifyWrong: the card refused the PIN; Left tries remain (-1 unknown, 0 the PIN is now
// blocked).
type verifyWrong struct {
	Op   uint64
	Left int
}

// verifyFailed: VERIFY could not be carried out (the card stopped answering). Nothing is
// retried.
type verifyFailed struct{ Op uint64 }

// connectOK: the portal session is open; PortalURL is its home page through the proxy.
type connectOK struct {
	Op        uint64
	PortalURL string
	At        time.Time
}

// connectFailed: the portal session could not be opened.
type connectFailed struct {
	Op   uint64
	Code ErrorCode // portal_unavailable, portal_untrusted or client_cert_refused
}

// cancel: the citizen left PIN entry or an error screen.
type cancel struct{}

// endSession: the citizen pressed End session (or a fleet command ended it).
type endSession struct{}

// activity: the citizen touched or typed.
type activity struct{ At time.Time }

// Language: the citizen chose a language.
type Language struct{ Lang string }

// displayChoice: the citizen chose larger text or high contrast (or neither).
type displayChoice struct{ LargeText, HighContrast bool }

// timerFired: timer Timer of generation Gen ran out at At.
type timerFired struct {
	Timer timerID
	Gen   uint64
	At    time.Time
}

// wipeDone: the driver finished a Wipe effect.
type wipeDone struct{}

// ReaderLost: no usable reader is connected any more.
type ReaderLost struct{}

// ReaderFound: a usable reader is connected.
type ReaderFound struct{}

// ServiceLost: PC/SC (pcscd) stopped answering.
type ServiceLost struct{}

// ServiceRestored: PC/SC answers again.
type ServiceRestored struct{}

// shellConnected: kiosk shell connection Conn opened on the shell channel (it replaces
// any earlier one).
type shellConnected struct{ Conn uint64 }

// shellLost: kiosk shell connection Conn closed.
type shellLost struct{ Conn uint64 }

// shellWiped: the shell on connection Conn confirmed wipe order Gen: the browser that
// showed the last citizen is destroyed and a fresh one shows the reloaded UI.
type shellWiped struct{ Conn, Gen uint64 }

// shutdown: the agent is stopping.
type shutdown struct{}

func (CardInserted) isInput()    {}
func (CardRemoved) isInput()     {}
func (cardRead) isInput()        {}
func (cardReadFailed) isInput()  {}
func (pinSubmitted) isInput()    {}
func (verifyOK) isInput()        {}
func (verifyWrong) isInput()     {}
func (verifyFailed) isInput()    {}
func (connectOK) isInput()       {}
func (connectFailed) isInput()   {}
func (cancel) isInput()          {}
func (endSession) isInput()      {}
func (activity) isInput()        {}
func (Language) isInput()        {}
func (displayChoice) isInput()   {}
func (timerFired) isInput()      {}
func (wipeDone) isInput()        {}
func (ReaderLost) isInput()      {}
func (ReaderFound) isInput()     {}
func (ServiceLost) isInput()     {}
func (ServiceRestored) isInput() {}
func (shellConnected) isInput()  {}
func (shellLost) isInput()       {}
func (shellWiped) isInput()      {}
func (shutdown) isInput()        {}
