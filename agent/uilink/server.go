package uilink

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"smartpath/agent/session"
)

// Options configure a Server. Origin and Token are required.
type Options struct {
	// Origin is the exact UI origin, e.g. "http://127.0.0.1:8470".
	Origin string
	// Token is the per-boot token (NewToken) the UI passes as ?token=.
	Token string
	// MaxMessage bounds one incoming message in bytes (default 4096); a larger one closes
	// the connection with 1009 (message too big).
	MaxMessage int
	// Logger gets connection events; message bodies of type pin are never logged.
	Logger *slog.Logger
	// Handler receives each valid message, in order, on the connection's goroutine. The ctx
	// ends when the connection closes. Message.PIN is zeroed when Handler returns.
	Handler func(ctx context.Context, m Message)
	// OnConnections, if set, is called with the number of open connections when it changes.
	OnConnections func(n int)
	// MaxConnections bounds simultaneous UI connections (default 8).
	MaxConnections int
	// QueueSize is each connection's outgoing queue (default 32 messages).
	QueueSize int
	// PingInterval is the keepalive period (default 20s); a client that answers no ping for
	// two periods is dropped.
	PingInterval time.Duration
	// WriteTimeout bounds one write (default 5s).
	WriteTimeout time.Duration
	// MessageTimeout bounds how long a client may take to finish a message it has begun
	// (default 5s): a fragmented message that never ends would hold the connection open.
	MessageTimeout time.Duration
}

// Close codes the agent sends besides the standard ones (docs/ui-protocol.md).
const (
	// CloseTooSlow: the client fell a whole queue behind; it should reconnect and gets the
	// whole state again.
	CloseTooSlow = 4000
	// CloseMessageTimeout: a message was begun and not finished within MessageTimeout.
	CloseMessageTimeout = 4001
)

// Server is the control channel's websocket endpoint. It implements session.UI.
type Server struct {
	opts     Options
	log      *slog.Logger
	upgrader websocket.Upgrader
	ctx      context.Context
	cancel   context.CancelFunc
	handlers sync.WaitGroup

	mu    sync.Mutex
	conns map[*conn]struct{}
	// admitted counts the connections ServeHTTP has let past the bound and not yet finished.
	admitted int
	seq      uint64
	last     []byte // the latest state message, sent to every new connection
	closed   bool
}

var _ session.UI = (*Server)(nil)

