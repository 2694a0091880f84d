package vcard

import (
	"bytes"
)

// process handles one command APDU and returns the response APDU and, when it used a
// private key, that key's algorithm (for latency emulation). Callers hold c.mu.
func (c *Card) process(raw []byte) ([]byte, Alg) {
	cmd, err := parseCommand(raw)
	if err != nil {
		c.pending, c.chain = nil, nil
		return status(swWrongLength).bytes(), 0
	}
	if cmd.cla&^claChaining != 0 {
		return status(swCLANotSupported).bytes(), 0
	}
	// PIN-always keys need a VERIFY immediately before: any other command (but the parts
	// of a chained GENERAL AUTHENTICATE and GET RESPONSE) ends that window.
	justVerified := c.pinJustVerified
	c.pinJustVerified = false
	if cmd.ins == insGetResponse {
		c.pinJustVerified = justVerified
		return c.getResponse(cmd).bytes(), 0
	}
	c.pending = nil
	if cmd.ins == insGeneralAuth {
		c.pinJustVerified = justVerified
	} else {
		c.mgmtWitness, c.mgmtChallenge = nil, nil
	}

	if cmd.cla&claChaining != 0 {
		return c.chainPart(cmd).bytes(), 0
	}
	if ch := c.chain; ch != nil {
		c.chain = nil
		if ch.ins == cmd.ins && ch.p1 == cmd.p1 && ch.p2 == cmd.p2 {
			if len(ch.data)+len(cmd.data) > maxChain {
				return status(swWrongLength).bytes(), 0
			}
			cmd.data = append(ch.data, cmd.data...)
		}
	}
	if !c.selected && cmd.ins != insSelect {
		return status(swINSNotSupported).bytes(), 0
	}

	var r response
	var keyOp Alg
	switch cmd.ins {
	case insSelect:
		r = c.selectApp(cmd)
	case insGetData:
		r = c.getData(cmd)
	case insPutData:
		r = c.putData(cmd)
	case insVerify:
		r = c.verify(cmd)
	case insChangeReference:
		r = c.changeReference(cmd)
	case insResetRetryCounter:
		r = c.resetRetryCounter(cmd)
	case insGeneralAuth:
		r, keyOp = c.generalAuthenticate(cmd)
	case insGenerateKeyPair:
		r, keyOp = c.generateKeyPair(cmd)
	case insYubicoVersion:
		r = c.yubicoFixed(cmd, c.st.version[:])
	case insYubicoSerial:
		r = c.yubicoFixed(cmd, []byte{byte(c.st.serial >> 24), byte(c.st.serial >> 16), byte(c.st.serial >> 8), byte(c.st.serial)})
	case insYubicoMetadata:
		r = c.metadata(cmd)
	default:
		r = status(swINSNotSupported)
	}
	return c.chunk(r, cmd.ne).bytes(), keyOp
}

// chainPart stores one non-final part of a chained command.
func (c *Card) chainPart(cmd command) response {
	if c.chain != nil && (c.chain.ins != cmd.ins || c.chain.p1 != cmd.p1 || c.chain.p2 != cmd.p2) {
		c.chain = nil
		return status(swLastCommandExpected)
	}
	if c.chain == nil {
		c.chain = &chain{ins: cmd.ins, p1: cmd.p1, p2: cmd.p2}
	}
	if len(c.chain.data)+len(cmd.data) > maxChain {
		c.chain = nil
		return status(swWrongLength)
	}
	c.chain.data = append(c.chain.data, cmd.data...)
	return status(swOK)
}

// chunk sends at most ne bytes of a response now and keeps the rest for GET RESPONSE,
// answering 61xx (xx: bytes still available, 00 for 256 or more).
func (c *Card) chunk(r response, ne int) response {
	if len(r.data) <= ne {
		return r
	}
	c.pending = append([]byte(nil), r.data[ne:]...)
	return response{data: r.data[:ne], sw: swBytesRemaining | uint16(min(len(c.pending), 256)&0xFF)}
}

func (c *Card) getResponse(cmd command) response {
	if cmd.p1 != 0 || cmd.p2 != 0 {
		return status(swWrongP1P2)
	}
	if len(c.pending) == 0 {
		c.pending = nil
		return status(swConditionsNotSatisfy)
	}
	data := c.pending
	c.pending = nil
	return c.chunk(ok(data), cmd.ne)
}

