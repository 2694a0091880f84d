// Package shelllink is the kiosk shell's own channel to the agent: the agent orders the shell
// (kiosk-ui) to throw its browser away and show the UI in a fresh one, and the shell
// confirms. No web page takes part: the trusted UI page and the portal frame never see this
// channel, and the shell exposes nothing native to any page (docs/security.md, invariant 2).
//
// # Protocol (version 1)
//
// The shell dials ws://<ui listen address>/shell (the UI origin's host and port) with the
// header "Authorization: Bearer <token>", where the token is the one in the start URL the
// agent writes to ui.url_file. The upgrade is refused (403) when the request carries an
// Origin header: every browser sends one on a websocket upgrade, so no page, whatever its
// origin, can open this channel, even one that learnt the token. One shell is connected at a
// time; a new connection replaces the old one (a restarted shell need not wait for the
// old connection to time out).
//
// Every message is one JSON text frame of at most [MaxMessage] bytes with exactly the
// fields v, type and id:
//
//	agent → shell  {"v":1,"type":"wipe","id":7}    destroy the browser, show the UI in a fresh one
//	shell → agent  {"v":1,"type":"wiped","id":7}   done: the old one is gone, the new one shows the UI
//
// The agent sends a wipe order to every shell that connects and at the end of every visit;
// it reads no card until the order is confirmed (package session, Config.RequireShell). A
// message of any other shape is logged and ignored; a larger one, or a binary frame, closes
// the connection. Both sides ping; a peer silent for [ReadTimeout] is dropped.
package shelllink
