package pcsc

import (
	"context"
	"fmt"
	"sync/atomic"
)

// DefaultMaxResponse bounds the data a Transport collects for one command when
// TransportOptions.MaxResponse is zero.
const DefaultMaxResponse = 64 << 10

const (
	insGetResponse = 0xC0
	claChaining    = 0x10 // ISO 7816-4 §5.4.1: "command is not the last of a chain"
)

// TransportOptions configure a [Transport].
type TransportOptions struct {
	// Extended sends commands with more than 255 data bytes or Le above 256 as extended
	// APDUs. Set it only when the card says it supports extended length (the card
	// capabilities in its ATR's historical bytes, ISO/IEC 7816-4 §8.1.1.2.7) and the
	// connection does not run T=0; without it long commands are chained and long responses
	// are collected with GET RESPONSE.
	Extended bool
	// MaxResponse bounds the response data collected for one command, across all GET
	// RESPONSE rounds. Zero means DefaultMaxResponse.
	MaxResponse int
}

// TransportStats counts what a Transport sent.
type TransportStats struct {
	APDUs         uint64 // every command APDU sent, including GET RESPONSE and chain blocks
	GetResponses  uint64 // GET RESPONSE commands sent for 61xx
	Resends       uint64 // commands re-sent with the Le a 6Cxx asked for
	BytesSent     uint64
	BytesReceived uint64
}

// Transport runs ISO 7816-4 commands over a [Card]: it chains long commands, follows 61xx
// with GET RESPONSE, re-sends on 6Cxx with the right Le, and turns status words into typed
// errors. It is safe for concurrent use; one command exchange (with its GET RESPONSE rounds
// or chain) runs at a time. Every APDU it encodes is zeroed once the card has answered;
// Command.Data stays the caller's to zero.
type Transport struct {
	card Card
	opts TransportOptions
	turn chan struct{} // a one-slot semaphore that, unlike a mutex, can be waited for with a ctx

	apdus, getResponses, resends, sent, received atomic.Uint64
}

// NewTransport returns a Transport over card.
func NewTransport(card Card, opts TransportOptions) *Transport {
	if opts.MaxResponse <= 0 {
		opts.MaxResponse = DefaultMaxResponse
	}
	return &Transport{card: card, opts: opts, turn: make(chan struct{}, 1)}
}

// Stats returns the counters since the Transport was made.
func (t *Transport) Stats() TransportStats {
	return TransportStats{
		APDUs:         t.apdus.Load(),
		GetResponses:  t.getResponses.Load(),
		Resends:       t.resends.Load(),
		BytesSent:     t.sent.Load(),
		BytesReceived: t.received.Load(),
	}
}

// Do sends cmd and returns the response data without the status word.
//
// A status word other than 9000 is returned as a [*StatusError] (errors.Is with ErrNotFound,
// errors.As with *WrongPINError, …) together with whatever data came with it. PC/SC failures
// come back as [*SCardError] (ErrCardRemoved, ErrNoService, …) and a cancelled ctx as an error
// wrapping ctx.Err(). ctx is checked before every APDU.
func (t *Transport) Do(ctx context.Context, cmd Command) ([]byte, error) {
	select {
	case t.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%v: %w", cmd, ctx.Err())
	}
	defer func() { <-t.turn }()

	if len(cmd.Data) > MaxExtendedData || cmd.Le < 0 || cmd.Le > MaxExtendedLe {
		return nil, fmt.Errorf("%v: %w", cmd, ErrCommandTooLong)
	}
	last := cmd
	if !t.opts.Extended {
		if cmd.Le > MaxShortLe {
			last.Le = MaxShortLe // the rest arrives through 61xx GET RESPONSE
		}
		for len(last.Data) > MaxShortData {
			block := Command{CLA: cmd.CLA | claChaining, INS: cmd.INS, P1: cmd.P1, P2: cmd.P2, Data: last.Data[:MaxShortData]}
			_, sw, err := t.transmit(ctx, block)
			if err != nil {
				return nil, err
			}
			if sw != 0x9000 {
				return nil, &StatusError{SW: sw}
			}
			last.Data = last.Data[MaxShortData:]
		}
	}
	return t.exchange(ctx, last)
}

