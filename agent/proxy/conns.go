package proxy

import (
	"net"
	"sync"
)

// connSet tracks open connections so that Close can cut them all, including connections the
// HTTP server no longer tracks (hijacked websockets) and active upstream connections.
type connSet struct {
	mu     sync.Mutex
	m      map[*trackedConn]struct{}
	closed bool
}

func newConnSet() *connSet { return &connSet{m: map[*trackedConn]struct{}{}} }

type trackedConn struct {
	net.Conn
	set     *connSet
	once    sync.Once
	onClose func() // set before the connection is shared; run once on Close
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.set.mu.Lock()
		delete(c.set.m, c)
		c.set.mu.Unlock()
		if c.onClose != nil {
			c.onClose()
		}
	})
	return err
}

// add tracks c; after closeAll it closes c and returns false.
func (s *connSet) add(c net.Conn) (*trackedConn, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return nil, false
	}
	t := &trackedConn{Conn: c, set: s}
	s.m[t] = struct{}{}
	return t, true
}

func (s *connSet) closeAll() {
	s.mu.Lock()
	s.closed = true
	conns := make([]*trackedConn, 0, len(s.m))
	for c := range s.m {
		conns = append(conns, c)
	}
	s.m = map[*trackedConn]struct{}{}
	s.mu.Unlock()
	for _, c := range conns {
		c.Conn.Close()
	}
}

func (s *connSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// trackingListener adds every accepted connection to a connSet.
type trackingListener struct {
	net.Listener
	set *connSet
}

func (l trackingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if t, ok := l.set.add(c); ok {
			return t, nil
		}
	}
}