// selectApp handles SELECT by AID. Only the PIV application exists.
func (c *Card) selectApp(cmd command) response {
	if cmd.p1 != 0x04 || (cmd.p2 != 0x00 && cmd.p2 != 0x0C) {
		return status(swWrongP1P2)
	}
	if len(cmd.data) < 5 || !bytes.HasPrefix(pivAID, cmd.data) {
		return status(swNotFound)
	}
	// Like a YubiKey, selecting the application (again) clears its security status.
	c.selected = true
	c.pinVerified, c.mgmtAuthed = false, false
	if cmd.p2 == 0x0C {
		return status(swOK)
	}
	return ok(applicationPropertyTemplate())
}

// applicationPropertyTemplate is the answer to SELECT (SP 800-73-4 part 2 table 3).
func applicationPropertyTemplate() []byte {
	var b []byte
	b = append(b, tlv(0x4F, pivAID[5:])...) // application identifier: the PIX with version
	b = append(b, tlv(0x79, tlv(0x4F, pivAID[:5]))...)
	b = append(b, tlv(0x50, []byte("SmartPath virtual PIV"))...)
	var algs []byte
	for _, a := range []Alg{Alg3DES, AlgAES128, AlgAES192, AlgAES256, AlgRSA2048, AlgP256, AlgP384} {
		algs = append(algs, tlv(0x80, []byte{byte(a)})...)
	}
	algs = append(algs, tlv(0x06, []byte{0x00})...)
	b = append(b, tlv(0xAC, algs)...)
	return tlv(0x61, b)
}

// objectTag parses the tag list 5C of GET DATA and PUT DATA.
func objectTag(b []byte) (tag uint32, rest []byte, ok bool) {
	t, v, rest, err := readTLV(b)
	if err != nil || t != 0x5C || len(v) < 1 || len(v) > 3 {
		return 0, nil, false
	}
	for _, x := range v {
		tag = tag<<8 | uint32(x)
	}
	return tag, rest, true
}

func (c *Card) getData(cmd command) response {
	if cmd.p1 != 0x3F || cmd.p2 != 0xFF {
		return status(swWrongP1P2)
	}
	tag, rest, valid := objectTag(cmd.data)
	if !valid || len(rest) != 0 {
		return status(swWrongData)
	}
	if !knownObject(tag) {
		return status(swNotFound)
	}
	if needsPIN(tag) && !c.pinVerified {
		return status(swSecurityStatus)
	}
	v, found := c.st.objects[tag]
	if !found {
		return status(swNotFound)
	}
	if tag == TagDiscovery {
		return ok(tlv(TagDiscovery, v))
	}
	return ok(tlv(0x53, v))
}

func (c *Card) putData(cmd command) response {
	if cmd.p1 != 0x3F || cmd.p2 != 0xFF {
		return status(swWrongP1P2)
	}
	if !c.mgmtAuthed {
		return status(swSecurityStatus)
	}
	tag, rest, valid := objectTag(cmd.data)
	if !valid || !knownObject(tag) {
		return status(swWrongData)
	}
	wrapper := uint32(0x53)
	if tag == TagDiscovery {
		wrapper = TagDiscovery
	}
	v, valid := parseOnly(rest, wrapper)
	if !valid {
		return status(swWrongData)
	}
	if len(v) > maxObject {
		return status(swNotEnoughMemory)
	}
	if len(v) == 0 {
		delete(c.st.objects, tag)
	} else {
		c.st.objects[tag] = append([]byte(nil), v...)
	}
	c.dirty = true
	return status(swOK)
}

// yubicoFixed answers a Yubico command with a fixed-size answer (version, serial). Like a
// T=0 card it answers 6Cxx when the host asked for fewer bytes than it has.
func (c *Card) yubicoFixed(cmd command, data []byte) response {
	if cmd.p1 != 0 || cmd.p2 != 0 {
		return status(swWrongP1P2)
	}
	if cmd.ne < len(data) {
		return status(swWrongLe | uint16(len(data)))
	}
	return ok(append([]byte(nil), data...))
}
