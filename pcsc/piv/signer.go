package piv

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"

	"smartpath/pcsc"
)

// ErrPINRequired means the key needs the PIN verified first: for slot 9C (PIN always)
// right before every signature, which needs a [PINPrompt] on the Signer; for other slots,
// the card answered 6982 (security status not satisfied) and the error also wraps
// [pcsc.ErrSecurityStatus].
var ErrPINRequired = errors.New("the PIN must be verified before this key can sign")

// ErrBadSignature means the card returned a signature that does not verify with the public
// key: a wrong key in the slot, or a faulty card.
var ErrBadSignature = errors.New("piv: the card's signature does not verify with the slot's public key")

// PINPrompt asks a person for the PIN of a PIN-always key (slot 9C). It is called right
// before each signature, with no card lock or transaction held; the Signer zeroes the
// returned slice after the VERIFY. Return an error to cancel the signature.
type PINPrompt func(ctx context.Context) ([]byte, error)

// Signer signs with the private key of one slot. It implements [crypto.Signer]. Signatures
// of one Client are serialised: one card operation at a time.
type Signer struct {
	c      *Client
	slot   Slot
	alg    Algorithm
	pub    crypto.PublicKey
	prompt PINPrompt
}

var _ crypto.Signer = (*Signer)(nil)

// Signer returns a signer for slot whose public key is pub (usually from the slot's
// certificate). pub must be an RSA-2048, P-256 or P-384 key, else ErrUnsupportedKey.
func (c *Client) Signer(slot Slot, pub crypto.PublicKey) (*Signer, error) {
	alg, err := algorithmFor(pub)
	if err != nil {
		return nil, fmt.Errorf("piv: signer for slot %s: %w", slot, err)
	}
	return &Signer{c: c, slot: slot, alg: alg, pub: pub}, nil
}

// SetPINPrompt sets how a PIN-always slot (9C) gets its PIN before each signature; call it
// before the Signer is shared between goroutines. Without one, signing with 9C returns
// ErrPINRequired without touching the card. For other slots the prompt is not used: verify
// the PIN once with [Client.VerifyPIN].
func (s *Signer) SetPINPrompt(prompt PINPrompt) { s.prompt = prompt }

// Public returns the slot's public key.
func (s *Signer) Public() crypto.PublicKey { return s.pub }

// Sign is SignContext bounded by Options.SignTimeout (default 20 s), for callers such as
// crypto/tls that have no context to give.
func (s *Signer) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.c.opts.SignTimeout)
	defer cancel()
	return s.SignContext(ctx, rand, digest, opts)
}

// SignContext signs digest like [crypto.Signer]: RSA with PKCS #1 v1.5, or PSS when opts is
// a *rsa.PSSOptions (salt from rand), the padding built on the host and sent to the card as
// one raw RSA operation; ECDSA with the digest truncated or zero-padded to the curve size,
// returning an ASN.1 DER signature. Every signature is checked against the public key before
// it is returned.
func (s *Signer) SignContext(ctx context.Context, rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts == nil {
		opts = crypto.Hash(0)
	}
	if h := opts.HashFunc(); h != 0 && len(digest) != h.Size() {
		return nil, fmt.Errorf("piv: sign with slot %s: digest is %d bytes, %v needs %d", s.slot, len(digest), h, h.Size())
	}
	var input []byte
	switch pub := s.pub.(type) {
	case *rsa.PublicKey:
		var err error
		k := (pub.N.BitLen() + 7) / 8
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			input, err = emsaPSSEncode(rand, digest, pss, pub.N.BitLen()-1)
		} else {
			input, err = emsaPKCS1v15Encode(digest, opts.HashFunc(), k)
		}
		if err != nil {
			return nil, fmt.Errorf("piv: sign with slot %s: %w", s.slot, err)
		}
	case *ecdsa.PublicKey:
		input = ecdsaInput(digest, (pub.Curve.Params().BitSize+7)/8)
	}

	var pin []byte
	if s.slot.pinAlways() {
		if s.prompt == nil {
			return nil, fmt.Errorf("piv: sign with slot %s: %w (it needs a PIN prompt)", s.slot, ErrPINRequired)
		}
		var err error
		if pin, err = s.prompt(ctx); err != nil {
			clear(pin)
			return nil, fmt.Errorf("piv: sign with slot %s: PIN prompt: %w", s.slot, err)
		}
		defer clear(pin)
		if err := ValidatePIN(pin); err != nil {
			return nil, err
		}
	}

	var resp []byte
	err := s.c.exclusive(ctx, func(ctx context.Context) error {
		if pin != nil {
			if err := s.c.verifyPIN(ctx, pin); err != nil {
				return err
			}
		}
		var err error
		resp, err = s.c.generalAuthenticate(ctx, s.alg, s.slot.Key, input)
		return err
	})
	if err != nil {
		if errors.Is(err, pcsc.ErrSecurityStatus) {
			return nil, fmt.Errorf("piv: sign with slot %s: %w (%w)", s.slot, ErrPINRequired, err)
		}
		return nil, fmt.Errorf("piv: sign with slot %s: %w", s.slot, err)
	}
	return s.finish(resp, digest, opts)
}

