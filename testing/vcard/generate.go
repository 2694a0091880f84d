package vcard

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"math/big"
)

// generateKeyPair handles GENERATE ASYMMETRIC KEY PAIR: P2 is the slot, the data a control
// reference template AC {80 alg, [AA pin policy], [AB touch policy]}. It needs the
// management key.
func (c *Card) generateKeyPair(cmd command) (response, Alg) {
	if cmd.p1 != 0 {
		return status(swWrongP1P2), 0
	}
	slot := Slot(cmd.p2)
	if !slot.isKeySlot() {
		return status(swWrongP1P2), 0
	}
	if !c.mgmtAuthed {
		return status(swSecurityStatus), 0
	}
	inner, valid := parseOnly(cmd.data, 0xAC)
	if !valid {
		return status(swWrongData), 0
	}
	f, err := parseTLVs(inner, 4)
	if err != nil || len(f[0x80]) != 1 {
		return status(swWrongData), 0
	}
	alg := Alg(f[0x80][0])
	if !alg.isAsymmetric() {
		return status(swWrongData), 0
	}
	policy := PINPolicyDefault
	if p, has := f[0xAA]; has {
		if len(p) != 1 || p[0] > byte(PINPolicyAlways) {
			return status(swWrongData), 0
		}
		policy = PINPolicy(p[0])
	}
	if t, has := f[0xAB]; has && len(t) != 1 {
		return status(swWrongData), 0
	}
	key, err := GenerateKey(alg)
	if err != nil {
		return status(swUnknown), 0
	}
	pub, err := publicKeyTemplate(key.Public())
	if err != nil {
		return status(swUnknown), 0
	}
	c.st.keys[slot] = &slotKey{alg: alg, signer: key, policy: policy}
	c.dirty = true
	return ok(tlv(0x7F49, pub)), 0
}

// publicKeyTemplate encodes the content of 7F49: 81 modulus, 82 exponent for RSA; 86 the
// uncompressed point for EC.
func publicKeyTemplate(pub crypto.PublicKey) ([]byte, error) {
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		return append(tlv(0x81, pub.N.Bytes()), tlv(0x82, big.NewInt(int64(pub.E)).Bytes())...), nil
	case *ecdsa.PublicKey:
		point, err := pub.Bytes()
		if err != nil {
			return nil, err
		}
		return tlv(0x86, point), nil
	}
	return nil, errTLV
}

// metadata handles the Yubico GET METADATA command (INS F7, firmware 5.3 and later): P2 is
// the PIN (80), the PUK (81), the management key (9B) or a key slot.
func (c *Card) metadata(cmd command) response {
	if cmd.p1 != 0 {
		return status(swWrongP1P2)
	}
	isDefault := func(b bool) []byte {
		if b {
			return []byte{1}
		}
		return []byte{0}
	}
	var b []byte
	switch ref := cmd.p2; {
	case ref == refPIN || ref == refPUK:
		value, tries, max, def := c.st.pin, c.st.pinTries, c.st.pinMax, DefaultPIN
		if ref == refPUK {
			value, tries, max, def = c.st.puk, c.st.pukTries, c.st.pukMax, DefaultPUK
		}
		b = append(b, tlv(0x01, []byte{0xFF})...)
		b = append(b, tlv(0x05, isDefault(string(value) == def))...)
		b = append(b, tlv(0x06, []byte{byte(max), byte(tries)})...)
	case Slot(ref) == SlotManagement:
		b = append(b, tlv(0x01, []byte{byte(c.st.mgmtAlg)})...)
		b = append(b, tlv(0x02, []byte{0x00, 0x01})...) // touch never
		b = append(b, tlv(0x05, isDefault(string(c.st.mgmtKey) == string(DefaultManagementKey)))...)
	case Slot(ref).isKeySlot():
		k := c.st.keys[Slot(ref)]
		if k == nil {
			return status(swRefNotFound)
		}
		pub, err := publicKeyTemplate(k.signer.Public())
		if err != nil {
			return status(swUnknown)
		}
		b = append(b, tlv(0x01, []byte{byte(k.alg)})...)
		b = append(b, tlv(0x02, []byte{byte(k.policy.effective(Slot(ref))), 0x01})...)
		b = append(b, tlv(0x03, []byte{0x02})...) // imported (origin is not tracked)
		b = append(b, tlv(0x04, pub)...)
	default:
		return status(swRefNotFound)
	}
	return ok(b)
}
