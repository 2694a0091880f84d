// Package screens holds the citizen's web screens of the SmartPath kiosk: one plain
// HTML/CSS/JavaScript page, embedded in the binary, that the agent serves on its UI origin
// and the kiosk shell shows full screen.
//
// # What the page does
//
// The page speaks the UI protocol v1 (docs/ui-protocol.md): it reads the per-boot token from
// the address fragment (#token=…), removes it from the address bar, connects to
// ws://<same host>/ws?token=…, renders one screen per `state` message (attract, reading,
// PIN entry, verifying, connecting, session with the trusted bar and the portal frame,
// idle warning, ending, goodbye, errors, out of order, starting) and sends what the citizen
// did (pin, cancel, end_session, activity, language), acting only on trusted input (events
// the browser made, never a script's). On `wipe` it clears its own state and the portal
// frame; the browser around it is replaced by the shell on the agent's order, which no page
// can give. It reconnects with backoff and shows "Starting…" while the agent is away.
//
// The page never decides security: the agent does. The PIN lives only in a JavaScript
// array that is zeroed when it is sent or the state changes; it is never written to the
// DOM, to storage or to a log.
//
// # Serving
//
// [Handler] serves the embedded files with fixed content types and strict security headers
// (a Content-Security-Policy without inline script, nosniff, no referrer, no caching).
// The agent mounts it at "/" next to its own "/ws" endpoint.
//
// # Languages
//
// Every language is one message catalog, assets/i18n/<code>.json; [Languages] lists the
// catalogs found. Adding a language means adding one file.
package screens
