package pcsc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ebfe/scard"
)

// Protocol is the transmission protocol a connection runs.
type Protocol uint8

// The protocols of ISO/IEC 7816-3.
const (
	ProtocolUnknown Protocol = 0
	ProtocolT0      Protocol = 1
	ProtocolT1      Protocol = 2
)

func (p Protocol) String() string {
	switch p {
	case ProtocolT0:
		return "T=0"
	case ProtocolT1:
		return "T=1"
	}
	return "unknown protocol"
}

// ConnectOptions configure [Connect].
type ConnectOptions struct {
	// RemovalGrace is how long a failed exchange waits for pcscd to notice that the card has
	// gone, so that a card pulled mid-command is reported as ErrCardRemoved rather than
	// ErrCardUnresponsive. pcscd checks presence about every 400 ms. Zero means 1 s.
	RemovalGrace time.Duration
}

const (
	defaultRemovalGrace = time.Second
	removalCheckEvery   = 20 * time.Millisecond
)

// Conn is a connection to the card in one reader, over its own PC/SC context, shared with
// other applications (SCARD_SHARE_SHARED) and running T=0 or T=1. It implements [Card] and
// [Transactor]. Its methods are safe for concurrent use; PC/SC calls run one at a time.
//
// # Cancellation
//
// pcsc-lite cannot interrupt a call in progress: SCardTransmit holds its context's lock until
// the reader answers, and SCardCancel only stops SCardGetStatusChange. So every call checks
// its ctx first, and when ctx ends during a call the Conn gives up on it: the method returns
// ctx's error at once, the Conn is abandoned (later calls fail with [ErrClosed]), and when the
// stuck call finally returns the card is disconnected with SCARD_RESET_CARD (so no PIN state
// survives) and the context released. Close and CloseReset wait for a call in progress that
// has not been abandoned; cancel its ctx to stop waiting.
type Conn struct {
	reader string
	sc     *scard.Context
	card   *scard.Card
	atr    []byte
	proto  Protocol
	grace  time.Duration

	turn chan struct{} // one PC/SC call at a time; a channel so that waiting honours ctx

	mu        sync.Mutex
	closed    bool // Close/CloseReset ran, or the Conn was abandoned
	abandoned bool
}

var (
	_ Card       = (*Conn)(nil)
	_ Transactor = (*Conn)(nil)
)

// Connect connects to the card in reader. It establishes a PC/SC context of its own (separate
// from the [Monitor]'s and from other connections), so that a slow card never blocks anything
// else. An empty reader gives an error wrapping [ErrCardRemoved].
func Connect(ctx context.Context, reader string, opts ConnectOptions) (*Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("connect to %q: %w", reader, err)
	}
	if opts.RemovalGrace <= 0 {
		opts.RemovalGrace = defaultRemovalGrace
	}
	type result struct {
		c   *Conn
		err error
	}
	done := make(chan result, 1)
	var mu sync.Mutex
	gaveUp := false
	go func() {
		c, err := connect(reader, opts)
		mu.Lock()
		defer mu.Unlock()
		if gaveUp && c != nil {
			_ = c.teardown(scard.ResetCard)
			return
		}
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		return r.c, r.err
	case <-ctx.Done():
		mu.Lock()
		defer mu.Unlock()
		select {
		case r := <-done: // finished meanwhile; do not leak it
			if r.c != nil {
				_ = r.c.teardown(scard.ResetCard)
			}
		default:
			gaveUp = true
		}
		return nil, fmt.Errorf("connect to %q: %w", reader, ctx.Err())
	}
}

func connect(reader string, opts ConnectOptions) (*Conn, error) {
	sc, err := scard.EstablishContext()
	if err != nil {
		return nil, fmt.Errorf("connect to %q: %w", reader, wrapSCard("SCardEstablishContext", err))
	}
	card, err := sc.Connect(reader, scard.ShareShared, scard.ProtocolT0|scard.ProtocolT1)
	if err != nil {
		_ = sc.Release()
		return nil, fmt.Errorf("connect to %q: %w", reader, wrapSCard("SCardConnect", err))
	}
	st, err := card.Status()
	if err != nil {
		_ = card.Disconnect(scard.LeaveCard)
		_ = sc.Release()
		return nil, fmt.Errorf("connect to %q: %w", reader, wrapSCard("SCardStatus", err))
	}
	proto := ProtocolUnknown
	switch card.ActiveProtocol() {
	case scard.ProtocolT0:
		proto = ProtocolT0
	case scard.ProtocolT1:
		proto = ProtocolT1
	}
	return &Conn{
		reader: reader,
		sc:     sc,
		card:   card,
		atr:    append([]byte(nil), st.Atr...),
		proto:  proto,
		grace:  opts.RemovalGrace,
		turn:   make(chan struct{}, 1),
	}, nil
}

// Reader returns the name of the reader the card is in.
func (c *Conn) Reader() string { return c.reader }

// ATR returns the card's answer to reset, read when the connection was made.
func (c *Conn) ATR() []byte { return append([]byte(nil), c.atr...) }

// Protocol returns the protocol the connection runs.
func (c *Conn) Protocol() Protocol { return c.proto }

