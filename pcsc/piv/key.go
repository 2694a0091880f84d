package piv

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
)

// Slot is a PIV key slot: the key reference used by GENERAL AUTHENTICATE and the data object
// holding its certificate (SP 800-73-4 Part 1 Table 3 and Table 4b).
type Slot struct {
	Key    byte
	Object uint32
}

// The four slots of SP 800-73-4 with an X.509 certificate.
var (
	// Slot9A is "PIV Authentication": the citizen's key for TLS client authentication.
	Slot9A = Slot{Key: 0x9A, Object: 0x5FC105}
	// Slot9C is "Digital Signature": the PIN must be verified right before every use.
	Slot9C = Slot{Key: 0x9C, Object: 0x5FC10A}
	// Slot9D is "Key Management".
	Slot9D = Slot{Key: 0x9D, Object: 0x5FC10B}
	// Slot9E is "Card Authentication": usable without the PIN.
	Slot9E = Slot{Key: 0x9E, Object: 0x5FC101}
)

// SlotNamed returns the slot whose key reference is name in hex ("9a" or "9A"), if it is
// one of the four above.
func SlotNamed(name string) (Slot, bool) {
	for _, s := range []Slot{Slot9A, Slot9C, Slot9D, Slot9E} {
		if strings.EqualFold(name, s.String()) {
			return s, true
		}
	}
	return Slot{}, false
}

// String names the slot by its key reference, e.g. "9A".
func (s Slot) String() string { return fmt.Sprintf("%02X", s.Key) }

// pinAlways reports whether SP 800-73-4 requires a VERIFY right before each use of the key.
func (s Slot) pinAlways() bool { return s.Key == 0x9C }

// keyRefManagement is the PIV Card Application Administration Key (9B).
const keyRefManagement = 0x9B

// Algorithm is a cryptographic algorithm identifier of SP 800-78-4 Table 6-2, as used in P1
// of GENERAL AUTHENTICATE and in GENERATE ASYMMETRIC KEY PAIR.
type Algorithm byte

// Algorithm identifiers (SP 800-78-4 Table 6-2).
const (
	Alg3DES    Algorithm = 0x03 // 3 Key Triple DES – ECB
	AlgRSA1024 Algorithm = 0x06 // RSA 1024 bit modulus
	AlgRSA2048 Algorithm = 0x07 // RSA 2048 bit modulus
	AlgAES128  Algorithm = 0x08 // AES-128 – ECB
	AlgAES192  Algorithm = 0x0A // AES-192 – ECB
	AlgAES256  Algorithm = 0x0C // AES-256 – ECB
	AlgECCP256 Algorithm = 0x11 // ECC: Curve P-256
	AlgECCP384 Algorithm = 0x14 // ECC: Curve P-384
)

// String names the algorithm, e.g. "RSA-2048".
func (a Algorithm) String() string {
	switch a {
	case Alg3DES:
		return "3DES"
	case AlgRSA1024:
		return "RSA-1024"
	case AlgRSA2048:
		return "RSA-2048"
	case AlgAES128:
		return "AES-128"
	case AlgAES192:
		return "AES-192"
	case AlgAES256:
		return "AES-256"
	case AlgECCP256:
		return "P-256"
	case AlgECCP384:
		return "P-384"
	}
	return fmt.Sprintf("algorithm %02X", byte(a))
}

// ErrUnsupportedKey means a key type or algorithm this package does not sign with: only
// RSA-2048, ECDSA P-256 and ECDSA P-384 are supported.
var ErrUnsupportedKey = errors.New("unsupported key: only RSA-2048, ECDSA P-256 and P-384 are supported")

// algorithmFor maps a public key to its PIV algorithm identifier.
func algorithmFor(pub crypto.PublicKey) (Algorithm, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() == 2048 {
			return AlgRSA2048, nil
		}
		return 0, fmt.Errorf("%w (RSA key of %d bits)", ErrUnsupportedKey, k.N.BitLen())
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return AlgECCP256, nil
		case elliptic.P384():
			return AlgECCP384, nil
		}
		return 0, fmt.Errorf("%w (curve %s)", ErrUnsupportedKey, k.Curve.Params().Name)
	}
	return 0, fmt.Errorf("%w (%T)", ErrUnsupportedKey, pub)
}
