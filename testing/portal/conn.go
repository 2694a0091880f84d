package portal

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
)

// origin names one of the three listeners.
type origin string

const (
	originPortal origin = "portal"
	originSSO    origin = "sso"
	originStatic origin = "static"
)

// connInfo is what the portal knows about one TCP/TLS connection. It is created at Accept,
// filled in at the end of the handshake, and reached from requests through the context.
type connInfo struct {
	id     uint64
	origin origin
	remote string
	conn   net.Conn // the trackedConn; closing it counts the connection closed

	requests atomic.Int64

	mu        sync.Mutex
	handshook bool
	resumed   bool
	version   uint16
	peer      peerCert
	open      bool

	verifyOnce sync.Once
	citizen    *Citizen
	refusal    *Refusal
}

// peerCert is the identifying part of a client certificate, safe to log in a test portal.
type peerCert struct {
	CN         string
	SerialHash string
}

type connCtxKey struct{}

func connFrom(ctx context.Context) *connInfo {
	ci, _ := ctx.Value(connCtxKey{}).(*connInfo)
	return ci
}

// trackedConn lets the TLS layer and the HTTP server find the connInfo of a raw connection,
// and counts the connection closed exactly once.
type trackedConn struct {
	net.Conn
	info      *connInfo
	closeOnce sync.Once
	onClose   func(*connInfo)
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() { c.onClose(c.info) })
	return err
}

// trackingListener wraps accepted connections in TLS with the origin's config and registers
// them with the server's registry.
type trackingListener struct {
	net.Listener
	origin origin
	tls    *tls.Config
	reg    *registry
}

func (l *trackingListener) Accept() (net.Conn, error) {
	raw, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return tls.Server(l.reg.opened(l.origin, raw), l.tls), nil
}

// connOf finds the connInfo behind a *tls.Conn made by a trackingListener.
func connOf(c net.Conn) *connInfo {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if t, ok := c.(*trackedConn); ok {
		return t.info
	}
	return nil
}
