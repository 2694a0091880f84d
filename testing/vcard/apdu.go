package vcard

import "errors"

// Status words this card answers with (ISO/IEC 7816-4, NIST SP 800-73-4 part 2).
const (
	swOK                   = 0x9000
	swBytesRemaining       = 0x6100 // | number of bytes still available
	swWrongPIN             = 0x63C0 // | retries left
	swWrongLength          = 0x6700
	swLastCommandExpected  = 0x6883
	swSecurityStatus       = 0x6982
	swAuthBlocked          = 0x6983
	swConditionsNotSatisfy = 0x6985
	swWrongData            = 0x6A80
	swFuncNotSupported     = 0x6A81
	swNotFound             = 0x6A82
	swNotEnoughMemory      = 0x6A84
	swWrongP1P2            = 0x6A86
	swRefNotFound          = 0x6A88
	swWrongLe              = 0x6C00 // | exact length
	swINSNotSupported      = 0x6D00
	swCLANotSupported      = 0x6E00
	swUnknown              = 0x6F00
)

// Instructions.
const (
	insVerify            = 0x20
	insChangeReference   = 0x24
	insResetRetryCounter = 0x2C
	insGenerateKeyPair   = 0x47
	insGeneralAuth       = 0x87
	insSelect            = 0xA4
	insGetResponse       = 0xC0
	insGetData           = 0xCB
	insPutData           = 0xDB
	insYubicoMetadata    = 0xF7
	insYubicoSerial      = 0xF8
	insYubicoVersion     = 0xFD
)

const claChaining = 0x10

// command is a parsed command APDU.
type command struct {
	cla, ins, p1, p2 byte
	data             []byte
	ne               int  // maximum response data length the host accepts
	extended         bool // sent in extended-length form
}

var errAPDULength = errors.New("command APDU length inconsistent")

// parseCommand parses a short or extended command APDU (ISO/IEC 7816-3 cases 1 to 4). An
// absent Le is taken as "up to 256 bytes" (65536 for an extended APDU), as a contactless or
// T=1 card does; longer answers come in 61xx chains.
func parseCommand(b []byte) (command, error) {
	if len(b) < 4 {
		return command{}, errAPDULength
	}
	c := command{cla: b[0], ins: b[1], p1: b[2], p2: b[3], ne: 256}
	body := b[4:]
	switch {
	case len(body) == 0: // case 1
	case len(body) == 1: // case 2S
		c.ne = shortLe(body[0])
	case body[0] != 0: // case 3S or 4S
		lc := int(body[0])
		switch len(body) {
		case 1 + lc:
		case 2 + lc:
			c.ne = shortLe(body[1+lc])
		default:
			return command{}, errAPDULength
		}
		c.data = body[1 : 1+lc]
	case len(body) == 3: // case 2E
		c.extended = true
		c.ne = extendedLe(body[1], body[2])
	case len(body) > 3: // case 3E or 4E
		c.extended = true
		c.ne = 65536
		lc := int(body[1])<<8 | int(body[2])
		if lc == 0 {
			return command{}, errAPDULength
		}
		switch len(body) {
		case 3 + lc:
		case 5 + lc:
			c.ne = extendedLe(body[3+lc], body[4+lc])
		default:
			return command{}, errAPDULength
		}
		c.data = body[3 : 3+lc]
	default:
		return command{}, errAPDULength
	}
	return c, nil
}

func shortLe(b byte) int {
	if b == 0 {
		return 256
	}
	return int(b)
}

func extendedLe(hi, lo byte) int {
	n := int(hi)<<8 | int(lo)
	if n == 0 {
		return 65536
	}
	return n
}

// response is what a command handler returns: data and a status word.
type response struct {
	data []byte
	sw   uint16
}

func status(sw uint16) response { return response{sw: sw} }

func ok(data []byte) response { return response{data: data, sw: swOK} }

func (r response) bytes() []byte {
	out := make([]byte, 0, len(r.data)+2)
	out = append(out, r.data...)
	return append(out, byte(r.sw>>8), byte(r.sw))
}
