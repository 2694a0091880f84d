package session

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"log/slog"
	"time"
)

// CardInfo is what reading the card found.
type CardInfo struct {
	Name         string // the cardholder's name, for the trusted bar
	PINTriesLeft int    // -1 when the card does not say
	Expired      bool   // the authentication certificate has expired
	// PINMin and PINMax narrow the configured PIN length when the card knows its policy;
	// they never widen it. 0 keeps the configuration.
	PINMin, PINMax int
}

// Credential is what the citizen's PIN unlocks: the card's certificate and a signer that
// uses the card's key. Only [Card.Verify] makes one and only [Portal.Open] takes one, so the
// card key is used in a session the citizen opened with the PIN and nowhere else
// (docs/security.md, invariant 4). It stops signing at [Card.Logout].
type Credential struct {
	Certificate *x509.Certificate
	Signer      crypto.Signer
}

// PINAnswer is the card's answer to the PIN.
type PINAnswer struct {
	// Credential is set when the card accepted the PIN, and only then.
	Credential *Credential
	// TriesLeft, after a refusal, is how many tries remain: -1 when the card does not say,
	// 0 when the PIN is now blocked.
	TriesLeft int
}

// Card is the citizen's card in the reader the machine was told about. The methods are
// called one at a time, never concurrently.
type Card interface {
	// Read selects the card application and reads what the session needs. An error
	// classified with [Fail] as card_unsupported shows that screen; any other is
	// card_unreadable.
	Read(ctx context.Context, reader string) (CardInfo, error)
	// Verify sends the PIN to the card once, with no retry of any kind. It must not keep
	// pin after it returns, and must not put it into an error. A refused or blocked PIN is
	// an answer, not an error; an error means VERIFY could not be carried out and ends the
	// visit with card_unreadable.
	Verify(ctx context.Context, pin []byte) (PINAnswer, error)
	// Logout ends the card's verified state, makes every Credential it gave stop signing,
	// and drops the link to the card (VERIFY P1=FF, or a disconnect with reset). It is
	// called at the end of every session, also when the card is already out, and must be
	// quick.
	Logout(ctx context.Context) error
}

// Portal opens the citizen's portal session.
type Portal interface {
	// Open prepares a fresh portal session whose TLS client signs with cred (behind the
	// loopback proxy) and checks that the portal answers. The session reports to events
	// what the citizen does in the portal's frame, which the kiosk UI cannot see. An error
	// classified with [Fail] as portal_untrusted or client_cert_refused shows that screen;
	// any other is portal_unavailable.
	Open(ctx context.Context, cred Credential, events PortalEvents) (PortalSession, error)
}

// PortalEvents is what a portal session reports; the [Machine] implements it. Both methods
// may be called from any goroutine and return at once.
type PortalEvents interface {
	// Activity: the citizen used the portal (a page opened, a form sent).
	Activity()
	// EndSession: the citizen signed out in the portal (portal.end_session_urls); the kiosk
	// session ends as with End session.
	EndSession()
}

// PortalSession is one open portal session.
type PortalSession interface {
	// HomeURL is the portal home page through the proxy, entered with the session's one
	// secret (http://127.0.0.1:8471/__smartpath/enter/<secret>/). It must never be logged.
	HomeURL() string
	// SetDisplay makes the portal follow the citizen's display choice from its next
	// request on (the language as Accept-Language, a high-contrast style sheet). It returns
	// at once.
	SetDisplay(Display)
	// Close drops everything of the session: connections, TLS session cache, cookies.
	Close() error
}

// UI receives the state and the wipe order. Both must return at once (queue, never block).
type UI interface {
	Broadcast(State)
	SendWipe()
}

// Shell is the kiosk shell's channel (docs/kiosk-ui.md). Both methods queue and return at
// once; the shell's answers come back as Machine.ShellConnected, ShellLost and ShellWiped.
type Shell interface {
	// OrderWipe tells the shell on connection conn to destroy its browser and show the UI
	// in a fresh one, then to confirm gen.
	OrderWipe(conn, gen uint64)
	// Drop closes connection conn: that shell failed to confirm in time.
	Drop(conn uint64)
}

// clock is the machine's time source; tests use a fake one.
type clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d.
	AfterFunc(d time.Duration, f func()) timer
}

// timer is a timer made by a clock.
type timer interface{ Stop() bool }

// realClock is the system clock.
type realClock struct{}

func (realClock) Now() time.Time                            { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) timer { return time.AfterFunc(d, f) }

// Metrics receives anonymous counts and timings (docs/security.md, invariant 6: no citizen data is ever
// passed). *telemetry.Telemetry implements it.
type Metrics interface {
	SetPhase(phase string)
	SessionEnded(outcome string, d time.Duration) // a portal session ended, by reason
	PINVerification(result string)                // ok, wrong, blocked or failed
	CardEvent(kind string)                        // inserted, removed, read_ok, read_failed
	PortalError(code string)
	Wiped(d time.Duration) // how long a Wipe took
	SetReaderPresent(bool)
	SetPCSCDUp(bool)
	// SetShell reports the kiosk shell: connected, confirmed clean since the last wipe,
	// failed to confirm in time.
	SetShell(up, clean, failed bool)
	SetLastError(code string)
}

// Deps are the machine's collaborators, given to New. Card and Portal are required; clock
// (tests only; default the system clock), Metrics and Logger (default: discard) are optional.
type Deps struct {
	Card    Card
	Portal  Portal
	clock   clock
	Metrics Metrics
	Logger  *slog.Logger
}

// Links are the channels the machine answers while it runs: the kiosk UI and the kiosk
// shell. They are given to Run, not New, because they are made after the machine: they feed
// it their input. Both are optional (without a Shell, Config.RequireShell keeps the kiosk
// starting for ever).
type Links struct {
	UI    UI
	Shell Shell
}

// Failure is an error the Card or the Portal has classified: Code is the screen the citizen
// is shown. Each adapter classifies its own errors once, where it knows what they mean.
type Failure struct {
	Code ErrorCode
	Err  error
}

// Fail classifies err as code.
func Fail(code ErrorCode, err error) error { return &Failure{Code: code, Err: err} }

func (f *Failure) Error() string { return string(f.Code) + ": " + f.Err.Error() }
func (f *Failure) Unwrap() error { return f.Err }

// codeOf is err's classification, or fallback when it has none.
func codeOf(err error, fallback ErrorCode) ErrorCode {
	var f *Failure
	if errors.As(err, &f) && f.Code != ErrCodeNone {
		return f.Code
	}
	return fallback
}

// verifyInput turns Card.Verify's answer into the input for decide.
func verifyInput(op uint64, ans PINAnswer, err error) Input {
	switch {
	case err != nil:
		return verifyFailed{Op: op}
	case ans.Credential != nil:
		return verifyOK{Op: op}
	default:
		return verifyWrong{Op: op, Left: ans.TriesLeft}
	}
}
