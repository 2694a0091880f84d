package vcard

import (
	"net"

	"golang.org/x/sys/unix"
)

// setQuickAck turns on TCP_QUICKACK, which Linux clears again after some ACKs, so it is set
// before every read.
func setQuickAck(conn net.Conn) {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_QUICKACK, 1)
	})
}
