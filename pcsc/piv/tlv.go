package piv

import (
	"errors"
	"fmt"
)

// BER-TLV as used by PIV (ISO/IEC 7816-4 §5.2, SP 800-73-4 Part 1 Appendix A): tags of one
// to three bytes, lengths in short form or long form 81/82/83. Everything read from a card is
// untrusted, so the decoder refuses indefinite lengths, lengths past the end of the input,
// tags longer than three bytes and nesting deeper than maxTLVDepth.

// maxTLVDepth bounds how deep parseTLVTree descends. PIV objects nest at most three levels
// (53 → 70/71, 7C → 82, 61 → 79 → 4F, 7E → 5F2F); 8 leaves room and stops hostile input.
const maxTLVDepth = 8

// errTLV is wrapped by every decoding error so callers can tell malformed card data apart.
var errTLV = errors.New("malformed BER-TLV data from the card")

// tlv is one decoded data object. value aliases the input.
type tlv struct {
	tag   uint32
	value []byte
	// children holds the decoded contents of constructed objects (parseTLVTree only).
	children []tlv
}

// constructed reports whether the tag's first byte has the BER "constructed" bit (b6).
func (t tlv) constructed() bool { return tagFirstByte(t.tag)&0x20 != 0 }

func tagFirstByte(tag uint32) byte {
	switch {
	case tag > 0xFFFF:
		return byte(tag >> 16)
	case tag > 0xFF:
		return byte(tag >> 8)
	default:
		return byte(tag)
	}
}

// readTLV decodes the data object at the start of b and returns it with the bytes after it.
func readTLV(b []byte) (tlv, []byte, error) {
	if len(b) == 0 {
		return tlv{}, nil, fmt.Errorf("%w: empty input where a tag was expected", errTLV)
	}
	tag := uint32(b[0])
	i := 1
	if b[0]&0x1F == 0x1F { // multi-byte tag: subsequent bytes while b8 is set
		for {
			if i >= len(b) {
				return tlv{}, nil, fmt.Errorf("%w: tag %X is cut short", errTLV, tag)
			}
			if i >= 3 {
				return tlv{}, nil, fmt.Errorf("%w: tag longer than 3 bytes", errTLV)
			}
			tag = tag<<8 | uint32(b[i])
			i++
			if b[i-1]&0x80 == 0 {
				break
			}
		}
	}
	if i >= len(b) {
		return tlv{}, nil, fmt.Errorf("%w: tag %X has no length", errTLV, tag)
	}
	n := 0
	switch l := b[i]; {
	case l < 0x80:
		n = int(l)
		i++
	case l >= 0x81 && l <= 0x83:
		k := int(l - 0x80)
		if i+1+k > len(b) {
			return tlv{}, nil, fmt.Errorf("%w: length of tag %X is cut short", errTLV, tag)
		}
		for _, c := range b[i+1 : i+1+k] {
			n = n<<8 | int(c)
		}
		i += 1 + k
	case l == 0x80:
		return tlv{}, nil, fmt.Errorf("%w: tag %X has an indefinite length", errTLV, tag)
	default:
		return tlv{}, nil, fmt.Errorf("%w: tag %X has an unsupported length byte %02X", errTLV, tag, l)
	}
	if n > len(b)-i {
		return tlv{}, nil, fmt.Errorf("%w: tag %X claims %d bytes but only %d follow", errTLV, tag, n, len(b)-i)
	}
	return tlv{tag: tag, value: b[i : i+n : i+n]}, b[i+n:], nil
}

// parseTLVs decodes a sequence of data objects that must fill b exactly. 00 and FF bytes
// between and after objects are skipped, as ISO 7816-4 allows (erased or padded storage).
func parseTLVs(b []byte) ([]tlv, error) {
	var out []tlv
	for {
		for len(b) > 0 && (b[0] == 0x00 || b[0] == 0xFF) {
			b = b[1:]
		}
		if len(b) == 0 {
			return out, nil
		}
		t, rest, err := readTLV(b)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		b = rest
	}
}

// parseTLVTree decodes b like parseTLVs and descends into every constructed object, at most
// maxTLVDepth levels deep. It is for generic inspection (tests, fuzzing, diagnostics): PIV's
// own parsers descend explicitly, because PIV marks containers such as 53 as primitive and
// certificates inside 70 are not PIV data objects.
func parseTLVTree(b []byte) ([]tlv, error) { return parseTLVTreeDepth(b, 1) }

func parseTLVTreeDepth(b []byte, depth int) ([]tlv, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if depth > maxTLVDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d levels", errTLV, maxTLVDepth)
	}
	list, err := parseTLVs(b)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].constructed() {
			kids, err := parseTLVTreeDepth(list[i].value, depth+1)
			if err != nil {
				return nil, fmt.Errorf("inside tag %X: %w", list[i].tag, err)
			}
			list[i].children = kids
		}
	}
	return list, nil
}

// templateFields decodes b, finds the template with tag among its top-level objects and
// returns the objects inside that template; what names the template in errors.
func templateFields(b []byte, tag uint32, what string) ([]tlv, error) {
	top, err := parseTLVs(b)
	if err != nil {
		return nil, err
	}
	v, ok := findTLV(top, tag)
	if !ok {
		return nil, fmt.Errorf("%w: no %s (%X)", errTLV, what, tag)
	}
	fields, err := parseTLVs(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return fields, nil
}

// findTLV returns the value of the first object with the tag.
func findTLV(list []tlv, tag uint32) ([]byte, bool) {
	for _, t := range list {
		if t.tag == tag {
			return t.value, true
		}
	}
	return nil, false
}

// maxTLVLength is the largest length appendTLV encodes (three-byte long form).
const maxTLVLength = 0xFFFFFF

// appendTLV appends tag, minimal length and value to dst. It panics on a value longer than
// 16 MiB, which only a programming error can produce (host-built objects are small).
func appendTLV(dst []byte, tag uint32, value []byte) []byte {
	dst = appendTag(dst, tag)
	dst = appendLength(dst, len(value))
	return append(dst, value...)
}

func appendTag(dst []byte, tag uint32) []byte {
	switch {
	case tag > 0xFFFF:
		return append(dst, byte(tag>>16), byte(tag>>8), byte(tag))
	case tag > 0xFF:
		return append(dst, byte(tag>>8), byte(tag))
	default:
		return append(dst, byte(tag))
	}
}

func appendLength(dst []byte, n int) []byte {
	switch {
	case n < 0 || n > maxTLVLength:
		panic(fmt.Sprintf("piv: TLV length %d out of range", n))
	case n < 0x80:
		return append(dst, byte(n))
	case n <= 0xFF:
		return append(dst, 0x81, byte(n))
	case n <= 0xFFFF:
		return append(dst, 0x82, byte(n>>8), byte(n))
	default:
		return append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
}

// encodeTLVs re-encodes a decoded tree (children, when present, replace value).
func encodeTLVs(dst []byte, list []tlv) []byte {
	for _, t := range list {
		if t.children != nil {
			t.value = encodeTLVs(nil, t.children)
		}
		dst = appendTLV(dst, t.tag, t.value)
	}
	return dst
}
