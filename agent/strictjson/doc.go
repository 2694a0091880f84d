// Package strictjson holds the rule both of the agent's websocket channels (the UI's and
// the shell's) apply to a message before trusting it: a JSON object that names a field
// twice is refused, because encoding/json keeps the last value and two readers of one
// message must never disagree (docs/security.md, invariant 7).
//
// It finds the top-level keys without copying any value, so a PIN in a message is never
// copied into memory that cannot be zeroed.
package strictjson
