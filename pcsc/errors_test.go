package pcsc

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ebfe/scard"
)

func TestCheckSW(t *testing.T) {
	tests := []struct {
		sw      uint16
		want    error // nil: no sentinel
		retries int   // for WrongPINError, else ignored
	}{
		{0x6A82, ErrNotFound, 0},
		{0x6A88, ErrReferenceNotFound, 0},
		{0x6982, ErrSecurityStatus, 0},
		{0x6983, ErrAuthBlocked, 0},
		{0x6984, ErrDataInvalid, 0},
		{0x6985, ErrConditionsNotSatisfied, 0},
		{0x6986, ErrCommandNotAllowed, 0},
		{0x6900, ErrCommandNotAllowed, 0},
		{0x6A80, ErrWrongData, 0},
		{0x6A81, ErrFunctionNotSupported, 0},
		{0x6A86, ErrIncorrectP1P2, 0},
		{0x6B00, ErrIncorrectP1P2, 0},
		{0x6700, ErrWrongLength, 0},
		{0x6A87, ErrWrongLength, 0},
		{0x6C10, ErrWrongLength, 0},
		{0x6D00, ErrINSNotSupported, 0},
		{0x6E00, ErrCLANotSupported, 0},
		{0x6881, ErrCLANotSupported, 0},
		{0x6882, ErrCLANotSupported, 0},
		{0x6883, ErrChainingNotSupported, 0},
		{0x6884, ErrChainingNotSupported, 0},
		{0x6581, ErrMemory, 0},
		{0x6A84, ErrMemory, 0},
		{0x6F00, ErrCardFailure, 0},
		{0x6282, ErrWarning, 0},
		{0x63C3, ErrWrongPIN, 3},
		{0x63CF, ErrWrongPIN, 15},
		{0x63C1, ErrWrongPIN, 1},
		{0x63C0, ErrWrongPIN, 0},
		{0x6302, ErrWrongPIN, 2}, // older cards
		{0x630F, ErrWrongPIN, 15},
		{0x6300, ErrWrongPIN, -1}, // failed, counter unknown
		{0x6381, ErrWarning, 0},
		{0x6400, nil, 0},
		{0x9001, nil, 0},
	}
	if err := CheckSW(0x9000); err != nil {
		t.Fatalf("CheckSW(9000) = %v", err)
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%04X", tt.sw), func(t *testing.T) {
			err := CheckSW(tt.sw)
			var se *StatusError
			if !errors.As(err, &se) || se.SW != tt.sw {
				t.Fatalf("CheckSW = %#v, want *StatusError{%04X}", err, tt.sw)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%04X", tt.sw)) {
				t.Errorf("message %q lacks the status word", err)
			}
			if tt.want == nil {
				if errors.Unwrap(err) != nil {
					t.Errorf("Unwrap = %v, want nil", errors.Unwrap(err))
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.want)
			}
			var wp *WrongPINError
			if isPIN := errors.As(err, &wp); isPIN != (tt.want == ErrWrongPIN) {
				t.Fatalf("errors.As(*WrongPINError) = %v", isPIN)
			}
			if wp != nil {
				if wp.Retries != tt.retries {
					t.Errorf("Retries = %d, want %d", wp.Retries, tt.retries)
				}
				if blocked := errors.Is(err, ErrAuthBlocked); blocked != (tt.retries == 0) {
					t.Errorf("errors.Is(ErrAuthBlocked) = %v with %d retries", blocked, tt.retries)
				}
			}
			// Status words never look like transport failures.
			for _, transport := range []error{ErrCardRemoved, ErrNoService, ErrCardReset} {
				if errors.Is(err, transport) {
					t.Errorf("status word matches %v", transport)
				}
			}
		})
	}
}

func TestWrapSCard(t *testing.T) {
	tests := []struct {
		code scard.Error
		want error
	}{
		{scard.ErrRemovedCard, ErrCardRemoved},
		{scard.ErrNoSmartcard, ErrCardRemoved},
		{scard.ErrResetCard, ErrCardReset},
		{scard.ErrNoService, ErrNoService},
		{scard.ErrServiceStopped, ErrNoService},
		{scard.ErrCommError, ErrNoService},
		{scard.ErrNoReadersAvailable, ErrNoReaders},
		{scard.ErrReaderUnavailable, ErrReaderUnavailable},
		{scard.ErrUnknownReader, ErrReaderUnavailable},
		{scard.ErrUnresponsiveCard, ErrCardUnresponsive},
		{scard.ErrUnpoweredCard, ErrCardUnresponsive},
		{scard.ErrNotTransacted, ErrCardUnresponsive},
		{scard.ErrUnsupportedCard, ErrCardUnsupported},
		{scard.ErrProtoMismatch, ErrCardUnsupported},
		{scard.ErrSharingViolation, ErrSharingViolation},
		{scard.ErrTimeout, ErrTimeout},
		{scard.ErrCancelled, ErrCancelled},
		{scard.ErrInternalError, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%08X", uint32(tt.code)), func(t *testing.T) {
			err := wrapSCard("SCardTransmit", tt.code)
			var se *SCardError
			if !errors.As(err, &se) || se.Code != uint32(tt.code) {
				t.Fatalf("wrapSCard = %#v", err)
			}
			if !errors.Is(err, tt.code) {
				t.Errorf("original scard code lost: errors.Is(%v, %v) = false", err, tt.code)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, fmt.Sprintf("0x%08X", uint32(tt.code))) || !strings.HasPrefix(msg, "SCardTransmit: ") {
				t.Errorf("message %q lacks the operation or the code", msg)
			}
			var st *StatusError
			if errors.As(err, &st) {
				t.Errorf("transport error looks like a status word")
			}
		})
	}
	if wrapSCard("x", nil) != nil {
		t.Error("wrapSCard(nil) != nil")
	}
	plain := errors.New("boom")
	if err := wrapSCard("SCardConnect", plain); !errors.Is(err, plain) {
		t.Errorf("non-PC/SC error not wrapped: %v", err)
	}
}
