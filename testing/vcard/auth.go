package vcard

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"math/big"
)

// generalAuthenticate handles GENERAL AUTHENTICATE: P1 is the algorithm, P2 the key
// reference; the data is a dynamic authentication template 7C.
func (c *Card) generalAuthenticate(cmd command) (response, Alg) {
	justVerified := c.pinJustVerified
	c.pinJustVerified = false
	inner, valid := parseOnly(cmd.data, 0x7C)
	if !valid {
		return status(swWrongData), 0
	}
	fields, err := parseTLVs(inner, 4)
	if err != nil {
		return status(swWrongData), 0
	}
	slot, alg := Slot(cmd.p2), Alg(cmd.p1)
	if slot == SlotManagement {
		return c.managementAuth(alg, fields), 0
	}
	c.mgmtWitness, c.mgmtChallenge = nil, nil
	if !slot.isKeySlot() {
		return status(swWrongP1P2), 0
	}
	k := c.st.keys[slot]
	if k == nil {
		return status(swRefNotFound), 0
	}
	if k.alg != alg {
		return status(swWrongData), 0
	}
	switch k.policy.effective(slot) {
	case PINPolicyOnce:
		if !c.pinVerified {
			return status(swSecurityStatus), 0
		}
	case PINPolicyAlways:
		if !c.pinVerified || !justVerified {
			return status(swSecurityStatus), 0
		}
	}
	if r, has := fields[0x82]; !has || len(r) != 0 {
		return status(swWrongData), 0
	}
	if challenge, has := fields[0x81]; has {
		return c.sign(k, challenge), k.alg
	}
	if point, has := fields[0x85]; has {
		return c.keyAgreement(k, point), k.alg
	}
	return status(swWrongData), 0
}

// sign does the private-key operation: raw RSA on a padded block, or ECDSA on a digest.
func (c *Card) sign(k *slotKey, data []byte) response {
	var out []byte
	switch key := k.signer.(type) {
	case *rsa.PrivateKey:
		size := key.Size()
		m := new(big.Int).SetBytes(data)
		if len(data) != size || m.Cmp(key.N) >= 0 {
			return status(swWrongData)
		}
		out = rawRSA(key, m).FillBytes(make([]byte, size))
	case *ecdsa.PrivateKey:
		if len(data) == 0 || len(data) > (key.Curve.Params().BitSize+7)/8 {
			return status(swWrongData)
		}
		sig, err := ecdsa.SignASN1(rand.Reader, key, data)
		if err != nil {
			return status(swUnknown)
		}
		out = sig
	default:
		return status(swUnknown)
	}
	c.signatures++
	return ok(tlv(0x7C, tlv(0x82, out)))
}

// keyAgreement does ECDH with the host's uncompressed point.
func (c *Card) keyAgreement(k *slotKey, point []byte) response {
	key, isEC := k.signer.(*ecdsa.PrivateKey)
	if !isEC {
		return status(swWrongData)
	}
	priv, err := key.ECDH()
	if err != nil {
		return status(swUnknown)
	}
	peer, err := priv.Curve().NewPublicKey(point)
	if err != nil {
		return status(swWrongData)
	}
	secret, err := priv.ECDH(peer)
	if err != nil {
		return status(swWrongData)
	}
	c.signatures++
	return ok(tlv(0x7C, tlv(0x82, secret)))
}

// managementAuth authenticates the host with the 9B key, by mutual authentication (witness
// 80, then witness and challenge) or by external authentication (challenge 81, then the
// encrypted challenge 82).
func (c *Card) managementAuth(alg Alg, f map[uint32][]byte) response {
	if alg != c.st.mgmtAlg {
		return status(swWrongData)
	}
	block, err := managementCipher(alg, c.st.mgmtKey)
	if err != nil {
		return status(swUnknown)
	}
	bs := block.BlockSize()
	encrypt := func(in []byte) []byte {
		out := make([]byte, bs)
		block.Encrypt(out, in)
		return out
	}
	witness, hasW := f[0x80]
	challenge, hasC := f[0x81]
	resp, hasR := f[0x82]
	expectedWitness, pendingChallenge := c.mgmtWitness, c.mgmtChallenge
	c.mgmtWitness, c.mgmtChallenge = nil, nil

	switch {
	case hasW && len(witness) == 0 && !hasC && !hasR: // mutual, step 1: witness request
		c.mgmtWitness = randomBytes(bs)
		return ok(tlv(0x7C, tlv(0x80, encrypt(c.mgmtWitness))))

	case hasW && len(witness) == bs: // mutual, step 2: decrypted witness (+ host challenge)
		if expectedWitness == nil || subtle.ConstantTimeCompare(witness, expectedWitness) != 1 {
			c.mgmtAuthed = false
			return status(swSecurityStatus)
		}
		if hasC && len(challenge) != bs {
			return status(swWrongData)
		}
		c.mgmtAuthed = true
		if !hasC {
			return status(swOK)
		}
		return ok(tlv(0x7C, tlv(0x82, encrypt(challenge))))

	case hasC && len(challenge) == 0 && !hasW && !hasR: // external, step 1: card challenge
		c.mgmtChallenge = randomBytes(bs)
		return ok(tlv(0x7C, tlv(0x81, c.mgmtChallenge)))

	case hasR && len(resp) == bs && !hasW && !hasC: // external, step 2: encrypted challenge
		if pendingChallenge == nil || subtle.ConstantTimeCompare(resp, encrypt(pendingChallenge)) != 1 {
			c.mgmtAuthed = false
			return status(swSecurityStatus)
		}
		c.mgmtAuthed = true
		return status(swOK)

	case hasC && len(challenge) == bs && hasR && len(resp) == 0 && !hasW: // internal: card proves the key
		return ok(tlv(0x7C, tlv(0x82, encrypt(challenge))))
	}
	return status(swWrongData)
}

func managementCipher(alg Alg, key []byte) (cipher.Block, error) {
	if alg == Alg3DES {
		return des.NewTripleDESCipher(key)
	}
	return aes.NewCipher(key)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// rawRSA computes m^d mod n, with the Chinese remainder theorem when the key has its
// precomputed values (about four times faster).
func rawRSA(key *rsa.PrivateKey, m *big.Int) *big.Int {
	pc := key.Precomputed
	if len(key.Primes) != 2 || pc.Dp == nil || pc.Dq == nil || pc.Qinv == nil {
		return new(big.Int).Exp(m, key.D, key.N)
	}
	p, q := key.Primes[0], key.Primes[1]
	m1 := new(big.Int).Exp(m, pc.Dp, p)
	m2 := new(big.Int).Exp(m, pc.Dq, q)
	h := new(big.Int).Sub(m1, m2)
	h.Mul(h, pc.Qinv)
	h.Mod(h, p)
	h.Mul(h, q)
	return h.Add(h, m2)
}
