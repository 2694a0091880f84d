package piv

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"smartpath/pcsc"
)

// Provisioning: what a card issuer does to a card, which the kiosk never does. The tests
// use these to prepare and check cards (the virtual card implements the card's side); they
// are kept out of the package's production surface.

// ErrManagementKey means the management key (9B) authentication failed: the card refused
// the key, or the card could not prove it holds the same key.
var ErrManagementKey = errors.New("piv: management key authentication failed")

// AuthenticateManagementKey authenticates as the PIV Card Application Administrator with the
// management key (9B) by mutual challenge-response (SP 800-73-4 Part 2 Appendix A.3): the
// card sends an encrypted witness, the host returns it decrypted with its own challenge, and
// the card answers the challenge encrypted. alg is Alg3DES (24-byte key), AlgAES128,
// AlgAES192 or AlgAES256. Key management commands (GenerateKey, PutCertificate) need it
// first on the same card connection.
func (c *Client) AuthenticateManagementKey(ctx context.Context, alg Algorithm, key []byte) error {
	block, err := managementCipher(alg, key)
	if err != nil {
		return fmt.Errorf("piv: management key: %w", err)
	}
	bs := block.BlockSize()
	return c.exclusive(ctx, func(ctx context.Context) error {
		// Step 1: ask for a witness: 7C { 80 00 }.
		witness, err := c.adminAuthStep(ctx, alg, []byte{0x7C, 0x02, 0x80, 0x00}, 0x80, bs)
		if err != nil {
			return err
		}
		plain := make([]byte, bs)
		block.Decrypt(plain, witness)

		challenge := make([]byte, bs)
		if _, err := rand.Read(challenge); err != nil {
			return fmt.Errorf("piv: management key challenge: %w", err)
		}
		// Step 2: 7C { 80 decrypted witness, 81 our challenge } → 7C { 82 encrypted challenge }.
		inner := appendTLV(appendTLV(nil, 0x80, plain), 0x81, challenge)
		got, err := c.adminAuthStep(ctx, alg, appendTLV(nil, 0x7C, inner), 0x82, bs)
		if err != nil {
			return err
		}
		want := make([]byte, bs)
		block.Encrypt(want, challenge)
		if subtle.ConstantTimeCompare(got, want) != 1 {
			return fmt.Errorf("%w: the card's answer to the challenge is wrong (different key)", ErrManagementKey)
		}
		return nil
	})
}

// adminAuthStep sends one GENERAL AUTHENTICATE to key 9B and returns the value of tag want
// (bs bytes) inside the answer's 7C template, if the card sent one.
func (c *Client) adminAuthStep(ctx context.Context, alg Algorithm, data []byte, want uint32, bs int) ([]byte, error) {
	resp, err := c.tr.Do(ctx, pcsc.Command{INS: insGeneralAuthenticate, P1: byte(alg), P2: keyRefManagement, Data: data, Le: 256})
	if err != nil {
		var se *pcsc.StatusError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%w: %w", ErrManagementKey, err)
		}
		return nil, fmt.Errorf("piv: management key: %w", err)
	}
	if len(resp) == 0 && want == 0x82 {
		return nil, fmt.Errorf("%w: the card did not answer the host's challenge", ErrManagementKey)
	}
	fields, err := templateFields(resp, 0x7C, "dynamic authentication template")
	if err != nil {
		return nil, fmt.Errorf("piv: management key: %w", err)
	}
	v, ok := findTLV(fields, want)
	if !ok || len(v) != bs {
		return nil, fmt.Errorf("piv: management key: %w: answer without a %d-byte %X", errTLV, bs, want)
	}
	return v, nil
}

// managementCipher returns the block cipher for a management key.
func managementCipher(alg Algorithm, key []byte) (cipher.Block, error) {
	want := map[Algorithm]int{Alg3DES: 24, AlgAES128: 16, AlgAES192: 24, AlgAES256: 32}[alg]
	if want == 0 {
		return nil, fmt.Errorf("%s is not a management key algorithm (3DES, AES-128/192/256)", alg)
	}
	if len(key) != want {
		return nil, fmt.Errorf("a %s key is %d bytes, not %d", alg, want, len(key))
	}
	if alg == Alg3DES {
		return des.NewTripleDESCipher(key)
	}
	return aes.NewCipher(key)
}

// PutCertificate stores cert in slot's certificate object (PUT DATA, INS DB, P1P2 3FFF:
// 5C tag, 53 { 70 certificate, 71 00 uncompressed, FE error detection code }). The card
// requires the management key first. Later Certificate calls return cert.
func (c *Client) PutCertificate(ctx context.Context, slot Slot, cert *x509.Certificate) error {
	if cert == nil || len(cert.Raw) == 0 {
		return fmt.Errorf("piv: put certificate in slot %s: no certificate", slot)
	}
	obj := appendTLV(nil, 0x70, cert.Raw)
	obj = append(obj, 0x71, 0x01, 0x00, 0xFE, 0x00)
	data := appendTLV(nil, 0x5C, appendTag(nil, slot.Object))
	data = appendTLV(data, 0x53, obj)
	err := c.exclusive(ctx, func(ctx context.Context) error {
		_, err := c.tr.Do(ctx, pcsc.Command{INS: insPutData, P1: 0x3F, P2: 0xFF, Data: data})
		return err
	})
	if err != nil {
		return fmt.Errorf("piv: put certificate in slot %s: %w", slot, err)
	}
	c.cacheMu.Lock()
	c.certs[slot.Key] = cert
	c.cacheMu.Unlock()
	return nil
}

