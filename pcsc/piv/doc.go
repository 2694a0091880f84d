// Package piv is a client for the PIV card application of NIST SP 800-73-4: it selects the
// application, reads certificates, the CHUID and the discovery object, handles the PIN
// (VERIFY with tries left, log out) and signs with a slot's private key as a
// [crypto.Signer].
//
// # Sessions
//
// [Open] selects the application once and returns a [Client] bound to one inserted card.
// A Client serialises everything it sends to the card, so one Client may be shared by
// goroutines; reads of several objects in a row (see [Client.ReadIdentity]) happen inside one
// PC/SC transaction, and no transaction is ever held while waiting for a person.
//
// # PIN
//
// PINs are byte slices the caller owns. [ValidatePIN] checks the format (6–8 digits) before
// anything reaches the card; [Client.VerifyPIN] sends exactly one VERIFY and never retries.
// The padded copy built for the card is zeroed afterwards, and no error or message produced
// by this package ever contains PIN bytes. Status words come back as the typed errors of
// smartpath/pcsc: [pcsc.WrongPINError] with the tries left, [pcsc.ErrAuthBlocked].
//
// # Signing
//
// [Client.Signer] returns a [Signer] for a slot: RSA-2048 with PKCS #1 v1.5 or PSS, both
// padded on the host and sent to the card as a raw RSA operation, or ECDSA with P-256 or
// P-384. Slot 9C needs the PIN right before every signature: give its Signer a [PINPrompt]
// with [Signer.SetPINPrompt], otherwise it returns [ErrPINRequired] without touching the card.
//
// # What the package does not do
//
// Issuing a card (management key authentication, key generation, certificate writing) and
// changing or unblocking a PIN are the issuer's work, not the kiosk's: they live in the
// package's tests (provision_test.go), which use them to prepare and check cards, and are
// not part of the production surface.
package piv
