package vcard

import (
	"crypto"
	"crypto/rand"
	"fmt"
	"time"

	"smartpath/testing/pki"
)

// Citizen describes a council citizen card for NewCitizenCard.
type Citizen struct {
	Name   string // printed on the card and the certificates' common name
	Number string // citizen number: the certificates' subject serialNumber
	Alg    Alg    // key algorithm of 9A and 9C: AlgRSA2048, AlgP256 (default) or AlgP384
	// Keys optionally supplies the keys of 9A and/or 9C (for example to reuse one RSA key
	// across tests); missing ones are generated.
	Keys map[Slot]crypto.Signer
	// NotBefore and NotAfter override the certificates' validity (see pki.Citizen), for
	// example to make an expired card.
	NotBefore, NotAfter time.Time
	// Expires is the expiry written in the CHUID and printed information; default five
	// years from now.
	Expires time.Time
	Options Options // PIN, PUK, retries, management key, serial, …
}

// NewCitizenCard makes a personalised card: a key and a citizen certificate from p in 9A
// (PIV authentication) and 9C (digital signature), a CHUID with a random GUID, a CCC, the
// printed information and the discovery object.
func NewCitizenCard(p *pki.PKI, cz Citizen) (*Card, error) {
	if cz.Alg == 0 {
		cz.Alg = AlgP256
	}
	if !cz.Alg.isAsymmetric() {
		return nil, fmt.Errorf("vcard: citizen card algorithm %v: use rsa2048, p256 or p384", cz.Alg)
	}
	if cz.Expires.IsZero() {
		cz.Expires = time.Now().AddDate(5, 0, 0)
	}
	c, err := New(cz.Options)
	if err != nil {
		return nil, err
	}
	for _, slot := range []Slot{SlotAuthentication, SlotSignature} {
		key := cz.Keys[slot]
		if key == nil {
			if key, err = GenerateKey(cz.Alg); err != nil {
				return nil, err
			}
		}
		if err := c.SetKey(slot, key); err != nil {
			return nil, err
		}
		cert, err := p.IssueCitizenCert(pki.Citizen{Name: cz.Name, Number: cz.Number, Public: key.Public(),
			NotBefore: cz.NotBefore, NotAfter: cz.NotAfter})
		if err != nil {
			return nil, err
		}
		if err := c.SetCertificate(slot, cert); err != nil {
			return nil, err
		}
	}
	var guid [16]byte
	var cardID [14]byte
	_, _ = rand.Read(guid[:])
	_, _ = rand.Read(cardID[:])
	objects := map[uint32][]byte{
		TagCHUID:       CHUIDObject(guid, cz.Expires),
		TagCCC:         CCCObject(cardID),
		TagPrintedInfo: PrintedInfoObject(cz.Name, "Citizen", cz.Number, "SmartPath", cz.Expires),
	}
	for tag, v := range objects {
		if err := c.SetObject(tag, v); err != nil {
			return nil, err
		}
	}
	return c, nil
}
