// Package pcsc talks to smart cards through PC/SC (pcscd on Linux, winscard on Windows).
//
// # Monitor
//
// A [Monitor] watches every reader with GetStatusChange, including reader hot-plug through
// the `\\?PnP?\Notification` pseudo-reader, and delivers [Event] values (reader added or
// removed, card inserted with its ATR, card removed). It recovers by itself when pcscd dies or
// restarts.
//
// # Cards and transport
//
// [Card] is the raw link to one card: one command APDU in, one response APDU (data plus SW1
// SW2) out. Over PC/SC it is a [Conn]; tests use the in-process virtual card of
// smartpath/testing/vcard. [Transport] adds what ISO 7816-4 asks of a host on top of any Card:
// 61xx GET RESPONSE, 6Cxx re-send with the right Le, command chaining and extended length.
// Status words other than 9000 come back as [*StatusError] values that wrap the typed errors of
// this package (errors.Is / errors.As).
package pcsc