// finish validates the card's answer and checks it against the public key.
func (s *Signer) finish(sig, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	switch pub := s.pub.(type) {
	case *rsa.PublicKey:
		k := (pub.N.BitLen() + 7) / 8
		if len(sig) > k {
			return nil, fmt.Errorf("%w: %d bytes for a %d-byte modulus", ErrBadSignature, len(sig), k)
		}
		if len(sig) < k { // restore leading zeros a card may strip
			sig = append(make([]byte, k-len(sig)), sig...)
		}
		var err error
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			err = rsa.VerifyPSS(pub, pss.HashFunc(), digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
		} else {
			err = rsa.VerifyPKCS1v15(pub, opts.HashFunc(), digest, sig)
		}
		if err != nil {
			return nil, fmt.Errorf("%w (slot %s)", ErrBadSignature, s.slot)
		}
		return sig, nil
	case *ecdsa.PublicKey:
		der, err := canonicalECDSA(sig)
		if err != nil {
			return nil, fmt.Errorf("%w (slot %s): %v", ErrBadSignature, s.slot, err)
		}
		size := (pub.Curve.Params().BitSize + 7) / 8
		if !ecdsa.VerifyASN1(pub, ecdsaInput(digest, size), der) {
			return nil, fmt.Errorf("%w (slot %s)", ErrBadSignature, s.slot)
		}
		return der, nil
	}
	return nil, ErrUnsupportedKey
}

// generalAuthenticate sends GENERAL AUTHENTICATE with the dynamic authentication template
// 7C { 82 00 (response requested), 81 challenge } and returns the 82 value of the answer
// (SP 800-73-4 Part 2 §3.2.4 and Appendix A.2). The caller holds the card.
func (c *Client) generalAuthenticate(ctx context.Context, alg Algorithm, key byte, challenge []byte) ([]byte, error) {
	inner := make([]byte, 0, len(challenge)+8)
	inner = append(inner, 0x82, 0x00)
	inner = appendTLV(inner, 0x81, challenge)
	data := appendTLV(make([]byte, 0, len(inner)+4), 0x7C, inner)
	resp, err := c.tr.Do(ctx, pcsc.Command{INS: insGeneralAuthenticate, P1: byte(alg), P2: key, Data: data, Le: c.le()})
	if err != nil {
		return nil, err
	}
	fields, err := templateFields(resp, 0x7C, "dynamic authentication template")
	if err != nil {
		return nil, err
	}
	out, ok := findTLV(fields, 0x82)
	if !ok || len(out) == 0 {
		return nil, fmt.Errorf("%w: GENERAL AUTHENTICATE answer without a response (82)", errTLV)
	}
	return out, nil
}

// DigestInfo prefixes (RFC 8017 §9.2 note 1), as in crypto/rsa.
var digestInfoPrefix = map[crypto.Hash][]byte{
	crypto.SHA1:   {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14},
	crypto.SHA224: {0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00, 0x04, 0x1c},
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
	// MD5+SHA1 (TLS 1.0/1.1) has no DigestInfo.
	crypto.MD5SHA1: {},
}

