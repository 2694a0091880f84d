package piv

import "smartpath/pcsc"

// extendedLengthOf reports whether card says it takes extended-length APDUs: its ATR (when
// the card exposes one, as *pcsc.Conn and the virtual card do) carries the card capabilities
// of ISO/IEC 7816-4 §8.1.1.2.7 with "extended Lc and Le fields" set, and the connection does
// not run T=0 (which would need ENVELOPE for them).
func extendedLengthOf(card pcsc.Card) bool {
	a, ok := card.(interface{ ATR() []byte })
	if !ok {
		return false
	}
	if p, ok := card.(interface{ Protocol() pcsc.Protocol }); ok && p.Protocol() == pcsc.ProtocolT0 {
		return false
	}
	return atrExtendedLength(a.ATR())
}

// atrExtendedLength parses an ATR (ISO/IEC 7816-3 §8.2) down to its historical bytes and
// looks for the card capabilities compact-TLV object (tag 7, third byte b7).
func atrExtendedLength(atr []byte) bool {
	if len(atr) < 2 {
		return false
	}
	k := int(atr[1] & 0x0F)
	y := atr[1] >> 4
	i := 2
	for {
		for _, bit := range []byte{0x1, 0x2, 0x4} { // TAi, TBi, TCi
			if y&bit != 0 {
				i++
			}
		}
		if y&0x8 == 0 {
			break
		}
		if i >= len(atr) {
			return false
		}
		y = atr[i] >> 4 // TDi
		i++
	}
	if i+k > len(atr) || k == 0 {
		return false
	}
	hist := atr[i : i+k]
	var objs []byte
	switch hist[0] {
	case 0x80: // compact-TLV objects, a status indicator may be among them
		objs = hist[1:]
	case 0x00: // compact-TLV objects, then three status bytes
		if len(hist) < 4 {
			return false
		}
		objs = hist[1 : len(hist)-3]
	default:
		return false
	}
	for len(objs) > 0 {
		tag, n := objs[0]>>4, int(objs[0]&0x0F)
		if 1+n > len(objs) {
			return false
		}
		if tag == 0x7 && n >= 3 {
			return objs[3]&0x40 != 0
		}
		objs = objs[1+n:]
	}
	return false
}
