//go:build !linux

package vcard

import "net"

// setQuickAck does nothing where TCP_QUICKACK does not exist; APDUs are then slower by the
// peer's delayed ACK, not wrong.
func setQuickAck(net.Conn) {}
