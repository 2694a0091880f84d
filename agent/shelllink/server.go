package shelllink

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Events receive what happens on the channel; *session.Machine implements it. The calls for
// one connection come in order: ShellConnected, any ShellWiped, ShellLost.
type Events interface {
	ShellConnected(conn uint64)
	ShellLost(conn uint64)
	ShellWiped(conn, gen uint64)
}

// Options configure a Server. Token and Events are required.
type Options struct {
	Token  string // the UI token of this boot: the shell reads it from ui.url_file
	Events Events
	Logger *slog.Logger
	// OnConfirmed, if set, gets the time from each wipe order to its confirmation.
	OnConfirmed func(time.Duration)
}

// Server serves the shell's channel. It implements session.Shell.
type Server struct {
	opts     Options
	log      *slog.Logger
	upgrader websocket.Upgrader
	handlers sync.WaitGroup

	mu     sync.Mutex
	cur    *conn
	nextID uint64
	closed bool
}

// New makes a Server. It panics without a Token or Events: a wiring bug, and an empty
// token would let any local process act as the shell.
func New(opts Options) *Server {
	if opts.Token == "" || opts.Events == nil {
		panic("shelllink: Options.Token and Options.Events are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, log: opts.Logger}
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: 5 * time.Second,
		ReadBufferSize:   MaxMessage * 2,
		WriteBufferSize:  MaxMessage * 2,
		// Checked in ServeHTTP before the upgrade; repeated here so that no path can skip it.
		CheckOrigin: func(r *http.Request) bool { return len(r.Header.Values("Origin")) == 0 },
	}
	return s
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Values("Authorization")
	if len(h) != 1 {
		return false
	}
	tok, ok := strings.CutPrefix(h[0], "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.Token)) == 1
}

// ServeHTTP upgrades the shell's request and serves the connection until either side
// closes it. Mount it at Path on the UI listener.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if len(r.Header.Values("Origin")) != 0 {
		// A browser: the shell's channel is never for a page.
		s.log.Warn("shelllink: refused a connection from a web page (it sent an Origin)", "remote", r.RemoteAddr)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	if !s.authorized(r) {
		s.log.Warn("shelllink: refused a connection with a missing or wrong token", "remote", r.RemoteAddr)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	s.handlers.Add(1)
	s.mu.Unlock()
	defer s.handlers.Done()

	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.log.Info("shelllink: upgrade failed", "err", err)
		return
	}
	ws.SetReadLimit(MaxMessage)
	c := &conn{s: s, ws: ws, out: make(chan []byte, 8), done: make(chan struct{}), sent: map[uint64]time.Time{}}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.Close()
		return
	}
	s.nextID++
	c.id = s.nextID
	old := s.cur
	s.cur = c
	s.mu.Unlock()
	if old != nil {
		s.log.Info("shelllink: a new shell replaces the connected one")
		old.kill()
	}
	s.log.Info("shelllink: kiosk shell connected", "conn", c.id)
	s.opts.Events.ShellConnected(c.id)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.writeLoop()
	}()
	c.readLoop()
	c.kill()
	wg.Wait()
	ws.Close()

	s.mu.Lock()
	if s.cur == c {
		s.cur = nil
	}
	s.mu.Unlock()
	s.log.Info("shelllink: kiosk shell disconnected", "conn", c.id)
	s.opts.Events.ShellLost(c.id)
}

func (s *Server) current(id uint64) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil && s.cur.id == id {
		return s.cur
	}
	return nil
}

// OrderWipe queues a wipe order gen for connection conn; an order for a connection that is
// gone is dropped (the machine's timer handles the missing confirmation).
func (s *Server) OrderWipe(conn, gen uint64) {
	c := s.current(conn)
	if c == nil {
		return
	}
	c.mu.Lock()
	c.sent[gen] = time.Now()
	c.mu.Unlock()
	c.send(encode(TypeWipe, gen))
}

// Drop closes connection conn.
func (s *Server) Drop(conn uint64) {
	if c := s.current(conn); c != nil {
		s.log.Warn("shelllink: dropping the kiosk shell's connection: it did not confirm in time", "conn", conn)
		c.kill()
	}
}

// Run is the server's lifetime: it answers the shell (through ServeHTTP) from New on, and
// when ctx ends Run ends the connection, refuses new ones, and returns once every handler
// has.
func (s *Server) Run(ctx context.Context) error {
	<-ctx.Done()
	s.close()
	return nil
}

func (s *Server) close() {
	s.mu.Lock()
	s.closed = true
	c := s.cur
	s.mu.Unlock()
	if c != nil {
		c.kill()
	}
	s.handlers.Wait()
}

type conn struct {
	s    *Server
	id   uint64
	ws   *websocket.Conn
	out  chan []byte
	done chan struct{}
	once sync.Once

	mu   sync.Mutex
	sent map[uint64]time.Time // wipe orders not yet confirmed
}

func (c *conn) kill() {
	c.once.Do(func() {
		close(c.done)
		c.ws.NetConn().Close()
	})
}

func (c *conn) send(b []byte) {
	select {
	case c.out <- b:
	case <-c.done:
	default:
		c.s.log.Warn("shelllink: the kiosk shell does not read its orders; dropping its connection")
		c.kill()
	}
}

func (c *conn) writeLoop() {
	ping := time.NewTicker(PingInterval)
	defer ping.Stop()
	for {
		select {
		case b := <-c.out:
			c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
			if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
				c.kill()
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout)); err != nil {
				c.kill()
				return
			}
		case <-c.done:
			return
		}
	}
}

func (c *conn) readLoop() {
	c.ws.SetReadDeadline(time.Now().Add(ReadTimeout))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(ReadTimeout)) })
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(ReadTimeout))
		if typ != websocket.TextMessage {
			c.s.log.Warn("shelllink: binary frame from the shell; closing", "conn", c.id)
			return
		}
		m, err := decode(data)
		if err != nil || m.Type != TypeWiped {
			if err == nil {
				err = errMisdirected
			}
			c.s.log.Warn("shelllink: ignored a bad message from the shell", "conn", c.id, "err", err)
			continue
		}
		c.mu.Lock()
		at, ok := c.sent[m.ID]
		delete(c.sent, m.ID)
		c.mu.Unlock()
		if !ok {
			c.s.log.Warn("shelllink: the shell confirmed an order it was never sent", "conn", c.id)
			continue
		}
		d := time.Since(at)
		c.s.log.Info("shelllink: the shell confirmed a fresh browser", "conn", c.id, "took", d)
		if c.s.opts.OnConfirmed != nil {
			c.s.opts.OnConfirmed(d)
		}
		c.s.opts.Events.ShellWiped(c.id, m.ID)
	}
}

var errMisdirected = errors.New("a wipe order sent to the agent")
