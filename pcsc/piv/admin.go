package piv

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/rand"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"

	"smartpath/pcsc"
)

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
