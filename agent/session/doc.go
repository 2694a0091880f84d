// Package session is the citizen's session: a pure state machine and the driver that runs it.
//
// # The state machine
//
// decide computes the next [State] and the effect values to carry out from the current
// state and one [Input]. It does no I/O and never reads the clock: times arrive inside inputs.
// The phases are those of docs/ui-protocol.md:
//
//	starting ─▶ idle ─card in─▶ reading ─▶ pin ─PIN─▶ verifying ─ok─▶ connecting ─▶ session
//	               ▲                        ▲ wrong │ blocked            │ failed      │
//	               │                        └───────┤                    ▼             ▼
//	               │                                └──────────────▶  error        ending
//	               └──── card removed (from any phase) ◀── goodbye ◀───────────────────┘
//
// The security invariants of docs/security.md (1 and 5) are enforced here, where a table
// test can check them:
//
//   - One PIN submission yields at most one verifyPIN effect, only in phase pin; a PIN
//     submitted in any other phase is ignored, and no error path verifies on its own.
//   - The PIN itself is never in a State or an Input: a pinSubmitted input carries only a
//     handle; the driver holds the bytes and zeroes them after the VERIFY.
//   - Every way out of a session (card removed, idle timeout after its warning, End session,
//     maximum length, reader or PC/SC lost, shutdown) emits the same wipe effect.
//   - Removing the card leads to idle (with a Wipe wherever citizen data may exist); the
//     goodbye screen is skipped when the card is already out.
//
// Asynchronous operations (readCard, verifyPIN, connect) carry an operation number;
// their results are ignored unless they carry the current one, so a late answer about a card
// that has since been removed changes nothing. Timers likewise carry a generation.
//
// # The driver
//
// A [Machine] owns one goroutine that feeds inputs to decide and carries out the effects with
// its [Deps] (the [Card] and the [Portal]) and answers the [Links] given to Run (the [UI] and
// the [Shell]). The card path is explicit in
// the types: [Card.Verify] answers the PIN with a [PINAnswer], whose [Credential] (the card's
// certificate and key, given only for an accepted PIN) is what [Portal.Open] takes, and
// [Card.Logout] ends it. The adapters classify their own errors once, with [Fail], into the
// [ErrorCode] the citizen is shown.
package session