// exchange sends one command and follows 6Cxx and 61xx until a final status word.
func (t *Transport) exchange(ctx context.Context, cmd Command) ([]byte, error) {
	var out []byte
	cur := cmd
	resent := false     // one 6Cxx re-send per command
	ownGetResp := false // cur is a GET RESPONSE the transport made
	for {
		data, sw, err := t.transmit(ctx, cur)
		if err != nil {
			return nil, err
		}
		sw1, sw2 := byte(sw>>8), byte(sw)
		if sw1 == 0x6C && !resent {
			resent = true
			t.resends.Add(1)
			cur.Le = leFromSW2(sw2)
			continue
		}
		if len(out)+len(data) > t.opts.MaxResponse {
			return nil, fmt.Errorf("%v: more than %d response bytes: %w", cmd, t.opts.MaxResponse, ErrResponseTooLarge)
		}
		out = append(out, data...)
		if sw1 == 0x61 {
			if ownGetResp && len(data) == 0 {
				return nil, fmt.Errorf("%v: GET RESPONSE returned %04X without data: %w", cmd, sw, ErrMalformedResponse)
			}
			cur = Command{CLA: getResponseCLA(cmd.CLA), INS: insGetResponse, Le: leFromSW2(sw2)}
			resent, ownGetResp = false, true
			t.getResponses.Add(1)
			continue
		}
		if sw == 0x9000 {
			if out == nil {
				out = []byte{}
			}
			return out, nil
		}
		if len(out) == 0 {
			out = nil
		}
		return out, &StatusError{SW: sw}
	}
}

// transmit encodes and sends one APDU and splits the response.
func (t *Transport) transmit(ctx context.Context, cmd Command) ([]byte, uint16, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("%v: %w", cmd, err)
	}
	var apdu []byte
	var err error
	if t.opts.Extended && cmd.needsExtended() {
		apdu, err = cmd.EncodeExtended()
	} else {
		apdu, err = cmd.Encode()
	}
	if err != nil {
		return nil, 0, err
	}
	t.apdus.Add(1)
	t.sent.Add(uint64(len(apdu)))
	resp, err := t.card.Transmit(ctx, apdu)
	clear(apdu) // it may carry a secret (a PIN, a key's challenge); let no copy outlive the exchange
	if err != nil {
		return nil, 0, err
	}
	t.received.Add(uint64(len(resp)))
	data, sw, err := SplitResponse(resp)
	if err != nil {
		return nil, 0, fmt.Errorf("%v: %w", cmd, err)
	}
	return data, sw, nil
}

// leFromSW2 reads the length in 61xx/6Cxx, where 00 means 256.
func leFromSW2(sw2 byte) int {
	if sw2 == 0 {
		return MaxShortLe
	}
	return int(sw2)
}

// getResponseCLA keeps the logical-channel bits of an interindustry class byte and drops
// chaining and secure messaging; proprietary classes get GET RESPONSE with CLA 00.
func getResponseCLA(cla byte) byte {
	if cla&0x80 == 0 && cla&0x40 == 0 {
		return cla & 0x03
	}
	return 0x00
}

// txKey marks a context as running inside WithTransaction of one Transport.
type txKey struct{ t *Transport }

// WithTransaction runs fn inside a PC/SC transaction when the card is a [Transactor]
// (BeginTransaction before, EndTransaction after on every path, including a panic), and just
// runs fn otherwise. Calls nest: WithTransaction with a ctx that fn received runs the inner fn
// in the outer transaction. Keep fn short: never wait for a person inside it.
func (t *Transport) WithTransaction(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if ctx.Value(txKey{t}) != nil {
		return fn(ctx)
	}
	inner := context.WithValue(ctx, txKey{t}, true)
	tr, ok := t.card.(Transactor)
	if !ok {
		return fn(inner)
	}
	if err := tr.BeginTransaction(ctx); err != nil {
		return err
	}
	defer func() {
		if endErr := tr.EndTransaction(); err == nil && endErr != nil {
			err = endErr
		}
	}()
	return fn(inner)
}
