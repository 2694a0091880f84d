package pcsc

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ebfe/scard"
)

// SCardError is a failed PC/SC call. It unwraps to both the transport sentinel of this
// package (errors.Is(err, pcsc.ErrCardRemoved)) and the original scard.Error, and its message
// keeps the PC/SC code so a log line can be looked up.
type SCardError struct {
	Op   string // the PC/SC call, e.g. "SCardTransmit"
	Code uint32 // the PC/SC return code, e.g. 0x80100069
	Kind error  // one of the sentinels of this package; nil when unclassified
}

func (e *SCardError) Error() string {
	desc := "PC/SC error"
	if e.Kind != nil {
		desc = e.Kind.Error()
	}
	return fmt.Sprintf("%s: %s (0x%08X %s)", e.Op, desc, e.Code, scardText(e.Code))
}

// Unwrap returns the sentinel and the underlying scard.Error.
func (e *SCardError) Unwrap() []error {
	if e.Kind == nil {
		return []error{scard.Error(e.Code)}
	}
	return []error{e.Kind, scard.Error(e.Code)}
}

// scardKind classifies a PC/SC return code.
func scardKind(code scard.Error) error {
	switch code {
	case scard.ErrRemovedCard, scard.ErrNoSmartcard:
		return ErrCardRemoved
	case scard.ErrResetCard:
		return ErrCardReset
	case scard.ErrNoService, scard.ErrServiceStopped, scard.ErrCommError:
		// 0x80100013 is what a waiting call gets when pcscd dies.
		return ErrNoService
	case scard.ErrNoReadersAvailable:
		return ErrNoReaders
	case scard.ErrReaderUnavailable, scard.ErrUnknownReader:
		return ErrReaderUnavailable
	case scard.ErrUnresponsiveCard, scard.ErrUnpoweredCard, scard.ErrNotTransacted:
		// pcscd answers 0x80100016 when the reader driver failed to exchange the APDU;
		// Conn upgrades it to ErrCardRemoved when the card turns out to be gone.
		return ErrCardUnresponsive
	case scard.ErrUnsupportedCard, scard.ErrCardUnsupported, scard.ErrProtoMismatch, scard.ErrInvalidAtr:
		return ErrCardUnsupported
	case scard.ErrSharingViolation:
		return ErrSharingViolation
	case scard.ErrTimeout:
		return ErrTimeout
	case scard.ErrCancelled, scard.ErrSystemCancelled:
		return ErrCancelled
	}
	return nil
}

// wrapSCard turns an error returned by github.com/ebfe/scard into an *SCardError. Errors that
// are not PC/SC codes are wrapped with the operation name only.
func wrapSCard(op string, err error) error {
	if err == nil {
		return nil
	}
	var code scard.Error
	if !errors.As(err, &code) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return &SCardError{Op: op, Code: uint32(code), Kind: scardKind(code)}
}

// scardText is pcsc-lite's own description of a code, e.g. "Card was removed.".
func scardText(code uint32) string {
	return strings.TrimPrefix(scard.Error(code).Error(), "scard: ")
}
