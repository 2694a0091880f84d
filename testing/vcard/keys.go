package vcard

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"strings"
)

// Alg is a PIV algorithm identifier (SP 800-78-4 table 6-2).
type Alg byte

// Algorithms of card keys and of the management key.
const (
	Alg3DES    Alg = 0x03
	AlgRSA2048 Alg = 0x07
	AlgAES128  Alg = 0x08
	AlgAES192  Alg = 0x0A
	AlgAES256  Alg = 0x0C
	AlgP256    Alg = 0x11
	AlgP384    Alg = 0x14
)

var algNames = map[Alg]string{
	Alg3DES: "3des", AlgAES128: "aes128", AlgAES192: "aes192", AlgAES256: "aes256",
	AlgRSA2048: "rsa2048", AlgP256: "p256", AlgP384: "p384",
}

func (a Alg) String() string {
	if n, ok := algNames[a]; ok {
		return n
	}
	return fmt.Sprintf("alg(%#02x)", byte(a))
}

// ParseAlg parses an algorithm name: rsa2048, p256, p384 (card keys) or 3des, aes128,
// aes192, aes256 (management key).
func ParseAlg(s string) (Alg, error) {
	for a, n := range algNames {
		if strings.EqualFold(s, n) {
			return a, nil
		}
	}
	return 0, fmt.Errorf("unknown algorithm %q: use rsa2048, p256 or p384", s)
}

// isAsymmetric reports whether a is an algorithm for a card key.
func (a Alg) isAsymmetric() bool { return a == AlgRSA2048 || a == AlgP256 || a == AlgP384 }

// keyLength is the key length of a management-key algorithm, 0 for others.
func (a Alg) keyLength() int {
	switch a {
	case Alg3DES, AlgAES192:
		return 24
	case AlgAES128:
		return 16
	case AlgAES256:
		return 32
	}
	return 0
}

// Slot is a PIV key reference.
type Slot byte

// Key references (SP 800-73-4 part 1 table 4b).
const (
	SlotAuthentication     Slot = 0x9A // PIV authentication: PIN once per session
	SlotManagement         Slot = 0x9B // card management (symmetric) key
	SlotSignature          Slot = 0x9C // digital signature: PIN before every use
	SlotKeyManagement      Slot = 0x9D // key management: PIN once per session
	SlotCardAuthentication Slot = 0x9E // card authentication: no PIN
)

func (s Slot) String() string { return fmt.Sprintf("%02x", byte(s)) }

// isKeySlot reports whether s can hold an asymmetric key: 9A, 9C, 9D, 9E or a retired key
// management slot 82–95.
func (s Slot) isKeySlot() bool {
	return s == SlotAuthentication || s == SlotSignature || s == SlotKeyManagement ||
		s == SlotCardAuthentication || (s >= 0x82 && s <= 0x95)
}

// certTag returns the data object that holds the certificate of slot s.
func (s Slot) certTag() (uint32, bool) {
	switch {
	case s == SlotAuthentication:
		return tagCertAuth, true
	case s == SlotSignature:
		return tagCertSign, true
	case s == SlotKeyManagement:
		return tagCertKeyMgmt, true
	case s == SlotCardAuthentication:
		return tagCertCardAuth, true
	case s >= 0x82 && s <= 0x95:
		return 0x5FC10D + uint32(s-0x82), true
	}
	return 0, false
}

// PINPolicy says when a key needs the PIN.
type PINPolicy byte

// PIN policies (the Yubico AA tag values).
const (
	PINPolicyDefault PINPolicy = 0 // by slot: 9E never, 9C always, the others once
	PINPolicyNever   PINPolicy = 1
	PINPolicyOnce    PINPolicy = 2
	PINPolicyAlways  PINPolicy = 3
)

// effective resolves the default policy for slot s.
func (p PINPolicy) effective(s Slot) PINPolicy {
	if p != PINPolicyDefault {
		return p
	}
	switch s {
	case SlotCardAuthentication:
		return PINPolicyNever
	case SlotSignature:
		return PINPolicyAlways
	}
	return PINPolicyOnce
}

// slotKey is an asymmetric key held in a slot.
type slotKey struct {
	alg    Alg
	signer crypto.Signer // *rsa.PrivateKey or *ecdsa.PrivateKey
	policy PINPolicy
}

// GenerateKey makes a new random key for a card algorithm (AlgRSA2048, AlgP256, AlgP384).
func GenerateKey(alg Alg) (crypto.Signer, error) {
	switch alg {
	case AlgRSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case AlgP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	}
	return nil, fmt.Errorf("vcard: cannot generate a key for %v: use rsa2048, p256 or p384", alg)
}

// algOf returns the PIV algorithm of a key.
func algOf(k crypto.Signer) (Alg, error) {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() == 2048 {
			return AlgRSA2048, nil
		}
		return 0, fmt.Errorf("vcard: RSA key of %d bits: only RSA-2048 is supported", k.N.BitLen())
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return AlgP256, nil
		case elliptic.P384():
			return AlgP384, nil
		}
		return 0, fmt.Errorf("vcard: ECDSA curve %s: only P-256 and P-384 are supported", k.Curve.Params().Name)
	}
	return 0, fmt.Errorf("vcard: key type %T: use *rsa.PrivateKey or *ecdsa.PrivateKey", k)
}
