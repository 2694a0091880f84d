package pcsc

import "context"

// Card is the raw link to one card: a whole command APDU in, the whole response APDU
// (data followed by SW1 SW2) out. It does no GET RESPONSE or chaining of its own.
// Transmit must not keep apdu, or use it after it returns: callers zero APDUs that carry
// secrets as soon as Transmit returns.
type Card interface {
	Transmit(ctx context.Context, apdu []byte) ([]byte, error)
}

// Transactor is implemented by cards that can hold an exclusive transaction across several
// APDUs (SCardBeginTransaction). Transactions are only held around multi-APDU operations,
// never while waiting for a person.
type Transactor interface {
	BeginTransaction(ctx context.Context) error
	EndTransaction() error
}
