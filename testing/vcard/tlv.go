package vcard

import "errors"

// The card side's own small BER-TLV codec: tags of up to three bytes, definite lengths of up
// to 0xFFFF. Everything a client sends is parsed with it, so it is bounded and never panics.

var errTLV = errors.New("malformed TLV")

// tlv encodes one TLV with a tag of one to three bytes (0x53, 0x7F49, 0x5FC102).
func tlv(tag uint32, value []byte) []byte {
	var out []byte
	switch {
	case tag > 0xFFFF:
		out = append(out, byte(tag>>16), byte(tag>>8), byte(tag))
	case tag > 0xFF:
		out = append(out, byte(tag>>8), byte(tag))
	default:
		out = append(out, byte(tag))
	}
	out = appendLength(out, len(value))
	return append(out, value...)
}

func appendLength(out []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(out, byte(n))
	case n <= 0xFF:
		return append(out, 0x81, byte(n))
	default:
		return append(out, 0x82, byte(n>>8), byte(n))
	}
}

// readTLV splits the first TLV off b.
func readTLV(b []byte) (tag uint32, value, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, errTLV
	}
	i := 0
	tag = uint32(b[0])
	i++
	if b[0]&0x1F == 0x1F {
		for {
			if i >= len(b) || i > 2 {
				return 0, nil, nil, errTLV
			}
			tag = tag<<8 | uint32(b[i])
			i++
			if b[i-1]&0x80 == 0 {
				break
			}
		}
	}
	if i >= len(b) {
		return 0, nil, nil, errTLV
	}
	n := int(b[i])
	i++
	switch {
	case n < 0x80:
	case n == 0x81:
		if i+1 > len(b) {
			return 0, nil, nil, errTLV
		}
		n = int(b[i])
		i++
	case n == 0x82:
		if i+2 > len(b) {
			return 0, nil, nil, errTLV
		}
		n = int(b[i])<<8 | int(b[i+1])
		i += 2
	default:
		return 0, nil, nil, errTLV
	}
	if n > len(b)-i {
		return 0, nil, nil, errTLV
	}
	return tag, b[i : i+n], b[i+n:], nil
}

// parseTLVs parses a sequence of TLVs into a map (the first occurrence of a tag wins). It
// fails on trailing garbage or more than max elements.
func parseTLVs(b []byte, max int) (map[uint32][]byte, error) {
	out := make(map[uint32][]byte)
	for n := 0; len(b) > 0; n++ {
		if n >= max {
			return nil, errTLV
		}
		tag, v, rest, err := readTLV(b)
		if err != nil {
			return nil, err
		}
		if _, dup := out[tag]; !dup {
			out[tag] = v
		}
		b = rest
	}
	return out, nil
}

// parseOnly parses b as exactly one TLV with the given tag and returns its value.
func parseOnly(b []byte, want uint32) ([]byte, bool) {
	tag, v, rest, err := readTLV(b)
	if err != nil || tag != want || len(rest) != 0 {
		return nil, false
	}
	return v, true
}
