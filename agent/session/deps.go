package session

import (
	"context"
	"errors"
	"fmt"
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

// Card is the citizen's card in the reader the machine was told about. The methods are
// called one at a time, never concurrently.
type Card interface {
	// Read selects the card application and reads what the session needs. Errors wrapping
	// ErrCardUnsupported or ErrCardExpired are shown as such; any other is card_unreadable.
	Read(ctx context.Context, reader string) (CardInfo, error)
	// Verify sends the PIN to the card once, with no retry of any kind. It must not keep
	// pin after it returns, and must not put it into an error. A refused PIN is reported
	// as a *WrongPINError, a blocked one as ErrBlocked; anything else ends the visit with
	// card_unreadable.
	Verify(ctx context.Context, pin []byte) error
	// Logout ends the card's verified state and drops the link to it (VERIFY P1=FF, or a
	// disconnect with reset). It is called at the end of every session, also when the card is
	// already out, and must be quick.
	Logout(ctx context.Context) error
}

// Portal opens the citizen's portal session.
type Portal interface {
	// Open prepares a fresh portal session for the card just verified (TLS client with the
	// card's key behind the loopback proxy) and checks that the portal answers. Errors
	// wrapping ErrPortalUntrusted or ErrClientCertRefused are shown as such; any other is
	// portal_unavailable.
	Open(ctx context.Context) (PortalSession, error)
}

// PortalSession is one open portal session.
type PortalSession interface {
	// HomeURL is the portal home page through the proxy, entered with the session's one
	// secret (http://127.0.0.1:8471/__smartpath/enter/<secret>/). It must never be logged.
	HomeURL() string
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

// Clock is the machine's time source; tests use a fake one.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a timer made by a Clock.
type Timer interface{ Stop() bool }

// RealClock is the system clock.
type RealClock struct{}

func (RealClock) Now() time.Time                            { return time.Now() }
func (RealClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

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

// Deps are the machine's collaborators. Card and Portal are required; UI, Shell, Clock
// (default RealClock), Metrics and Logger (default: discard) are optional (without a Shell,
// Config.RequireShell keeps the kiosk starting for ever).
type Deps struct {
	Card    Card
	Portal  Portal
	UI      UI
	Shell   Shell
	Clock   Clock
	Metrics Metrics
	Logger  *slog.Logger
}

// Errors the Card and Portal implementations return (wrapped as they like) so that the
// machine shows the right screen.
var (
	// ErrBlocked: the PIN is blocked (status 6983, or 63C0).
	ErrBlocked = errors.New("the PIN is blocked")
	// ErrCardUnsupported: the card has no usable PIV application or key in the slot.
	ErrCardUnsupported = errors.New("the card is not a council card")
	// ErrCardExpired: the card's certificate has expired.
	ErrCardExpired = errors.New("the card has expired")
	// ErrPortalUnavailable: the portal cannot be reached or does not answer in time.
	ErrPortalUnavailable = errors.New("the portal is unavailable")
	// ErrPortalUntrusted: the portal's certificate does not verify against the CA bundle.
	ErrPortalUntrusted = errors.New("the portal's certificate is not trusted")
	// ErrClientCertRefused: the portal refused the card's certificate.
	ErrClientCertRefused = errors.New("the portal refused the card's certificate")
)

// WrongPINError: the card refused the PIN. Left is how many tries remain (-1 unknown); Left
// 0 means the PIN is now blocked.
type WrongPINError struct{ Left int }

func (e *WrongPINError) Error() string {
	if e.Left < 0 {
		return "wrong PIN"
	}
	return fmt.Sprintf("wrong PIN, %d tries left", e.Left)
}

// classifyVerify turns Card.Verify's error into the input for Next.
func classifyVerify(op uint64, err error) (Input, string) {
	var wrong *WrongPINError
	switch {
	case err == nil:
		return VerifyOK{Op: op}, "ok"
	case errors.Is(err, ErrBlocked):
		return VerifyBlocked{Op: op}, "blocked"
	case errors.As(err, &wrong):
		if wrong.Left == 0 {
			return VerifyWrong{Op: op, Left: 0}, "blocked"
		}
		return VerifyWrong{Op: op, Left: wrong.Left}, "wrong"
	default:
		return VerifyFailed{Op: op}, "failed"
	}
}

func classifyRead(err error) ErrorCode {
	switch {
	case errors.Is(err, ErrCardUnsupported):
		return ErrCodeCardUnsupported
	case errors.Is(err, ErrCardExpired):
		return ErrCodeCardExpired
	}
	return ErrCodeCardUnreadable
}

func classifyConnect(err error) ErrorCode {
	switch {
	case errors.Is(err, ErrPortalUntrusted):
		return ErrCodePortalUntrusted
	case errors.Is(err, ErrClientCertRefused):
		return ErrCodeClientCertRefused
	}
	return ErrCodePortalUnavailable
}
