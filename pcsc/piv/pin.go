package piv

import (
	"context"
	"errors"
	"fmt"

	"smartpath/pcsc"
)

// keyRefPIN is the PIV Card Application PIN; keyRefPUK its unblocking key
// (SP 800-73-4 Part 1 Table 4a).
const (
	keyRefPIN = 0x80
	keyRefPUK = 0x81
)

// The PIV application PIN is PINMinLen to PINMaxLen ASCII digits (SP 800-73-4 Part 2
// §2.4.3). These are the one definition of the bounds: the configuration, the session and
// the PIN pad take theirs from here.
const (
	PINMinLen = 6
	PINMaxLen = 8
)

// ErrPINFormat means a PIN is not PINMinLen to PINMaxLen ASCII digits. It never contains
// the PIN.
var ErrPINFormat = fmt.Errorf("piv: the PIN must be %d to %d digits (0-9)", PINMinLen, PINMaxLen)

// ErrLogoutUnsupported means the card refused VERIFY with P1=FF. The PIN may still be
// verified: the caller must disconnect with a card reset to clear it.
var ErrLogoutUnsupported = errors.New("piv: the card cannot log out; disconnect with a reset to clear the PIN")

// ValidatePIN checks that pin is PINMinLen to PINMaxLen ASCII digits, the PIV application
// PIN format, without sending anything. It returns ErrPINFormat otherwise.
func ValidatePIN(pin []byte) error {
	if len(pin) < PINMinLen || len(pin) > PINMaxLen {
		return ErrPINFormat
	}
	for _, c := range pin {
		if c < '0' || c > '9' {
			return ErrPINFormat
		}
	}
	return nil
}

// PINStatus is what the empty VERIFY says about the application PIN.
type PINStatus struct {
	// Verified is true when the PIN is already verified on this card connection (the card
	// answered 9000); Retries is then -1, because the card does not say.
	Verified bool
	// Retries is the number of tries left, or -1 when unknown.
	Retries int
	// Blocked is true when no tries are left (6983, or 63C0): only the PUK can unblock it.
	Blocked bool
}

// PINRetries asks the card for the PIN state with an empty VERIFY, which never counts as a
// try: 63Cx gives Retries x; 9000 gives Verified; 6983 (or 63C0) gives Blocked. Some older
// cards answer 630x instead of 63Cx: x is taken as the tries left, and 6300 as unknown (-1).
// A blocked PIN is reported in the status, not as an error.
func (c *Client) PINRetries(ctx context.Context) (PINStatus, error) {
	if err := c.lock(ctx); err != nil {
		return PINStatus{}, err
	}
	defer c.unlock()
	return c.pinStatus(ctx)
}

// pinStatus sends the empty VERIFY; the caller holds the card.
func (c *Client) pinStatus(ctx context.Context) (PINStatus, error) {
	sw, err := c.transmitSecret(ctx, []byte{0x00, insVerify, 0x00, keyRefPIN})
	if err != nil {
		return PINStatus{}, fmt.Errorf("piv: ask for the PIN tries left: %w", err)
	}
	switch {
	case sw == 0x9000:
		return PINStatus{Verified: true, Retries: -1}, nil
	case sw == 0x6983 || sw == 0x63C0:
		return PINStatus{Blocked: true, Retries: 0}, nil
	case sw&0xFFF0 == 0x63C0:
		return PINStatus{Retries: int(sw & 0x0F)}, nil
	case sw == 0x6300:
		return PINStatus{Retries: -1}, nil
	case sw&0xFFF0 == 0x6300: // older cards: 630x
		return PINStatus{Retries: int(sw & 0x0F)}, nil
	}
	return PINStatus{}, fmt.Errorf("piv: ask for the PIN tries left: %w", pcsc.CheckSW(sw))
}

// VerifyPIN presents the application PIN: it validates pin first (ErrPINFormat, nothing
// sent), then sends exactly one VERIFY with the PIN padded with FF to 8 bytes, and never
// retries. A wrong PIN gives an error wrapping [pcsc.WrongPINError] with the tries left; a
// blocked PIN one wrapping [pcsc.ErrAuthBlocked]. The caller keeps ownership of pin (and
// should zero it); the padded copy is zeroed before VerifyPIN returns.
func (c *Client) VerifyPIN(ctx context.Context, pin []byte) error {
	if err := ValidatePIN(pin); err != nil {
		return err
	}
	if err := c.lock(ctx); err != nil {
		return err
	}
	defer c.unlock()
	if err := c.verifyPIN(ctx, pin); err != nil {
		return fmt.Errorf("piv: %w", err)
	}
	return nil
}

// verifyPIN sends the VERIFY; the caller has validated pin and holds the card. Its errors
// carry no package prefix.
func (c *Client) verifyPIN(ctx context.Context, pin []byte) error {
	var apdu [5 + 8]byte
	copy(apdu[:], []byte{0x00, insVerify, 0x00, keyRefPIN, 8})
	padTo8(apdu[5:], pin)
	sw, err := c.transmitSecret(ctx, apdu[:])
	if err != nil {
		return fmt.Errorf("verify the PIN: %w", err)
	}
	if err := pinSW(sw); err != nil {
		return fmt.Errorf("verify the PIN: %w", err)
	}
	return nil
}

// pinSW maps the status word of a PIN command to an error: 63Cx (and the older 630x) to
// *pcsc.WrongPINError, 6983 to pcsc.ErrAuthBlocked.
func pinSW(sw uint16) error { return pcsc.CheckSW(sw) }

// Logout clears the PIN's verified state (VERIFY with P1=FF, SP 800-73-4 Part 2 §3.2.1).
// Cards that refuse it give an error wrapping ErrLogoutUnsupported: the caller must then
// disconnect with a card reset. Other errors (card removed, …) are returned as they are.
func (c *Client) Logout(ctx context.Context) error {
	if err := c.lock(ctx); err != nil {
		return err
	}
	defer c.unlock()
	_, err := c.tr.Do(ctx, pcsc.Command{INS: insVerify, P1: 0xFF, P2: keyRefPIN})
	var se *pcsc.StatusError
	if errors.As(err, &se) {
		return fmt.Errorf("%w (%w)", ErrLogoutUnsupported, err)
	}
	if err != nil {
		return fmt.Errorf("piv: log out: %w", err)
	}
	return nil
}

// padTo8 copies secret into dst (8 bytes) and fills the rest with FF.
func padTo8(dst, secret []byte) {
	n := copy(dst[:8], secret)
	for i := n; i < 8; i++ {
		dst[i] = 0xFF
	}
}

// transmitSecret sends a short APDU that carries a secret straight to the card, bypassing
// the transport so no other buffer holds a copy, then zeroes apdu. It returns the status
// word; PIN commands return no data.
func (c *Client) transmitSecret(ctx context.Context, apdu []byte) (uint16, error) {
	defer clear(apdu)
	resp, err := c.card.Transmit(ctx, apdu)
	if err != nil {
		return 0, err
	}
	_, sw, err := pcsc.SplitResponse(resp)
	if err != nil {
		return 0, fmt.Errorf("piv: %w", err)
	}
	return sw, nil
}
