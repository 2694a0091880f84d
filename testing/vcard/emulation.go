package vcard

import (
	"context"
	"time"
)

// Emulation makes the card behave like a slow or faulty real one, for benchmarks and fault
// tests. The zero value is a perfect, instant card.
type Emulation struct {
	APDULatency time.Duration // added to every APDU
	RSALatency  time.Duration // added to every RSA private-key operation
	ECLatency   time.Duration // added to every EC private-key operation
	// DropAtAPDU removes the card when the Nth APDU after SetEmulation arrives (1 is the next
	// one), before it is processed. In process, that APDU and every later one fail with
	// ErrRemoved until Reset; over vpcd the socket is closed (the card is pulled) and
	// Insert returns ErrDropped. It fires once.
	DropAtAPDU int
	// Mute: the card never answers. In process, Transmit blocks until its context is done.
	// Over vpcd (where a card that never answers would hang pcscd's reader thread) the card
	// answers nothing for SlowAnswer (default MuteDropAfter) and then drops the connection.
	Mute bool
	// Garbage: the card processes each command but answers a single byte, too short to hold
	// a status word.
	Garbage bool
	// SlowAnswer is added to every APDU (on top of APDULatency); with Mute over vpcd it is
	// how long the card stays silent before it drops.
	SlowAnswer time.Duration
}

// RealCardTiming is roughly how fast a real PIV card is: 10 ms per APDU, 200 ms per
// RSA-2048 and 60 ms per EC private-key operation. For benchmarks.
var RealCardTiming = Emulation{APDULatency: 10 * time.Millisecond, RSALatency: 200 * time.Millisecond, ECLatency: 60 * time.Millisecond}

// MuteDropAfter is how long a mute card stays silent over vpcd before dropping, when
// Emulation.SlowAnswer is zero.
const MuteDropAfter = 2 * time.Second

// garbageAnswer is the reply of a card emulating garbage.
var garbageAnswer = []byte{0xEE}

// SetEmulation sets the latencies and faults the card emulates from the next APDU on, and
// restarts the DropAtAPDU count.
func (c *Card) SetEmulation(e Emulation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.em = e
	c.emAPDUs = 0
}

// Emulation returns the current emulation (DropAtAPDU is 0 once it has fired).
func (c *Card) Emulation() Emulation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.em
}

type fault int

const (
	faultNone fault = iota
	faultDrop       // the card is removed at this APDU
	faultMute       // the card does not answer this APDU
)

// exchange runs one APDU through the emulation and the card. It returns the response, or
// the fault the caller's transport must enact, or the context's error.
func (c *Card) exchange(ctx context.Context, apdu []byte) ([]byte, fault, error) {
	select {
	case c.lane <- struct{}{}:
	case <-ctx.Done():
		return nil, faultNone, ctx.Err()
	}
	defer func() { <-c.lane }()

	c.mu.Lock()
	if c.removed {
		c.mu.Unlock()
		return nil, faultDrop, nil
	}
	c.apdus++
	c.emAPDUs++
	em := c.em
	if em.DropAtAPDU > 0 && c.emAPDUs >= em.DropAtAPDU {
		c.em.DropAtAPDU = 0
		c.removed = true
		c.resetSession()
		c.mu.Unlock()
		return nil, faultDrop, nil
	}
	c.mu.Unlock()
	if em.Mute {
		return nil, faultMute, nil
	}
	if err := sleep(ctx, em.APDULatency+em.SlowAnswer); err != nil {
		return nil, faultNone, err
	}

	c.mu.Lock()
	resp, keyOp := c.process(apdu)
	trace := c.trace
	c.mu.Unlock()
	c.notify()
	if trace != nil {
		trace(append([]byte(nil), apdu...), append([]byte(nil), resp...))
	}
	switch keyOp {
	case AlgRSA2048:
		err := sleep(ctx, em.RSALatency)
		if err != nil {
			return nil, faultNone, err
		}
	case AlgP256, AlgP384:
		if err := sleep(ctx, em.ECLatency); err != nil {
			return nil, faultNone, err
		}
	}
	if em.Garbage {
		return append([]byte(nil), garbageAnswer...), faultNone, nil
	}
	return resp, faultNone, nil
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