// New makes a Server. It panics if Origin or Token is empty: that is a wiring bug, and an
// empty token would let anything connect.
func New(opts Options) *Server {
	if opts.Origin == "" || opts.Token == "" {
		panic("uilink: Options.Origin and Options.Token are required")
	}
	if opts.MaxMessage <= 0 {
		opts.MaxMessage = 4096
	}
	if opts.MaxConnections <= 0 {
		opts.MaxConnections = 8
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 32
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = 20 * time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 5 * time.Second
	}
	if opts.MessageTimeout <= 0 {
		opts.MessageTimeout = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Handler == nil {
		opts.Handler = func(context.Context, Message) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{opts: opts, log: opts.Logger, ctx: ctx, cancel: cancel, conns: map[*conn]struct{}{}}
	s.upgrader = websocket.Upgrader{
		ReadBufferSize:  1024,
		WriteBufferSize: 4096,
		// ServeHTTP has checked the origin already; this repeats it so that the upgrader can
		// never be reached without it.
		CheckOrigin: s.originOK,
	}
	s.last = s.encodeState(session.State{Phase: session.PhaseStarting})
	return s
}

func (s *Server) originOK(r *http.Request) bool {
	o := r.Header.Values("Origin")
	return len(o) == 1 && o[0] == s.opts.Origin
}

func (s *Server) tokenOK(r *http.Request) bool {
	t := r.URL.Query()["token"]
	return len(t) == 1 && subtle.ConstantTimeCompare([]byte(t[0]), []byte(s.opts.Token)) == 1
}

// ServeHTTP upgrades an allowed request to the control channel and serves it until either
// side closes. Mount it at /ws on the UI listener.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.originOK(r) {
		origin := r.Header.Get("Origin")
		if len(origin) > 100 {
			origin = origin[:100] + "…"
		}
		s.log.Warn("uilink: refused a connection from another origin", "origin", origin, "remote", r.RemoteAddr)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	if !s.tokenOK(r) {
		s.log.Warn("uilink: refused a connection with a missing or wrong token", "remote", r.RemoteAddr)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	s.mu.Lock()
	// admitted counts connections from here on, upgrades in progress included, so that
	// simultaneous dials cannot pass the bound together.
	if open := s.admitted; s.closed || open >= s.opts.MaxConnections {
		s.mu.Unlock()
		s.log.Warn("uilink: refused a connection: closed or too many", "open", open)
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	s.admitted++
	s.handlers.Add(1)
	s.mu.Unlock()
	defer s.handlers.Done()
	defer func() {
		s.mu.Lock()
		s.admitted--
		s.mu.Unlock()
	}()

	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.log.Info("uilink: upgrade failed", "err", err) // the upgrader has answered already
		return
	}
	c := &conn{s: s, ws: ws, out: make(chan []byte, s.opts.QueueSize), done: make(chan struct{}),
		flush: make(chan struct{})}
	ws.SetReadLimit(int64(s.opts.MaxMessage))
	if !s.add(c) {
		ws.Close()
		return
	}
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()
	c.readLoop(r.Context())
	c.kill()
	<-writerDone
	ws.Close()
	s.remove(c)
}

// add registers c and queues the current state for it.
func (s *Server) add(c *conn) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	s.conns[c] = struct{}{}
	c.out <- s.last // fresh queue: cannot block
	n := len(s.conns)
	s.mu.Unlock()
	s.log.Info("uilink: UI connected", "open", n)
	s.notify(n)
	return true
}

func (s *Server) remove(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	n := len(s.conns)
	s.mu.Unlock()
	s.log.Info("uilink: UI disconnected", "open", n)
	s.notify(n)
}

func (s *Server) notify(n int) {
	if s.opts.OnConnections != nil {
		s.opts.OnConnections(n)
	}
}

// Broadcast sends the state to every connected UI, and to every UI that connects later. It
// never blocks.
func (s *Server) Broadcast(st session.State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = s.encodeState(st)
	s.fanOut(s.last)
}

// SendWipe tells every connected UI to clear its website data now.
func (s *Server) SendWipe() {
	b, _ := json.Marshal(simpleMsg{V: Version, Type: "wipe"})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fanOut(b)
}

// encodeState numbers and encodes a state message; s.mu is held (or s is new).
func (s *Server) encodeState(st session.State) []byte {
	s.seq++
	b, err := json.Marshal(stateMessage(st, s.seq))
	if err != nil { // cannot happen: plain structs
		panic(err)
	}
	return b
}

func (s *Server) fanOut(b []byte) {
	for c := range s.conns {
		c.send(b)
	}
}

// Connections is the number of open UI connections.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// closeFlush bounds how long Close lets a connection write what it still has queued.
const closeFlush = time.Second

// Run is the server's lifetime: it answers connections (through ServeHTTP) from New on, and
// when ctx ends Run refuses new connections, lets every connection write what is already
// queued (the shutdown's wipe and goodbye above all) within a short bound, closes it with
// 1001 going away, and returns once the connections' goroutines have.
func (s *Server) Run(ctx context.Context) error {
	<-ctx.Done()
	s.close()
	return nil
}

func (s *Server) close() {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.closeAfterFlush()
	}
	s.mu.Unlock()
	s.cancel()
	s.handlers.Wait()
}

// conn is one UI connection: the reader runs on ServeHTTP's goroutine, the writer on its own.
type conn struct {
	s    *Server
	ws   *websocket.Conn
	out  chan []byte
	done chan struct{}
	once sync.Once
	// flush, closed by closeAfterFlush, tells the writer to write what is queued and close.
	flush     chan struct{}
	flushOnce sync.Once
	slowOnce  sync.Once // the drop for a full queue, once
}

// closeAfterFlush makes the writer send what is queued, then a close frame, then end the
// connection (Server.Close).
func (c *conn) closeAfterFlush() {
	c.flushOnce.Do(func() { close(c.flush) })
}

// kill ends the connection from any goroutine: it stops the writer and unblocks the reader.
func (c *conn) kill() {
	c.once.Do(func() {
		close(c.done)
		c.ws.NetConn().Close()
	})
}

// slowCloseWait bounds how long send waits to put CloseTooSlow on the wire (the writer may
// hold the connection, blocked on the slow client) before it drops the connection anyway.
const slowCloseWait = 50 * time.Millisecond

// send queues b; a client whose queue is full is dropped at once, with CloseTooSlow if the
// close frame can be written within slowCloseWait.
func (c *conn) send(b []byte) {
	select {
	case c.out <- b:
	case <-c.done:
	default:
		c.slowOnce.Do(func() {
			c.s.log.Warn("uilink: UI too slow to keep up; dropping its connection")
			c.ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(CloseTooSlow, "too slow to keep up; reconnect"), time.Now().Add(slowCloseWait))
			c.kill()
		})
	}
}

func (c *conn) writeLoop() {
	ping := time.NewTicker(c.s.opts.PingInterval)
	defer ping.Stop()
	for {
		select {
		case b := <-c.out:
			c.ws.SetWriteDeadline(time.Now().Add(c.s.opts.WriteTimeout))
			if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					c.s.log.Warn("uilink: UI too slow to keep up (write timed out); dropping its connection")
				}
				c.kill()
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.s.opts.WriteTimeout)); err != nil {
				c.kill()
				return
			}
		case <-c.flush:
			c.flushAndClose()
			return
		case <-c.done:
			return
		}
	}
}

