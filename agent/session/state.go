package session

import "time"

// Phase is what the kiosk is doing; the values are the protocol's phase names.
type Phase string

const (
	PhaseStarting   Phase = "starting"     // the agent is starting; PC/SC not yet seen
	PhaseIdle       Phase = "idle"         // attract screen, waiting for a card
	PhaseReading    Phase = "reading"      // reading the card's certificate and CHUID
	PhasePIN        Phase = "pin"          // waiting for the citizen's PIN
	PhaseVerifying  Phase = "verifying"    // VERIFY sent to the card
	PhaseConnecting Phase = "connecting"   // opening the portal session (one card signature)
	PhaseSession    Phase = "session"      // the portal is shown
	PhaseEnding     Phase = "ending"       // the session is being wiped
	PhaseGoodbye    Phase = "goodbye"      // "take your card"
	PhaseError      Phase = "error"        // a citizen-facing error; left when the card comes out
	PhaseOutOfOrder Phase = "out_of_order" // no reader or no PC/SC service
)

// Phases lists every phase, in protocol order.
var Phases = []Phase{PhaseStarting, PhaseIdle, PhaseReading, PhasePIN, PhaseVerifying,
	PhaseConnecting, PhaseSession, PhaseEnding, PhaseGoodbye, PhaseError, PhaseOutOfOrder}

// ErrorCode is the protocol's error code shown in phases error and out_of_order.
type ErrorCode string

const (
	ErrCodeNone              ErrorCode = ""
	ErrCodeCardUnreadable    ErrorCode = "card_unreadable"
	ErrCodeCardUnsupported   ErrorCode = "card_unsupported"
	ErrCodeCardExpired       ErrorCode = "card_expired"
	ErrCodePINBlocked        ErrorCode = "pin_blocked"
	ErrCodePortalUnavailable ErrorCode = "portal_unavailable"
	ErrCodePortalUntrusted   ErrorCode = "portal_untrusted"
	ErrCodeClientCertRefused ErrorCode = "client_cert_refused"
	ErrCodeReaderMissing     ErrorCode = "reader_missing"
	ErrCodeOutOfOrder        ErrorCode = "out_of_order"
)

// Reason says why a session or visit ended (the protocol's goodbye.reason), or, for
// ReasonReaderLost and ReasonServiceLost, why it was cut off (these end in out_of_order and
// are never sent as a goodbye reason).
type Reason string

const (
	ReasonNone        Reason = ""
	ReasonCardRemoved Reason = "card_removed"
	ReasonIdleTimeout Reason = "idle_timeout"
	ReasonEnded       Reason = "ended"
	ReasonMaxLength   Reason = "max_length"
	ReasonShutdown    Reason = "shutdown"
	ReasonCancelled   Reason = "cancelled"
	ReasonReaderLost  Reason = "reader_lost"
	ReasonServiceLost Reason = "service_lost"
	ReasonConnectFail Reason = "connect_failed"
	ReasonShellLost   Reason = "shell_lost" // the kiosk shell did not confirm in time
)

// timerID names one of the machine's timers.
type timerID int

const (
	timerIdleWarning timerID = iota // session: no activity for IdleTimeout-IdleWarning
	timerIdleTimeout                // session: the warning's countdown ran out
	timerMaxLength                  // session: MaxLength since it opened
	timerGoodbye                    // goodbye: GoodbyeAfter with the card left in, then only "take your card"
	// timerShell: the kiosk shell has ShellConfirm to confirm a wipe order (or to come back
	// after it was lost). It is not one of the visit's timers: ending a visit leaves it armed.
	timerShell
	numTimers
)

func (t timerID) String() string {
	switch t {
	case timerIdleWarning:
		return "idle_warning"
	case timerIdleTimeout:
		return "idle_timeout"
	case timerMaxLength:
		return "max_length"
	case timerGoodbye:
		return "goodbye"
	case timerShell:
		return "shell"
	}
	return "timer?"
}

