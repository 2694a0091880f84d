package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"io"
	"math/big"
)

// deriveSalt versions the derivation: changing it changes every key made from a seed.
const deriveSalt = "smartpath test pki v1"

// deriveECKey returns the ECDSA key for label, derived from seed. The same seed and label
// always give the same key.
func deriveECKey(seed, label string, curve elliptic.Curve) (*ecdsa.PrivateKey, error) {
	size := (curve.Params().BitSize + 7) / 8
	for i := 0; i < 64; i++ {
		raw, err := hkdf.Key(sha256.New, []byte(seed), []byte(deriveSalt), fmt.Sprintf("%s/%d", label, i), size)
		if err != nil {
			return nil, fmt.Errorf("derive key %q: %w", label, err)
		}
		// A scalar not below the group order (or zero) is rejected; try the next one.
		if k, err := ecdsa.ParseRawPrivateKey(curve, raw); err == nil {
			return k, nil
		}
	}
	return nil, fmt.Errorf("derive key %q: no valid scalar found", label)
}

// deriveSerial returns a positive 127-bit certificate serial number derived from parts.
func deriveSerial(parts ...[]byte) *big.Int {
	h := sha256.New()
	for _, p := range parts {
		var n [8]byte
		big.NewInt(int64(len(p))).FillBytes(n[:])
		h.Write(n[:])
		h.Write(p)
	}
	sum := h.Sum(nil)[:16]
	sum[0] &= 0x7f
	sum[0] |= 0x40 // never shorter than 16 bytes, never negative
	return new(big.Int).SetBytes(sum)
}

// deterministicSigner signs with RFC 6979 deterministic ECDSA whatever random source the
// caller passes, so that certificates made from a seed are byte-identical.
type deterministicSigner struct{ key *ecdsa.PrivateKey }

var _ crypto.Signer = deterministicSigner{}

func (s deterministicSigner) Public() crypto.PublicKey { return s.key.Public() }

func (s deterministicSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.key.Sign(nil, digest, opts)
}