// emsaPKCS1v15Encode builds EM = 00 01 FF…FF 00 DigestInfo (RFC 8017 §9.2) for a k-byte
// modulus. hash 0 signs digest as it is, like crypto/rsa.
func emsaPKCS1v15Encode(digest []byte, hash crypto.Hash, k int) ([]byte, error) {
	prefix, ok := digestInfoPrefix[hash]
	if !ok && hash != 0 {
		return nil, fmt.Errorf("PKCS #1 v1.5 with %v is not supported", hash)
	}
	tLen := len(prefix) + len(digest)
	if tLen+11 > k {
		return nil, fmt.Errorf("a %d-byte digest does not fit a %d-byte RSA block", len(digest), k)
	}
	em := make([]byte, k)
	em[1] = 0x01
	for i := 2; i < k-tLen-1; i++ {
		em[i] = 0xFF
	}
	copy(em[k-tLen:], prefix)
	copy(em[k-len(digest):], digest)
	return em, nil
}

// emsaPSSEncode builds EM per RFC 8017 §9.1.1 with MGF1 over the same hash. The salt length
// follows opts: PSSSaltLengthEqualsHash, PSSSaltLengthAuto (the maximum, as crypto/rsa
// signs), or an explicit length.
func emsaPSSEncode(rand io.Reader, mHash []byte, opts *rsa.PSSOptions, emBits int) ([]byte, error) {
	hash := opts.HashFunc()
	if hash == 0 || !hash.Available() {
		return nil, errors.New("PSS needs a known hash in its options")
	}
	hLen := hash.Size()
	emLen := (emBits + 7) / 8
	sLen := opts.SaltLength
	switch sLen {
	case rsa.PSSSaltLengthEqualsHash:
		sLen = hLen
	case rsa.PSSSaltLengthAuto:
		sLen = emLen - hLen - 2
	}
	if sLen < 0 || emLen < hLen+sLen+2 {
		return nil, fmt.Errorf("PSS salt of %d bytes does not fit a %d-byte block", opts.SaltLength, emLen)
	}
	if rand == nil {
		return nil, errors.New("PSS needs a random source for its salt")
	}
	salt := make([]byte, sLen)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return nil, fmt.Errorf("PSS salt: %w", err)
	}
	h := hash.New()
	h.Write(make([]byte, 8))
	h.Write(mHash)
	h.Write(salt)
	hv := h.Sum(nil)

	em := make([]byte, emLen)
	db := em[:emLen-hLen-1]
	db[emLen-sLen-hLen-2] = 0x01
	copy(db[emLen-sLen-hLen-1:], salt)
	mgf1XOR(db, hash, hv)
	db[0] &= 0xFF >> (8*emLen - emBits)
	copy(em[emLen-hLen-1:], hv)
	em[emLen-1] = 0xBC
	return em, nil
}

// mgf1XOR XORs out with MGF1(seed) (RFC 8017 §B.2.1).
func mgf1XOR(out []byte, hash crypto.Hash, seed []byte) {
	var counter [4]byte
	done := 0
	for done < len(out) {
		h := hash.New()
		h.Write(seed)
		h.Write(counter[:])
		block := h.Sum(nil)
		n := subtle.XORBytes(out[done:], out[done:], block)
		done += n
		for i := 3; i >= 0; i-- {
			counter[i]++
			if counter[i] != 0 {
				break
			}
		}
	}
}

// ecdsaInput makes the digest exactly size bytes: ECDSA uses the leftmost bits of a longer
// digest (FIPS 186-4 §6.4), and a shorter one is the same integer with leading zeros.
func ecdsaInput(digest []byte, size int) []byte {
	if len(digest) >= size {
		return digest[:size]
	}
	out := make([]byte, size)
	copy(out[size-len(digest):], digest)
	return out
}

// canonicalECDSA checks that sig is exactly one DER SEQUENCE of two positive INTEGERs and
// returns it re-encoded.
func canonicalECDSA(sig []byte) ([]byte, error) {
	var v struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(sig, &v)
	if err != nil || len(rest) != 0 {
		return nil, errors.New("not a DER ECDSA signature")
	}
	if v.R.Sign() <= 0 || v.S.Sign() <= 0 {
		return nil, errors.New("ECDSA signature with a non-positive value")
	}
	return asn1.Marshal(v)
}
