package vcard

import (
	"crypto/x509"
	"strings"
	"time"
)

// PIV data object tags (SP 800-73-4 part 1 table 3).
const (
	tagCertCardAuth = 0x5FC101
	TagCHUID        = 0x5FC102
	tagFingerprints = 0x5FC103
	tagSecurityObj  = 0x5FC106
	TagCCC          = 0x5FC107
	tagFacialImage  = 0x5FC108
	TagPrintedInfo  = 0x5FC109
	tagCertAuth     = 0x5FC105
	tagCertSign     = 0x5FC10A
	tagCertKeyMgmt  = 0x5FC10B
	tagIris         = 0x5FC121
	TagDiscovery    = 0x7E
	tagBITGroup     = 0x7F61
)

// maxObject bounds one data object (a YubiKey 5 holds up to 3052 bytes).
const maxObject = 3072

// pivAID is the full PIV application identifier, with version; a SELECT may use any prefix
// from the RID+PIX "A0 00 00 03 08" on.
var pivAID = []byte{0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00}

// knownObject reports whether tag names a PIV data object this card stores.
func knownObject(tag uint32) bool {
	switch {
	case tag == TagDiscovery, tag == tagBITGroup:
		return true
	case tag >= 0x5FC101 && tag <= 0x5FC123:
		return true
	case tag >= 0x5FFF00 && tag <= 0x5FFF15: // Yubico-specific objects (admin data, …)
		return true
	}
	return false
}

// needsPIN reports whether reading object tag needs the PIN (SP 800-73-4 part 1 table 2).
func needsPIN(tag uint32) bool {
	switch tag {
	case TagPrintedInfo, tagFingerprints, tagFacialImage, tagIris:
		return true
	}
	return false
}

// discoveryObject is the content of 7E: the PIV AID, and a PIN usage policy of "PIV PIN
// only, PIV PIN is primary".
func discoveryObject() []byte {
	return append(tlv(0x4F, pivAID), tlv(0x5F2F, []byte{0x40, 0x00})...)
}

// fascn is the FASC-N a YubiKey puts in its default CHUID (agency code 9999: not a federal
// card).
var fascn = []byte{0xD4, 0xE7, 0x39, 0xDA, 0x73, 0x9C, 0xED, 0x39, 0xCE, 0x73, 0x9D, 0x83, 0x68,
	0x58, 0x21, 0x08, 0x42, 0x10, 0x84, 0x21, 0xC8, 0x42, 0x10, 0xC3, 0xEB}

// CHUIDObject returns the content of a Card Holder Unique Identifier object with the given
// GUID and expiry date, and an empty issuer signature.
func CHUIDObject(guid [16]byte, expires time.Time) []byte {
	var b []byte
	b = append(b, tlv(0x30, fascn)...)
	b = append(b, tlv(0x34, guid[:])...)
	b = append(b, tlv(0x35, []byte(expires.UTC().Format("20060102")))...)
	b = append(b, tlv(0x3E, nil)...)
	return append(b, tlv(0xFE, nil)...)
}

// CCCObject returns the content of a Card Capability Container for card identifier id.
func CCCObject(id [14]byte) []byte {
	var b []byte
	// F0: card identifier = GSC-RID A0 00 00 01 16, manufacturer FF, card type 02, id.
	cardID := append([]byte{0xA0, 0x00, 0x00, 0x01, 0x16, 0xFF, 0x02}, id[:]...)
	b = append(b, tlv(0xF0, cardID)...)
	b = append(b, tlv(0xF1, []byte{0x21})...) // container version
	b = append(b, tlv(0xF2, []byte{0x21})...) // grammar version
	b = append(b, tlv(0xF3, nil)...)
	b = append(b, tlv(0xF4, []byte{0x00})...)
	b = append(b, tlv(0xF5, []byte{0x10})...) // PKCS#15 not used, data model 0x10 (PIV)
	for _, t := range []uint32{0xF6, 0xF7, 0xFA, 0xFB, 0xFC, 0xFD} {
		b = append(b, tlv(t, nil)...)
	}
	return append(b, tlv(0xFE, nil)...)
}

// PrintedInfoObject returns the content of a Printed Information object.
func PrintedInfoObject(name, affiliation, cardSerial, issuer string, expires time.Time) []byte {
	clip := func(s string, n int) []byte {
		if len(s) > n {
			s = s[:n]
		}
		return []byte(s)
	}
	var b []byte
	b = append(b, tlv(0x01, clip(name, 125))...)
	b = append(b, tlv(0x02, clip(affiliation, 20))...)
	b = append(b, tlv(0x04, []byte(strings.ToUpper(expires.UTC().Format("2006Jan02"))))...)
	b = append(b, tlv(0x05, clip(cardSerial, 20))...)
	b = append(b, tlv(0x06, clip(issuer, 15))...)
	return append(b, tlv(0xFE, nil)...)
}

// certObject returns the content of a certificate data object: the DER certificate (70),
// uncompressed (71 = 00), and the error detection code (FE).
func certObject(cert *x509.Certificate) []byte {
	b := tlv(0x70, cert.Raw)
	b = append(b, tlv(0x71, []byte{0x00})...)
	return append(b, tlv(0xFE, nil)...)
}
