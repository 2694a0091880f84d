// Package agent wires kiosk-agent together: the PC/SC reader monitor and the citizen's card
// (smartpath/pcsc, smartpath/pcsc/piv), the session state machine (agent/session), the portal
// proxy (agent/proxy), the kiosk UI's origin and websocket (kiosk-ui/screens, agent/uilink)
// and health and metrics (agent/telemetry).
//
// The logic lives in those packages; this one only adapts them to each other's small
// interfaces and owns their goroutines: [Agent.Run] starts everything and returns when all
// of it has stopped.
//
// Every long-lived part has one lifecycle: New builds it and binds nothing it cannot
// release, Run(ctx) is its lifetime and returns once its goroutines have. [New] builds the
// session machine first (the card adapter and the portal opener are its dependencies), then
// the UI and shell links, which feed it; the machine answers them through the
// session.Links given to its Run, so no part is built around a variable assigned later.
// Run stops the machine first (its shutdown wipe and goodbye still reach the UI), then the
// links and the reader monitor, then the HTTP servers. The card → portal path is explicit
// in the types: the card adapter's Verify returns the session.Credential the portal opener
// needs, and each adapter classifies its own errors once into the citizen's error code.
package agent
