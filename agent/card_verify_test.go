package agent

import (
	"context"
	"fmt"
	"testing"

	"smartpath/agent/session"
	"smartpath/pcsc"
	"smartpath/testing/vcard"
)

// verifyCounter counts the VERIFY APDUs that carry a PIN on their way to the card, and can
// make the next one fail in transport as a card pulled or reset mid-command does.
type verifyCounter struct {
	*inProcessConn
	verifies int
	failWith error
}

func (c *verifyCounter) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if len(apdu) > 5 && apdu[1] == 0x20 { // VERIFY with data
		c.verifies++
		if c.failWith != nil {
			return nil, c.failWith
		}
	}
	return c.inProcessConn.Transmit(ctx, apdu)
}

// docs/security.md, invariant 1: one PIN submission sends at most one VERIFY, and no error path retries
// it — not a wrong PIN, not a blocked card, not a card that is pulled or reset by another
// application while it answers.
func TestCardOneVerifyPerPIN(t *testing.T) {
	ctx := context.Background()
	c, in := newTestCard(t, vcard.AlgP256)
	conn := &verifyCounter{inProcessConn: in}
	c.connect = func(context.Context, string) (cardConn, error) { return conn, nil }
	if _, err := c.Read(ctx, "reader"); err != nil {
		t.Fatal(err)
	}
	verify := func(name, pin string, want func(session.PINAnswer, error) bool) {
		t.Helper()
		before := conn.verifies
		ans, err := c.Verify(ctx, []byte(pin))
		if n := conn.verifies - before; n != 1 {
			t.Errorf("%s: %d VERIFY commands, want 1", name, n)
		}
		if !want(ans, err) {
			t.Errorf("%s: unexpected result %+v, %v", name, ans, err)
		}
	}
	refused := func(left int) func(session.PINAnswer, error) bool {
		return func(ans session.PINAnswer, err error) bool {
			return err == nil && ans.Credential == nil && ans.TriesLeft == left
		}
	}
	for _, fault := range []error{pcsc.ErrCardRemoved, pcsc.ErrCardReset, pcsc.ErrNoService,
		fmt.Errorf("transport: %w", context.DeadlineExceeded)} {
		conn.failWith = fault
		verify(fmt.Sprintf("VERIFY failing with %q", fault), vcard.DefaultPIN, func(ans session.PINAnswer, err error) bool {
			return err != nil && ans.Credential == nil // no credential after a VERIFY that failed in transport
		})
		conn.failWith = nil
	}
	verify("right PIN", vcard.DefaultPIN, func(ans session.PINAnswer, err error) bool { return err == nil && ans.Credential != nil })
	verify("wrong PIN", "000000", refused(2))
	verify("wrong PIN", "000000", refused(1))
	verify("last wrong PIN", "000000", refused(0))
	before := conn.verifies
	if ans, err := c.Verify(ctx, []byte(vcard.DefaultPIN)); err != nil || ans.Credential != nil || ans.TriesLeft != 0 {
		t.Errorf("right PIN on a blocked card: %+v, %v; want refused with 0 tries left", ans, err)
	}
	if n := conn.verifies - before; n > 1 {
		t.Errorf("blocked card: %d VERIFY commands, want at most 1", n)
	}
}
