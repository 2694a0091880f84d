package pcsc

import (
	"errors"
	"fmt"
)

// Status-word errors (ISO/IEC 7816-4 §5.6). A response whose SW is not 9000 comes back as a
// [*StatusError]; its Unwrap returns one of these, so callers test with errors.Is.
var (
	ErrNotFound               = errors.New("file, application or data object not found")
	ErrReferenceNotFound      = errors.New("referenced data (key or PIN reference) not found")
	ErrSecurityStatus         = errors.New("security status not satisfied (verify the PIN first)")
	ErrAuthBlocked            = errors.New("authentication method blocked (PIN or key locked)")
	ErrConditionsNotSatisfied = errors.New("conditions of use not satisfied")
	ErrDataInvalid            = errors.New("reference data not usable")
	ErrCommandNotAllowed      = errors.New("command not allowed")
	ErrWrongData              = errors.New("incorrect parameters in the command data field")
	ErrFunctionNotSupported   = errors.New("function not supported")
	ErrIncorrectP1P2          = errors.New("incorrect parameters P1-P2")
	ErrWrongLength            = errors.New("wrong length (Lc or Le)")
	ErrINSNotSupported        = errors.New("instruction code not supported")
	ErrCLANotSupported        = errors.New("class byte not supported")
	ErrChainingNotSupported   = errors.New("command chaining not supported by the card")
	ErrMemory                 = errors.New("card memory failure or not enough memory")
	ErrWarning                = errors.New("card returned a warning")
	ErrCardFailure            = errors.New("card reported an error without precise diagnosis")

	// ErrWrongPIN is matched by every [*WrongPINError].
	ErrWrongPIN = errors.New("wrong PIN")
)

// Errors of the transport built by this package on top of the status words.
var (
	// ErrResponseTooLarge: the card sent more data than TransportOptions.MaxResponse allows,
	// or a response APDU longer than [MaxResponseAPDU].
	ErrResponseTooLarge = errors.New("card response too large")
	// ErrMalformedResponse: the response was shorter than SW1 SW2, or the card broke the
	// GET RESPONSE protocol (for example 61xx with no data on a GET RESPONSE).
	ErrMalformedResponse = errors.New("malformed card response")
	// ErrCommandTooLong: the command data or Le cannot be encoded.
	ErrCommandTooLong = errors.New("command APDU too long to encode")
)

// PC/SC transport errors, distinguishable from status words. A failed PC/SC call comes back as
// an [*SCardError] that wraps one of these and keeps the original code in its message.
var (
	ErrCardRemoved       = errors.New("card removed")
	ErrCardReset         = errors.New("card reset by another application")
	ErrNoService         = errors.New("PC/SC service (pcscd) not available")
	ErrNoReaders         = errors.New("no smart card reader connected")
	ErrReaderUnavailable = errors.New("reader unavailable")
	ErrCardUnresponsive  = errors.New("card does not respond")
	ErrCardUnsupported   = errors.New("card not supported (no common protocol or bad ATR)")
	ErrSharingViolation  = errors.New("card is in use by another application")
	ErrTimeout           = errors.New("PC/SC timeout")
	ErrCancelled         = errors.New("PC/SC call cancelled")
	// ErrClosed: the connection was closed, or abandoned after its context was cancelled.
	ErrClosed = errors.New("card connection closed")
)

// StatusError is a status word other than 9000. Unwrap gives the matching sentinel above
// (or a [*WrongPINError] for 63Cx/630x), so both work:
//
//	errors.Is(err, pcsc.ErrNotFound)
//	var se *pcsc.StatusError; errors.As(err, &se) // se.SW == 0x6A82
type StatusError struct {
	SW uint16
}

func (e *StatusError) Error() string {
	if inner := swError(e.SW); inner != nil {
		return fmt.Sprintf("card status %04X: %v", e.SW, inner)
	}
	return fmt.Sprintf("card status %04X", e.SW)
}

// Unwrap returns the typed error for the status word, or nil for a status word this package
// does not classify.
func (e *StatusError) Unwrap() error { return swError(e.SW) }

// WrongPINError is a failed verification with the number of tries left.
//
// Semantics: 63Cx is "verification failed, x tries left" (ISO 7816-4, NIST SP 800-73-4 §3.2.1);
// older cards answer 630x with the same meaning, so 6301..630F are read as x tries left too.
// 6300 itself only says "verification failed" with no counter, so it gives Retries = -1
// (unknown). Retries == 0 means the PIN is now blocked: such an error also matches
// [ErrAuthBlocked].
type WrongPINError struct {
	Retries int
}

func (e *WrongPINError) Error() string {
	switch {
	case e.Retries < 0:
		return "wrong PIN"
	case e.Retries == 0:
		return "wrong PIN, no tries left: the PIN is blocked"
	case e.Retries == 1:
		return "wrong PIN, 1 try left"
	default:
		return fmt.Sprintf("wrong PIN, %d tries left", e.Retries)
	}
}

// Is makes a WrongPINError match [ErrWrongPIN], and [ErrAuthBlocked] when no tries are left.
func (e *WrongPINError) Is(target error) bool {
	return target == ErrWrongPIN || (target == ErrAuthBlocked && e.Retries == 0)
}

// CheckSW returns nil for 9000 and a [*StatusError] for anything else.
func CheckSW(sw uint16) error {
	if sw == 0x9000 {
		return nil
	}
	return &StatusError{SW: sw}
}

// swError maps a status word to the typed error it stands for; nil if unclassified.
func swError(sw uint16) error {
	sw1, sw2 := byte(sw>>8), byte(sw)
	switch {
	case sw1 == 0x63 && sw2&0xF0 == 0xC0:
		return &WrongPINError{Retries: int(sw2 & 0x0F)}
	case sw1 == 0x63 && sw2 == 0x00:
		return &WrongPINError{Retries: -1}
	case sw1 == 0x63 && sw2 <= 0x0F:
		return &WrongPINError{Retries: int(sw2)}
	}
	switch sw {
	case 0x6A82:
		return ErrNotFound
	case 0x6A88:
		return ErrReferenceNotFound
	case 0x6982:
		return ErrSecurityStatus
	case 0x6983:
		return ErrAuthBlocked
	case 0x6984:
		return ErrDataInvalid
	case 0x6985:
		return ErrConditionsNotSatisfied
	case 0x6986, 0x6900:
		return ErrCommandNotAllowed
	case 0x6A80:
		return ErrWrongData
	case 0x6A81:
		return ErrFunctionNotSupported
	case 0x6A86, 0x6B00:
		return ErrIncorrectP1P2
	case 0x6700, 0x6A87:
		return ErrWrongLength
	case 0x6D00:
		return ErrINSNotSupported
	case 0x6E00, 0x6881, 0x6882:
		return ErrCLANotSupported
	case 0x6883, 0x6884:
		return ErrChainingNotSupported
	case 0x6581, 0x6A84:
		return ErrMemory
	case 0x6F00:
		return ErrCardFailure
	}
	switch sw1 {
	case 0x6C:
		return ErrWrongLength // exact length in SW2; Transport re-sends on its own
	case 0x62, 0x63:
		return ErrWarning
	}
	return nil
}