// Transmit sends one command APDU and returns the whole response APDU (data, SW1, SW2).
// A card pulled during the exchange gives an error wrapping [ErrCardRemoved] within about
// RemovalGrace; pcscd gone gives [ErrNoService].
func (c *Conn) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if len(apdu) < 4 {
		return nil, fmt.Errorf("transmit: a command APDU has at least 4 bytes, got %d", len(apdu))
	}
	// The PC/SC call gets its own copy, zeroed when the call returns: when ctx ends first,
	// call gives up while the call still runs, and the caller may already be zeroing apdu
	// (it can hold a PIN), which must neither race with nor garble the APDU being sent.
	cmd := append([]byte(nil), apdu...)
	var resp []byte
	err := c.call(ctx, func() error {
		r, err := c.card.Transmit(cmd)
		clear(cmd)
		if err != nil {
			return c.transmitError(ctx, wrapSCard("SCardTransmit", err))
		}
		if len(r) < 2 {
			// vpcd (and other drivers) report a lost card as an exchange that
			// "succeeded" with nothing in it.
			return c.transmitError(ctx, fmt.Errorf("SCardTransmit: the reader returned %d bytes: %w", len(r), ErrCardUnresponsive))
		}
		resp = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// transmitError tells a card pulled mid-command from one that failed to answer. pcscd first
// reports the failed exchange (0x80100016, or an empty response) and notices the empty reader at its next presence
// poll; this waits up to the removal grace for that. It polls SCardStatus on its own handle
// rather than using SCardGetStatusChange, because github.com/ebfe/scard keeps reader-name
// buffers for SCardGetStatusChange in a process-wide map that two concurrent waits on the
// same reader would corrupt (the Monitor is waiting on it).
func (c *Conn) transmitError(ctx context.Context, err error) error {
	if !errors.Is(err, ErrCardUnresponsive) {
		return err
	}
	deadline := time.Now().Add(c.grace)
	for {
		st, serr := c.card.Status()
		if serr != nil {
			if werr := wrapSCard("SCardTransmit", serr); errors.Is(werr, ErrCardRemoved) {
				return werr
			}
			return err
		}
		if st.State&scard.Absent != 0 {
			return &SCardError{Op: "SCardTransmit", Code: uint32(scard.ErrRemovedCard), Kind: ErrCardRemoved}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(removalCheckEvery)
	}
}

// BeginTransaction starts an exclusive transaction (SCardBeginTransaction), waiting while
// another application holds one.
func (c *Conn) BeginTransaction(ctx context.Context) error {
	return c.call(ctx, func() error {
		return wrapSCard("SCardBeginTransaction", c.card.BeginTransaction())
	})
}

// EndTransaction ends the transaction and leaves the card as it is.
func (c *Conn) EndTransaction() error {
	return c.call(context.Background(), func() error {
		return wrapSCard("SCardEndTransaction", c.card.EndTransaction(scard.LeaveCard))
	})
}

// Close disconnects leaving the card as it is (SCARD_LEAVE_CARD) and releases the context.
func (c *Conn) Close() error { return c.close(scard.LeaveCard) }

// CloseReset disconnects resetting the card (SCARD_RESET_CARD), which logs the PIN out and
// clears every security state on it, and releases the context. The session-end path uses it.
func (c *Conn) CloseReset() error { return c.close(scard.ResetCard) }

func (c *Conn) close(disp scard.Disposition) error {
	c.turn <- struct{}{} // wait for a call in progress, unless it was abandoned
	defer func() { <-c.turn }()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	return c.teardown(disp)
}

// teardown disconnects and releases. A card or service that is already gone is not an error.
func (c *Conn) teardown(disp scard.Disposition) error {
	err := wrapSCard("SCardDisconnect", c.card.Disconnect(disp))
	if errors.Is(err, ErrCardRemoved) || errors.Is(err, ErrNoService) || errors.Is(err, ErrReaderUnavailable) || errors.Is(err, ErrCardReset) {
		err = nil
	}
	if rerr := wrapSCard("SCardReleaseContext", c.sc.Release()); err == nil && rerr != nil && !errors.Is(rerr, ErrNoService) {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("close the connection to %q: %w", c.reader, err)
	}
	return nil
}

// call runs one blocking PC/SC call on this connection (see Cancellation on [Conn]).
func (c *Conn) call(ctx context.Context, f func() error) error {
	select {
	case c.turn <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", c.reader, ctx.Err())
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.turn
		return fmt.Errorf("%s: %w", c.reader, ErrClosed)
	}
	c.mu.Unlock()
	if err := ctx.Err(); err != nil {
		<-c.turn
		return fmt.Errorf("%s: %w", c.reader, err)
	}

	done := make(chan error, 1)
	finished := false
	go func() {
		err := f()
		c.mu.Lock()
		finished = true
		abandoned := c.abandoned
		c.mu.Unlock()
		if abandoned {
			_ = c.teardown(scard.ResetCard)
		}
		done <- err
	}()
	select {
	case err := <-done:
		<-c.turn
		return err
	case <-ctx.Done():
		c.mu.Lock()
		if finished {
			c.mu.Unlock()
			err := <-done
			<-c.turn
			return err
		}
		c.abandoned, c.closed = true, true
		c.mu.Unlock()
		<-c.turn // later calls see closed and fail at once
		return fmt.Errorf("%s: gave up on the card, connection reset: %w", c.reader, ctx.Err())
	}
}
