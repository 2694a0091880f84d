package vcard

import (
	"crypto/subtle"
)

// Key references of the PIN commands.
const (
	refPIN = 0x80
	refPUK = 0x81
)

// pad8 pads a PIN or PUK with 0xFF to the 8 bytes the card compares.
func pad8(p []byte) []byte {
	out := []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}
	copy(out, p[:min(len(p), 8)])
	return out
}

// unpad strips the 0xFF padding.
func unpad(p []byte) []byte {
	n := len(p)
	for n > 0 && p[n-1] == 0xFF {
		n--
	}
	return append([]byte(nil), p[:n]...)
}

// validPIN reports whether an 8-byte padded value is a PIV PIN: 6 to 8 ASCII digits, then
// 0xFF padding (SP 800-73-4 part 2 section 2.4.3).
func validPIN(p []byte) bool {
	return validPadded(p, func(b byte) bool { return b >= '0' && b <= '9' })
}

// validPUK reports whether an 8-byte padded value is a PUK: 6 to 8 bytes other than 0xFF.
func validPUK(p []byte) bool {
	return validPadded(p, func(b byte) bool { return b != 0xFF })
}

// validPadded reports whether p is 8 bytes: 6 to 8 bytes that pass allowed, then 0xFF
// padding.
func validPadded(p []byte, allowed func(byte) bool) bool {
	if len(p) != 8 {
		return false
	}
	n := len(unpad(p))
	if n < 6 {
		return false
	}
	for _, b := range p[:n] {
		if !allowed(b) {
			return false
		}
	}
	return true
}

func wrongPIN(left int) response { return status(swWrongPIN | uint16(left&0x0F)) }

// verify handles VERIFY: P1=00 with the padded PIN, with no data to query the status, and
// P1=FF to log out.
func (c *Card) verify(cmd command) response {
	if cmd.p2 != refPIN {
		return status(swRefNotFound)
	}
	switch cmd.p1 {
	case 0xFF:
		if len(cmd.data) != 0 {
			return status(swWrongData)
		}
		c.pinVerified = false
		return status(swOK)
	case 0x00:
	default:
		return status(swWrongP1P2)
	}
	if len(cmd.data) == 0 {
		switch {
		case c.st.pinTries == 0:
			return status(swAuthBlocked)
		case c.pinVerified:
			return status(swOK)
		}
		return wrongPIN(c.st.pinTries)
	}
	if len(cmd.data) != 8 {
		return status(swWrongData)
	}
	c.verifies++
	if c.st.pinTries == 0 {
		return status(swAuthBlocked)
	}
	if subtle.ConstantTimeCompare(cmd.data, pad8(c.st.pin)) != 1 {
		c.pinVerified = false
		c.st.pinTries--
		c.dirty = true
		return wrongPIN(c.st.pinTries)
	}
	if c.st.pinTries != c.st.pinMax {
		c.st.pinTries = c.st.pinMax
		c.dirty = true
	}
	c.pinVerified = true
	c.pinJustVerified = true
	return status(swOK)
}

// changeReference handles CHANGE REFERENCE DATA for the PIN (P2=80) or the PUK (P2=81):
// data is the old value then the new one, both padded to 8 bytes.
func (c *Card) changeReference(cmd command) response {
	if cmd.p1 != 0 {
		return status(swWrongP1P2)
	}
	var value *[]byte
	var tries *int
	var max int
	valid := validPIN
	switch cmd.p2 {
	case refPIN:
		value, tries, max = &c.st.pin, &c.st.pinTries, c.st.pinMax
	case refPUK:
		value, tries, max, valid = &c.st.puk, &c.st.pukTries, c.st.pukMax, validPUK
	default:
		return status(swRefNotFound)
	}
	if len(cmd.data) != 16 {
		return status(swWrongData)
	}
	if *tries == 0 {
		return status(swAuthBlocked)
	}
	old, next := cmd.data[:8], cmd.data[8:]
	if !valid(next) {
		return status(swWrongData)
	}
	if subtle.ConstantTimeCompare(old, pad8(*value)) != 1 {
		*tries--
		c.dirty = true
		if cmd.p2 == refPIN {
			c.pinVerified = false
		}
		return wrongPIN(*tries)
	}
	*value = unpad(next)
	*tries = max
	c.dirty = true
	return status(swOK)
}

// resetRetryCounter handles RESET RETRY COUNTER: the PUK then the new PIN, both padded.
func (c *Card) resetRetryCounter(cmd command) response {
	if cmd.p1 != 0 {
		return status(swWrongP1P2)
	}
	if cmd.p2 != refPIN {
		return status(swRefNotFound)
	}
	if len(cmd.data) != 16 {
		return status(swWrongData)
	}
	if c.st.pukTries == 0 {
		return status(swAuthBlocked)
	}
	puk, next := cmd.data[:8], cmd.data[8:]
	if !validPIN(next) {
		return status(swWrongData)
	}
	if subtle.ConstantTimeCompare(puk, pad8(c.st.puk)) != 1 {
		c.st.pukTries--
		c.dirty = true
		return wrongPIN(c.st.pukTries)
	}
	c.st.pin = unpad(next)
	c.st.pinTries = c.st.pinMax
	c.st.pukTries = c.st.pukMax
	c.pinVerified = false
	c.dirty = true
	return status(swOK)
}
