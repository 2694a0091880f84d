// Package kiosktest runs a whole kiosk for end-to-end tests: a private pcscd with the vpcd
// readers (testing/pcscdtest), the test PKI, the demo council portal, kiosk-agent in
// process, virtual citizen cards inserted through the real pcscd, and a websocket client
// that plays the kiosk UI.
//
// Tests that use it carry the integration build tag and run under
// testing/scripts/isolated.sh (make test-integration).
package kiosktest
