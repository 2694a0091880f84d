// Package uilink is the agent's end of the kiosk UI's control channel: one websocket per UI
// page, speaking the versioned JSON protocol of docs/ui-protocol.md.
//
// # Who may connect
//
// [Server.ServeHTTP] upgrades only requests whose Origin header is exactly the UI origin
// (not "null", not missing, not the portal's) and whose ?token= matches the per-boot token
// from [NewToken], compared in constant time (docs/security.md, invariant 2). Everything else gets 403 and
// a log line that names the reason but never the token.
//
// # Messages
//
// Frames are bounded (a larger one closes the connection with 1009). Incoming messages are
// decoded strictly: a known type, "v": 1, only that type's fields. A bad message is answered
// with an error message and the connection stays. Good ones go to [Options.Handler]; [Dispatch]
// adapts a *session.Machine (or any [Controller]) to it. The PIN arrives as bytes, never as a
// Go string; every buffer it passed through is zeroed, and it is never logged or echoed
// (docs/security.md, invariant 1).
//
// # Writing
//
// Each connection has one writer goroutine fed by a bounded queue. [Server.Broadcast] and
// [Server.SendWipe] never block: a client whose queue is full is dropped (it reconnects and
// gets the whole state again, since every state message is complete).
package uilink
