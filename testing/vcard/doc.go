// Package vcard is a virtual PIV smart card (NIST SP 800-73-4) for tests, benchmarks and
// demos: an independent implementation of the card side, never linked into the kiosk.
//
// A [Card] answers command APDUs like a real PIV card with Yubico extensions: SELECT with
// the application property template; GET DATA and PUT DATA for the CHUID, CCC, discovery,
// printed information and certificate objects (Le honoured, long answers in 61xx chains for
// GET RESPONSE); VERIFY, CHANGE REFERENCE DATA and RESET RETRY COUNTER with real retry
// counters; GENERAL AUTHENTICATE with RSA-2048, P-256 and P-384 keys and the 9B management
// key (3DES or AES); GENERATE ASYMMETRIC KEY PAIR; command chaining; and the Yubico version,
// serial and metadata commands that tools such as yubico-piv-tool expect.
//
// # Use
//
// In process, [Card.Transmit] is the raw link of smartpath/pcsc.Card. Through the real
// pcscd, [Insert] connects the card to the vpcd reader driver as long as its context lives,
// and [Serve] keeps it inserted across pcscd restarts. [NewCitizenCard] makes a personalised
// card with certificates from smartpath/testing/pki; [Card.Save] and [Load] keep a card in a
// CARD.json file (the kiosk-vcard command works on those).
//
// # Security status
//
// Keys in 9A and 9D need the PIN verified in the current card session, 9C needs a VERIFY
// immediately before each use (PIN-always), 9E needs none. The management key must be
// authenticated before PUT DATA and GENERATE. [Card.Reset] (a power cycle, or power off/on
// from vpcd) clears the security status, and so does SELECT, as on a YubiKey (which
// yubico-piv-tool relies on to read the PIN tries left). PIV is the default-selected application unless
// Options.RequireSelect is set.
//
// # Faults
//
// [Card.SetEmulation] adds latency per APDU and per private-key operation, and faults: drop
// the card at the Nth APDU, never answer, answer garbage, answer slowly.
package vcard
