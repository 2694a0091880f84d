package pcsc

import (
	"fmt"
)

// Limits of ISO/IEC 7816-4 APDUs.
const (
	// MaxShortData and MaxShortLe are the largest Nc and Ne of a short APDU
	// (Ne 256 is encoded as Le=00).
	MaxShortData = 255
	MaxShortLe   = 256
	// MaxExtendedData and MaxExtendedLe are the largest Nc and Ne of an extended APDU
	// (Ne 65536 is encoded as Le=0000).
	MaxExtendedData = 65535
	MaxExtendedLe   = 65536
	// MaxResponseAPDU is the longest response APDU accepted from a card: 65536 data bytes
	// plus SW1 SW2. Anything longer is rejected before it is looked at.
	MaxResponseAPDU = MaxExtendedLe + 2
)

// Command is a command APDU.
//
// Le is Ne, the number of response bytes expected: 0 means no Le field (no data expected),
// 1..256 fit a short APDU (256 is sent as Le=00), 257..65536 need an extended APDU (65536 is
// sent as Le=0000). On a card without extended length, the [Transport] sends Le=00 (256) for
// any Le above 256 and collects the rest with GET RESPONSE.
type Command struct {
	CLA, INS, P1, P2 byte
	Data             []byte
	Le               int
}

func (c Command) String() string {
	return fmt.Sprintf("%02X %02X %02X %02X Nc=%d Ne=%d", c.CLA, c.INS, c.P1, c.P2, len(c.Data), c.Le)
}

// Encode returns the short encoding of c (ISO 7816-4 §5.1). It fails if Data is longer than
// 255 bytes or Le is outside 0..256.
func (c Command) Encode() ([]byte, error) {
	if len(c.Data) > MaxShortData {
		return nil, fmt.Errorf("%v: %d data bytes in a short APDU (max %d): %w", c, len(c.Data), MaxShortData, ErrCommandTooLong)
	}
	if c.Le < 0 || c.Le > MaxShortLe {
		return nil, fmt.Errorf("%v: Le %d in a short APDU (max %d): %w", c, c.Le, MaxShortLe, ErrCommandTooLong)
	}
	b := make([]byte, 0, 4+1+len(c.Data)+1)
	b = append(b, c.CLA, c.INS, c.P1, c.P2)
	if len(c.Data) > 0 {
		b = append(b, byte(len(c.Data)))
		b = append(b, c.Data...)
	}
	if c.Le > 0 {
		b = append(b, byte(c.Le)) // 256 → 00
	}
	return b, nil
}

// EncodeExtended returns the extended encoding of c (ISO 7816-4 §5.1): Lc as 00 hi lo, Le as
// hi lo after Lc, or 00 hi lo without data. It fails if Data is longer than 65535 bytes or Le
// is outside 0..65536.
func (c Command) EncodeExtended() ([]byte, error) {
	if len(c.Data) > MaxExtendedData {
		return nil, fmt.Errorf("%v: %d data bytes (max %d): %w", c, len(c.Data), MaxExtendedData, ErrCommandTooLong)
	}
	if c.Le < 0 || c.Le > MaxExtendedLe {
		return nil, fmt.Errorf("%v: Le %d (max %d): %w", c, c.Le, MaxExtendedLe, ErrCommandTooLong)
	}
	b := make([]byte, 0, 4+3+len(c.Data)+3)
	b = append(b, c.CLA, c.INS, c.P1, c.P2)
	if len(c.Data) > 0 {
		b = append(b, 0, byte(len(c.Data)>>8), byte(len(c.Data)))
		b = append(b, c.Data...)
	}
	if c.Le > 0 {
		if len(c.Data) == 0 {
			b = append(b, 0)
		}
		b = append(b, byte(c.Le>>8), byte(c.Le)) // 65536 → 00 00
	}
	return b, nil
}

// needsExtended reports whether c cannot be sent as one short APDU.
func (c Command) needsExtended() bool {
	return len(c.Data) > MaxShortData || c.Le > MaxShortLe
}

// SplitResponse splits a response APDU into its data and status word. It rejects a response
// shorter than SW1 SW2 or longer than [MaxResponseAPDU]. The data aliases resp.
func SplitResponse(resp []byte) (data []byte, sw uint16, err error) {
	if len(resp) < 2 {
		return nil, 0, fmt.Errorf("response of %d bytes has no status word: %w", len(resp), ErrMalformedResponse)
	}
	if len(resp) > MaxResponseAPDU {
		return nil, 0, fmt.Errorf("response of %d bytes (max %d): %w", len(resp), MaxResponseAPDU, ErrResponseTooLarge)
	}
	n := len(resp) - 2
	return resp[:n:n], uint16(resp[n])<<8 | uint16(resp[n+1]), nil
}