// GenerateKey makes a new key pair in slot on the card (GENERATE ASYMMETRIC KEY PAIR,
// INS 47) and returns its public key. The card requires the management key first
// ([Client.AuthenticateManagementKey]). alg is AlgRSA2048, AlgECCP256 or AlgECCP384.
func (c *Client) GenerateKey(ctx context.Context, slot Slot, alg Algorithm) (crypto.PublicKey, error) {
	switch alg {
	case AlgRSA2048, AlgECCP256, AlgECCP384:
	default:
		return nil, fmt.Errorf("piv: generate key in %s: %w (%s)", slot, ErrUnsupportedKey, alg)
	}
	// Control reference template: AC { 80 algorithm }.
	data := appendTLV(nil, 0xAC, []byte{0x80, 0x01, byte(alg)})
	var resp []byte
	err := c.exclusive(ctx, func(ctx context.Context) error {
		var err error
		resp, err = c.tr.Do(ctx, pcsc.Command{INS: insGenerateKeyPair, P1: 0x00, P2: slot.Key, Data: data, Le: c.le()})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("piv: generate %s key in %s: %w", alg, slot, err)
	}
	pub, err := parsePublicKey(resp, alg)
	if err != nil {
		return nil, fmt.Errorf("piv: generate %s key in %s: %w", alg, slot, err)
	}
	return pub, nil
}

// parsePublicKey decodes the 7F49 template of a GENERATE ASYMMETRIC KEY PAIR response
// (SP 800-73-4 Part 2 Table 10).
func parsePublicKey(resp []byte, alg Algorithm) (crypto.PublicKey, error) {
	fields, err := templateFields(resp, 0x7F49, "public key template")
	if err != nil {
		return nil, err
	}
	switch alg {
	case AlgRSA2048:
		n, okN := findTLV(fields, 0x81)
		e, okE := findTLV(fields, 0x82)
		if !okN || !okE {
			return nil, fmt.Errorf("%w: RSA public key without modulus (81) or exponent (82)", errTLV)
		}
		mod := new(big.Int).SetBytes(n)
		exp := new(big.Int).SetBytes(e)
		if mod.BitLen() != 2048 || !exp.IsInt64() || exp.Int64() < 3 || exp.Int64() > 1<<31-1 || exp.Bit(0) == 0 {
			return nil, fmt.Errorf("%w: RSA public key of %d bits with a bad exponent or size", errTLV, mod.BitLen())
		}
		return &rsa.PublicKey{N: mod, E: int(exp.Int64())}, nil
	case AlgECCP256, AlgECCP384:
		point, ok := findTLV(fields, 0x86)
		if !ok {
			return nil, fmt.Errorf("%w: EC public key without point (86)", errTLV)
		}
		curve := elliptic.P256()
		if alg == AlgECCP384 {
			curve = elliptic.P384()
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return nil, fmt.Errorf("%w: EC public key: %v", errTLV, err)
		}
		return pub, nil
	}
	return nil, ErrUnsupportedKey
}

// ErrPUKFormat means a PUK is not 6 to 8 bytes. It never contains the PUK.
var ErrPUKFormat = errors.New("piv: the PUK must be 6 to 8 characters")

func validatePUK(puk []byte) error {
	if len(puk) < 6 || len(puk) > 8 {
		return ErrPUKFormat
	}
	return nil
}

// ChangePIN replaces the application PIN (CHANGE REFERENCE DATA). Both PINs are validated
// first; a wrong old PIN gives an error wrapping [pcsc.WrongPINError].
func (c *Client) ChangePIN(ctx context.Context, oldPIN, newPIN []byte) error {
	if err := ValidatePIN(oldPIN); err != nil {
		return err
	}
	if err := ValidatePIN(newPIN); err != nil {
		return err
	}
	return c.referenceData(ctx, insChangeReference, oldPIN, newPIN, "change the PIN")
}

// UnblockPIN sets a new PIN with the PUK (RESET RETRY COUNTER, P2=80), which also resets
// the PIN's tries. A wrong PUK gives an error wrapping [pcsc.WrongPINError] with the PUK's
// tries left; a blocked PUK one wrapping [pcsc.ErrAuthBlocked].
func (c *Client) UnblockPIN(ctx context.Context, puk, newPIN []byte) error {
	if err := validatePUK(puk); err != nil {
		return err
	}
	if err := ValidatePIN(newPIN); err != nil {
		return err
	}
	return c.referenceData(ctx, insResetRetryCounter, puk, newPIN, "unblock the PIN")
}

// referenceData sends CHANGE REFERENCE DATA or RESET RETRY COUNTER with two 8-byte padded
// secrets, zeroing the APDU afterwards.
func (c *Client) referenceData(ctx context.Context, ins byte, first, second []byte, what string) error {
	if err := c.lock(ctx); err != nil {
		return err
	}
	defer c.unlock()
	var apdu [5 + 16]byte
	copy(apdu[:], []byte{0x00, ins, 0x00, keyRefPIN, 16})
	padTo8(apdu[5:13], first)
	padTo8(apdu[13:21], second)
	sw, err := c.transmitSecret(ctx, apdu[:])
	if err != nil {
		return fmt.Errorf("piv: %s: %w", what, err)
	}
	if err := pinSW(sw); err != nil {
		return fmt.Errorf("piv: %s: %w", what, err)
	}
	return nil
}
