// Package pcsc talks to smart cards through PC/SC (pcscd on Linux, winscard on Windows),
// over github.com/ebfe/scard.
//
// # Monitor
//
// A [Monitor] watches every reader with SCardGetStatusChange and no timeout, including reader
// hot-plug through the `\\?PnP?\Notification` pseudo-reader, and delivers [Event] values
// (reader added or removed, card inserted with its ATR, card removed). It starts with a burst
// describing what is present, uses no CPU while nothing changes, stops through SCardCancel on
// its own context, and recovers by itself when pcscd dies or restarts: [ServiceLost], then
// [ServiceRestored] and the changes since, re-established with exponential backoff.
//
// # Cards and transport
//
// [Card] is the raw link to one card: one command APDU in, one response APDU (data plus SW1
// SW2) out. Over PC/SC it is a [Conn] from [Connect] (its own PC/SC context, shared mode,
// T=0 or T=1); tests use the in-process virtual card of smartpath/testing/vcard. [Transport]
// adds what ISO 7816-4 asks of a host on top of any Card: 61xx GET RESPONSE, 6Cxx re-send
// with the right Le, command chaining and extended length, and transactions
// ([Transport.WithTransaction]) when the card is a [Transactor].
//
// # Errors
//
// Status words other than 9000 come back as [*StatusError] values that wrap the typed errors
// of this package ([ErrNotFound], [ErrSecurityStatus], [ErrAuthBlocked], [*WrongPINError], …).
// Failed PC/SC calls come back as [*SCardError] values that wrap [ErrCardRemoved],
// [ErrCardReset], [ErrNoService] and the like, and keep the PC/SC code in their message. Use
// errors.Is and errors.As; a status word never matches a transport error or the reverse.
//
// # Cancellation
//
// Every blocking call takes a context. pcsc-lite cannot interrupt a card exchange in progress,
// so a [Conn] whose context ends mid-call gives up on the call at once and resets the card
// when pcsc-lite returns (see [Conn]).
package pcsc