// flushAndClose writes the queued messages and a 1001 close frame within closeFlush, then
// ends the connection.
func (c *conn) flushAndClose() {
	defer c.kill()
	deadline := time.Now().Add(min(closeFlush, c.s.opts.WriteTimeout))
	c.ws.SetWriteDeadline(deadline)
	for {
		select {
		case b := <-c.out:
			if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
				return
			}
			continue
		default:
		}
		break
	}
	c.ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseGoingAway, "the kiosk agent is stopping"), deadline)
}

// closeWith sends a close frame with code, within WriteTimeout, and ends the connection.
func (c *conn) closeWith(code int, text string) {
	c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text),
		time.Now().Add(c.s.opts.WriteTimeout))
	c.kill()
}

func (c *conn) readLoop(reqCtx context.Context) {
	ctx, cancel := context.WithCancel(c.s.ctx)
	defer cancel()
	stop := context.AfterFunc(reqCtx, cancel)
	defer stop()
	wait := 2 * c.s.opts.PingInterval
	c.ws.SetReadDeadline(time.Now().Add(wait))
	inMessage := false // the pong handler runs on this goroutine, inside the reads below
	c.ws.SetPongHandler(func(string) error {
		if inMessage {
			return nil // a pong does not extend the time to finish a message
		}
		return c.ws.SetReadDeadline(time.Now().Add(wait))
	})
	buf := make([]byte, c.s.opts.MaxMessage)
	defer clear(buf)
	for {
		typ, r, err := c.ws.NextReader()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.tooLarge()
			}
			return
		}
		inMessage = true
		c.ws.SetReadDeadline(time.Now().Add(c.s.opts.MessageTimeout))
		n, err := io.ReadFull(r, buf)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			clear(buf[:n])
			var ne net.Error
			switch {
			case errors.Is(err, websocket.ErrReadLimit):
				c.tooLarge()
			case errors.As(err, &ne) && ne.Timeout():
				c.s.log.Warn("uilink: UI message not finished in time; connection closed", "limit", c.s.opts.MessageTimeout)
				c.closeWith(CloseMessageTimeout, "message not finished in time")
			}
			return
		}
		inMessage = false
		c.ws.SetReadDeadline(time.Now().Add(wait))
		if n == len(buf) {
			// Full: the message may go on in a further frame, which the read limit refuses.
			var one [1]byte
			k, err := r.Read(one[:])
			clear(one[:])
			if err != io.EOF || k > 0 {
				clear(buf)
				if !errors.Is(err, websocket.ErrReadLimit) {
					c.ws.WriteControl(websocket.CloseMessage,
						websocket.FormatCloseMessage(websocket.CloseMessageTooBig, ""), time.Now().Add(time.Second))
				}
				c.tooLarge()
				return
			}
		}
		if typ != websocket.TextMessage {
			clear(buf[:n])
			c.replyError("binary frames are not accepted")
			continue
		}
		msg, derr := decode(buf[:n])
		clear(buf[:n])
		if derr != nil {
			c.s.log.Info("uilink: refused a UI message", "reason", derr.(*badMessage).Detail)
			c.replyError(derr.(*badMessage).Detail)
			continue
		}
		c.s.log.Debug("uilink: UI message", "type", msg.Type)
		c.s.opts.Handler(ctx, msg)
		clear(msg.PIN)
	}
}

// tooLarge follows the 1009 close frame gorilla has sent: it reads and discards what the
// client still sends for a moment, so that closing the socket with unread data does not reset
// the connection before the client has seen the close frame.
func (c *conn) tooLarge() {
	c.s.log.Warn("uilink: UI message too large; connection closed (1009)", "limit", c.s.opts.MaxMessage)
	nc := c.ws.NetConn()
	nc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	io.Copy(io.Discard, io.LimitReader(nc, 1<<20))
}

// replyError answers a bad message. Replies take at most half the queue and are left out
// beyond it: a client that sends bad messages faster than it reads the answers is not
// dropped for it, and the state messages always have room.
func (c *conn) replyError(detail string) {
	if len(c.out) >= cap(c.out)/2 {
		return
	}
	b, _ := json.Marshal(simpleMsg{V: Version, Type: "error", Code: "bad_message", Detail: detail})
	select {
	case c.out <- b:
	default:
	}
}

// Controller is what the UI's messages control; *session.Machine implements it.
type Controller interface {
	SubmitPIN(pin []byte)
	Cancel()
	EndSession()
	Activity()
	SetLanguage(lang string)
	SetDisplay(largeText, highContrast bool)
}

// Dispatch returns an Options.Handler that forwards each message to c.
func Dispatch(c Controller) func(context.Context, Message) {
	return func(_ context.Context, m Message) {
		switch m.Type {
		case TypePIN:
			c.SubmitPIN(m.PIN)
		case TypeCancel:
			c.Cancel()
		case TypeEndSession:
			c.EndSession()
		case TypeActivity:
			c.Activity()
		case TypeLanguage:
			c.SetLanguage(m.Lang)
		case TypeDisplay:
			c.SetDisplay(m.LargeText, m.HighContrast)
		}
	}
}