// Config is the session's settings (from the session and ui sections of the configuration).
type Config struct {
	IdleTimeout     time.Duration // no activity for this long ends a session
	IdleWarning     time.Duration // the last part of IdleTimeout, shown as a countdown
	MaxLength       time.Duration // any session ends after this long
	GoodbyeAfter    time.Duration // the visit's reason shows this long with the card left in; then only "take your card"
	PINMin, PINMax  int           // PIN length in digits
	Languages       []string      // languages the citizen may choose
	DefaultLanguage string        // the language at idle
	// RequireShell: no card is read until the kiosk shell has confirmed that the browser it
	// shows holds nothing of anyone (docs/security.md, invariant 5). Only a development
	// setup with a plain browser and no shell turns it off.
	RequireShell bool
	// ShellConfirm bounds the wait for the shell's confirmation of a wipe order, and for a
	// lost shell to come back; past it the kiosk is out of order until a shell confirms.
	ShellConfirm time.Duration
}

// PINState is the PIN pad's state in phases pin and verifying.
type PINState struct {
	Min, Max  int  // PIN length in digits
	TriesLeft int  // tries before the PIN blocks; -1 when unknown
	Wrong     bool // the last PIN submitted was wrong
}

// State is everything the kiosk shows and knows about the current visit. It holds no PIN and
// no key material; it does hold the citizen's name for the trusted bar, so it must not be
// logged or exported as telemetry as a whole.
type State struct {
	Phase Phase
	Lang  string // the citizen's language; the default again at idle
	// LargeText and HighContrast are the citizen's display choices, for the screens and the
	// portal alike; off again at idle.
	LargeText, HighContrast bool

	ServiceUp     bool // PC/SC is answering
	ReaderPresent bool // a usable reader is connected
	CardPresent   bool // a card is in the reader
	// CardPending: the card in the reader came in while the kiosk could not read it
	// (starting, out of order, or the shell not yet confirmed); it is read once it can be.
	CardPending bool
	Reader      string // the reader holding the card

	Citizen   string    // the cardholder's name, from phase pin until the visit ends
	PIN       PINState  // phases pin and verifying
	PortalURL string    // the proxy URL of the portal home page, phase session
	StartedAt time.Time // when the session opened
	EndsAt    time.Time // StartedAt + MaxLength
	// WarningEndsAt is when the idle countdown runs out; zero unless the warning shows.
	WarningEndsAt time.Time

	Error   ErrorCode // phases error and out_of_order
	Goodbye Reason    // phases ending and goodbye: why the visit ended

	// ShellUp: a kiosk shell is connected on its channel. ShellClean: it has confirmed,
	// since the last wipe, that the browser it shows has never seen a citizen. ShellFailed:
	// it did not confirm within ShellConfirm; the kiosk is out of order until one does.
	ShellUp, ShellClean, ShellFailed bool

	ShuttingDown bool // shutdown was received; the machine accepts nothing more
	Config       Config

	op     uint64            // number of the outstanding card or portal operation
	handle uint64            // handle of the PIN being verified
	gen    [numTimers]uint64 // generation of each armed timer (0: disarmed)
	seq    uint64            // generations are drawn from here
	// shellConn is the connection ShellUp refers to; shellGen the wipe order it must
	// confirm (0: none outstanding).
	shellConn, shellGen uint64
}

// Display is how the citizen wants the screens and the portal shown: the portal session
// follows it (Accept-Language, a high-contrast style sheet), the UI zooms the portal's frame.
type Display struct {
	Lang                    string
	LargeText, HighContrast bool
}

// Display is the citizen's current display choice.
func (s State) Display() Display {
	return Display{Lang: s.Lang, LargeText: s.LargeText, HighContrast: s.HighContrast}
}

// newState is the state a Machine starts in.
func newState(cfg Config) State {
	return State{Phase: PhaseStarting, Lang: cfg.DefaultLanguage, Config: cfg,
		PIN: PINState{Min: cfg.PINMin, Max: cfg.PINMax, TriesLeft: -1}, ShellClean: !cfg.RequireShell}
}

// InSession reports whether the card may be verified or a portal session open: the phases
// after VERIFY succeeded, which can only be left through a Wipe.
func (s State) InSession() bool {
	switch s.Phase {
	case PhaseConnecting, PhaseSession, PhaseEnding:
		return true
	}
	return false
}

// holdsCitizenData reports whether anything of the citizen may be on screen or on the card
// link, so that leaving needs a Wipe.
func (s State) holdsCitizenData() bool {
	switch s.Phase {
	case PhaseReading, PhasePIN, PhaseVerifying, PhaseConnecting, PhaseSession, PhaseEnding, PhaseError:
		return true
	}
	return false
}
