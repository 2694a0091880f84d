package vcard

import (
	"bytes"
	"crypto"
	"crypto/des"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"path/filepath"
	"testing"
)

func TestSelect(t *testing.T) {
	c, err := New(Options{RequireSelect: true})
	if err != nil {
		t.Fatal(err)
	}
	_, sw := send(t, c, "00 CB 3F FF 03 5C 01 7E 00")
	wantSW(t, sw, swINSNotSupported)
	_, sw = send(t, c, "00 A4 04 00 05 A0 00 00 03 09 00")
	wantSW(t, sw, swNotFound)
	apt, sw := send(t, c, "00 A4 04 00 09 A0 00 00 03 08 00 00 10 00 00")
	wantSW(t, sw, swOK)
	fields, err := parseTLVs(tlvValue(t, apt, 0x61), 8)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []uint32{0x4F, 0x79, 0x50, 0xAC} {
		if fields[tag] == nil {
			t.Errorf("APT lacks tag %X: %X", tag, apt)
		}
	}
	disc, sw := send(t, c, "00 CB 3F FF 03 5C 01 7E 00")
	wantSW(t, sw, swOK)
	if !bytes.Equal(disc, tlv(0x7E, discoveryObject())) {
		t.Errorf("discovery = %X", disc)
	}
	// SELECT again clears the security status (as on a YubiKey).
	wantSW(t, verifyPIN(t, c, "123456"), swOK)
	_, sw = send(t, c, "00 A4 04 00 05 A0 00 00 03 08")
	wantSW(t, sw, swOK)
	_, sw = send(t, c, "00 20 00 80")
	wantSW(t, sw, 0x63C3)
	c.Reset()
	_, sw = send(t, c, "00 CB 3F FF 03 5C 01 7E 00")
	wantSW(t, sw, swINSNotSupported)
}

func TestGetDataLeAndChains(t *testing.T) {
	c, _ := citizenCard(t, AlgP256)
	obj, _ := c.Object(tagCertAuth)
	full := tlv(0x53, obj)

	// Le = 8: the header, then 61xx for the rest.
	head, sw := send(t, c, "00 CB 3F FF 05 5C 03 5F C1 05 08")
	if !bytes.Equal(head, full[:8]) || sw&0xFF00 != swBytesRemaining {
		t.Fatalf("header read: %X %04X", head, sw)
	}
	rest, sw := sendAll(t, c, 0x00, insGetResponse, 0, 0, nil)
	wantSW(t, sw, swOK)
	if !bytes.Equal(append(head, rest...), full) {
		t.Error("object reassembled from GET RESPONSE differs")
	}
	// A new command drops the pending response.
	send(t, c, "00 CB 3F FF 05 5C 03 5F C1 05 08")
	send(t, c, "00 CB 3F FF 03 5C 01 7E 00")
	_, sw = send(t, c, "00 C0 00 00 00")
	wantSW(t, sw, swConditionsNotSatisfy)

	got, sw := sendAll(t, c, 0x00, insGetData, 0x3F, 0xFF, mustHex(t, "5C 03 5F C1 05"))
	wantSW(t, sw, swOK)
	if !bytes.Equal(got, full) {
		t.Error("chained read differs")
	}
	// Extended Le: all at once.
	got, sw = sendBytes(t, c, mustHex(t, "00 CB 3F FF 00 00 05 5C 03 5F C1 05 00 00"))
	wantSW(t, sw, swOK)
	if !bytes.Equal(got, full) {
		t.Error("extended read differs")
	}
	cert, err := c.Certificate(SlotAuthentication)
	if err != nil || cert.Subject.CommonName != "Jane Citizen" {
		t.Fatalf("certificate: %v %v", cert, err)
	}

	for _, tc := range []struct {
		apdu string
		sw   uint16
	}{
		{"00 CB 3F FF 05 5C 03 5F C1 09 00", swSecurityStatus}, // printed info needs the PIN
		{"00 CB 3F FF 05 5C 03 5F C1 0B 00", swNotFound},       // no key management cert
		{"00 CB 3F FF 05 5C 03 5F C0 01 00", swNotFound},       // not a PIV object
		{"00 CB 3F FE 05 5C 03 5F C1 02 00", swWrongP1P2},
		{"00 CB 3F FF 05 5D 03 5F C1 02 00", swWrongData},
		{"00 CB 3F FF 05 5C 04 5F C1 02 00", swWrongData},
		{"00 CB 3F FF 06 5C 03 5F C1 02", swWrongLength}, // Lc larger than the data
		{"80 CB 3F FF 05 5C 03 5F C1 02 00", swCLANotSupported},
		{"00 EE 00 00", swINSNotSupported},
		{"00 C0 01 00 00", swWrongP1P2},
		{"00", swWrongLength},
	} {
		_, sw := send(t, c, tc.apdu)
		if sw != tc.sw {
			t.Errorf("%s: SW %04X, want %04X", tc.apdu, sw, tc.sw)
		}
	}
	wantSW(t, verifyPIN(t, c, "123456"), swOK)
	info, sw := sendAll(t, c, 0x00, insGetData, 0x3F, 0xFF, mustHex(t, "5C 03 5F C1 09"))
	wantSW(t, sw, swOK)
	if !bytes.Contains(info, []byte("Jane Citizen")) {
		t.Errorf("printed information %X lacks the name", info)
	}
}

func TestVerifyCountersAndBlocking(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "CARD.json")
	c, _ := citizenCard(t, AlgP256)
	_, sw := send(t, c, "00 20 00 80")
	wantSW(t, sw, 0x63C3)
	wantSW(t, verifyPIN(t, c, "654321"), 0x63C2)
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	_, sw = send(t, c, "00 20 00 80")
	wantSW(t, sw, 0x63C2)
	wantSW(t, verifyPIN(t, c, "123456"), swOK)
	_, sw = send(t, c, "00 20 00 80")
	wantSW(t, sw, swOK)
	_, sw = send(t, c, "00 20 FF 80")
	wantSW(t, sw, swOK)
	_, sw = send(t, c, "00 20 00 80")
	wantSW(t, sw, 0x63C3)

	// Saved after every change through SetOnChange.
	c.SetOnChange(func() {
		if err := c.Save(path); err != nil {
			t.Error(err)
		}
	})
	wantSW(t, verifyPIN(t, c, "000000"), 0x63C2)
	wantSW(t, verifyPIN(t, c, "000000"), 0x63C1)
	wantSW(t, verifyPIN(t, c, "000000"), 0x63C0)
	wantSW(t, verifyPIN(t, c, "123456"), swAuthBlocked)
	_, sw = send(t, c, "00 20 00 80")
	wantSW(t, sw, swAuthBlocked)
	if n := c.VerifyCount(); n != 5 {
		t.Errorf("VerifyCount = %d, want 5", n)
	}
	c, err = Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.PINTriesLeft() != 0 {
		t.Fatalf("blocked PIN not saved: %d tries left", c.PINTriesLeft())
	}
	c.SetOnChange(func() { _ = c.Save(path) })

	// Wrong PUK, then unblock with the right PUK and a new PIN.
	_, sw = sendBytes(t, c, append(mustHex(t, "00 2C 00 80 10"), append(pad8([]byte("87654321")), pad8([]byte("111111"))...)...))
	wantSW(t, sw, 0x63C2)
	_, sw = sendBytes(t, c, append(mustHex(t, "00 2C 00 80 10"), append(pad8([]byte("12345678")), pad8([]byte("12ab"))...)...))
	wantSW(t, sw, swWrongData)
	_, sw = sendBytes(t, c, append(mustHex(t, "00 2C 00 80 10"), append(pad8([]byte("12345678")), pad8([]byte("111111"))...)...))
	wantSW(t, sw, swOK)
	wantSW(t, verifyPIN(t, c, "111111"), swOK)

	// CHANGE REFERENCE DATA.
	_, sw = sendBytes(t, c, append(mustHex(t, "00 24 00 80 10"), append(pad8([]byte("999999")), pad8([]byte("2222222"))...)...))
	wantSW(t, sw, 0x63C2)
	_, sw = sendBytes(t, c, append(mustHex(t, "00 24 00 80 10"), append(pad8([]byte("111111")), pad8([]byte("2222222"))...)...))
	wantSW(t, sw, swOK)
	c, err = Load(path)
	if err != nil {
		t.Fatal(err)
	}
	wantSW(t, verifyPIN(t, c, "2222222"), swOK)
	if c.PUKTriesLeft() != 3 {
		t.Errorf("PUK tries left %d after unblocking", c.PUKTriesLeft())
	}

	for _, tc := range []struct {
		apdu string
		sw   uint16
	}{
		{"00 20 00 81", swRefNotFound},
		{"00 20 01 80", swWrongP1P2},
		{"00 20 00 80 04 31 32 33 34", swWrongData},
		{"00 24 00 80 08 31 32 33 34 35 36 FF FF", swWrongData},
		{"00 2C 00 81 00", swRefNotFound},
	} {
		_, sw := send(t, c, tc.apdu)
		if sw != tc.sw {
			t.Errorf("%s: SW %04X, want %04X", tc.apdu, sw, tc.sw)
		}
	}
}

func TestSign(t *testing.T) {
	for _, alg := range []Alg{AlgRSA2048, AlgP256, AlgP384} {
		t.Run(alg.String(), func(t *testing.T) {
			c, p := citizenCard(t, alg)
			digest := sha256.Sum256([]byte("hello"))
			input := signInput(t, alg, digest[:])

			_, sw := sendAll(t, c, 0x00, insGeneralAuth, byte(alg), 0x9A, gaSign(input))
			wantSW(t, sw, swSecurityStatus)
			wantSW(t, verifyPIN(t, c, "123456"), swOK)

			for _, slot := range []Slot{SlotAuthentication, SlotSignature} {
				if slot == SlotSignature {
					wantSW(t, verifyPIN(t, c, "123456"), swOK) // PIN-always
				}
				resp, sw := sendAll(t, c, 0x00, insGeneralAuth, byte(alg), byte(slot), gaSign(input))
				wantSW(t, sw, swOK)
				sig := tlvValue(t, tlvValue(t, resp, 0x7C), 0x82)
				cert, err := c.Certificate(slot)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := cert.Verify(x509.VerifyOptions{Roots: p.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
					t.Fatal(err)
				}
				checkSig(t, cert.PublicKey, digest[:], sig)
			}
			if n := c.Signatures(); n != 2 {
				t.Errorf("Signatures = %d, want 2", n)
			}
			// 9C again without a VERIFY right before: refused.
			_, sw = sendAll(t, c, 0x00, insGeneralAuth, byte(alg), 0x9C, gaSign(input))
			wantSW(t, sw, swSecurityStatus)
			wantSW(t, verifyPIN(t, c, "123456"), swOK)
			send(t, c, "00 CB 3F FF 03 5C 01 7E 00")
			_, sw = sendAll(t, c, 0x00, insGeneralAuth, byte(alg), 0x9C, gaSign(input))
			wantSW(t, sw, swSecurityStatus)
			// 9A works until reset.
			_, sw = sendAll(t, c, 0x00, insGeneralAuth, byte(alg), 0x9A, gaSign(input))
			wantSW(t, sw, swOK)
			c.Reset()
			_, sw = sendAll(t, c, 0x00, insGeneralAuth, byte(alg), 0x9A, gaSign(input))
			wantSW(t, sw, swSecurityStatus)
			// Wrong algorithm, empty slot, bad template.
			wantSW(t, verifyPIN(t, c, "123456"), swOK)
			other := AlgP384
			if alg == AlgP384 {
				other = AlgP256
			}
			_, sw = sendAll(t, c, 0x00, insGeneralAuth, byte(other), 0x9A, gaSign(input))
			wantSW(t, sw, swWrongData)
			_, sw = sendAll(t, c, 0x00, insGeneralAuth, byte(alg), 0x9D, gaSign(input))
			wantSW(t, sw, swRefNotFound)
			_, sw = sendAll(t, c, 0x00, insGeneralAuth, byte(alg), 0x9A, tlv(0x7C, tlv(0x81, input)))
			wantSW(t, sw, swWrongData)
			_, sw = sendAll(t, c, 0x00, insGeneralAuth, byte(alg), 0x9A, gaSign(append(input, make([]byte, 64)...)))
			wantSW(t, sw, swWrongData)
		})
	}
}

// signInput is what a PIV client sends to sign digest: the PKCS#1 v1.5 block for RSA, the
// digest for ECDSA.
func signInput(t *testing.T, alg Alg, digest []byte) []byte {
	if alg != AlgRSA2048 {
		return digest
	}
	prefix := mustHex(t, "3031300d060960864801650304020105000420")
	block := []byte{0x00, 0x01}
	block = append(block, bytes.Repeat([]byte{0xFF}, 256-3-len(prefix)-len(digest))...)
	block = append(block, 0x00)
	block = append(block, prefix...)
	return append(block, digest...)
}

func gaSign(input []byte) []byte {
	return tlv(0x7C, append(tlv(0x82, nil), tlv(0x81, input)...))
}

func checkSig(t *testing.T, pub crypto.PublicKey, digest, sig []byte) {
	t.Helper()
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest, sig); err != nil {
			t.Errorf("RSA signature: %v", err)
		}
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, digest, sig) {
			t.Error("ECDSA signature does not verify")
		}
	default:
		t.Fatalf("key type %T", pub)
	}
}

// authenticate9B runs mutual authentication with the default 3DES key.
func authenticate9B(t *testing.T, c *Card, key []byte) uint16 {
	t.Helper()
	block, err := des.NewTripleDESCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	resp, sw := send(t, c, "00 87 03 9B 04 7C 02 80 00 00")
	wantSW(t, sw, swOK)
	enc := tlvValue(t, tlvValue(t, resp, 0x7C), 0x80)
	witness := make([]byte, 8)
	block.Decrypt(witness, enc)
	challenge := []byte("8bytes!!")
	resp, sw = sendAll(t, c, 0x00, insGeneralAuth, 0x03, 0x9B, tlv(0x7C, append(tlv(0x80, witness), tlv(0x81, challenge)...)))
	if sw != swOK {
		return sw
	}
	got := tlvValue(t, tlvValue(t, resp, 0x7C), 0x82)
	want := make([]byte, 8)
	block.Encrypt(want, challenge)
	if !bytes.Equal(got, want) {
		t.Error("card's answer to the host challenge is wrong")
	}
	return sw
}

func TestManagementKeyPutDataGenerate(t *testing.T) {
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	put := append(tlv(0x5C, []byte{0x5F, 0xC1, 0x02}), tlv(0x53, bytes.Repeat([]byte{0xAB}, 600))...)
	_, sw := sendAll(t, c, 0x00, insPutData, 0x3F, 0xFF, put)
	wantSW(t, sw, swSecurityStatus)
	_, sw = send(t, c, "00 47 00 9A 05 AC 03 80 01 11 00")
	wantSW(t, sw, swSecurityStatus)

	wrong := bytes.Repeat([]byte{9}, 24)
	if sw := authenticate9B(t, c, wrong); sw != swSecurityStatus {
		t.Fatalf("wrong management key: SW %04X", sw)
	}
	if sw := authenticate9B(t, c, DefaultManagementKey); sw != swOK {
		t.Fatalf("management key: SW %04X", sw)
	}
	_, sw = sendAll(t, c, 0x00, insPutData, 0x3F, 0xFF, put) // 600 bytes: chained
	wantSW(t, sw, swOK)
	got, sw := sendAll(t, c, 0x00, insGetData, 0x3F, 0xFF, mustHex(t, "5C 03 5F C1 02"))
	wantSW(t, sw, swOK)
	if !bytes.Equal(got, tlv(0x53, bytes.Repeat([]byte{0xAB}, 600))) {
		t.Error("PUT DATA then GET DATA differ")
	}

	for _, tc := range []struct {
		alg   Alg
		check func([]byte) error
	}{
		{AlgP256, func(b []byte) error {
			if v, ok := parseOnly(b, 0x86); !ok || len(v) != 65 {
				return fmt.Errorf("EC template %X", b)
			}
			return nil
		}},
		{AlgRSA2048, func(b []byte) error {
			f, err := parseTLVs(b, 4)
			if err != nil || len(f[0x81]) != 256 || !bytes.Equal(f[0x82], []byte{1, 0, 1}) {
				return fmt.Errorf("RSA template %X", b)
			}
			return nil
		}},
	} {
		resp, sw := sendAll(t, c, 0x00, insGenerateKeyPair, 0x00, 0x9E, tlv(0xAC, tlv(0x80, []byte{byte(tc.alg)})))
		wantSW(t, sw, swOK)
		if err := tc.check(tlvValue(t, resp, 0x7F49)); err != nil {
			t.Error(err)
		}
		// 9E needs no PIN.
		input := signInput(t, tc.alg, make([]byte, 32))
		_, sw = sendAll(t, c, 0x00, insGeneralAuth, byte(tc.alg), 0x9E, gaSign(input))
		wantSW(t, sw, swOK)
	}
	_, sw = send(t, c, "00 47 00 9B 05 AC 03 80 01 11 00")
	wantSW(t, sw, swWrongP1P2)
	_, sw = send(t, c, "00 47 00 9A 05 AC 03 80 01 06 00")
	wantSW(t, sw, swWrongData)

	// External authentication (challenge, then the encrypted challenge).
	c.Reset()
	resp, sw := send(t, c, "00 87 03 9B 04 7C 02 81 00 00")
	wantSW(t, sw, swOK)
	challenge := tlvValue(t, tlvValue(t, resp, 0x7C), 0x81)
	block, _ := des.NewTripleDESCipher(DefaultManagementKey)
	enc := make([]byte, 8)
	block.Encrypt(enc, challenge)
	_, sw = sendBytes(t, c, append([]byte{0x00, 0x87, 0x03, 0x9B, 0x0C}, tlv(0x7C, tlv(0x82, enc))...))
	wantSW(t, sw, swOK)
	_, sw = sendAll(t, c, 0x00, insPutData, 0x3F, 0xFF, append(tlv(0x5C, []byte{0x5F, 0xC1, 0x02}), tlv(0x53, nil)...))
	wantSW(t, sw, swOK)
	if _, ok := c.Object(TagCHUID); ok {
		t.Error("empty PUT DATA did not delete the object")
	}
}

func TestChainingErrors(t *testing.T) {
	c, _ := New(Options{})
	_, sw := send(t, c, "10 DB 3F FF 02 5C 03")
	wantSW(t, sw, swOK)
	_, sw = send(t, c, "10 87 03 9B 02 7C 00")
	wantSW(t, sw, swLastCommandExpected)
	big := bytes.Repeat([]byte{1}, 255)
	for i := 0; ; i++ {
		_, sw = sendBytes(t, c, append([]byte{0x10, 0xDB, 0x3F, 0xFF, 0xFF}, big...))
		if sw != swOK {
			break
		}
		if i > 100 {
			t.Fatal("chain never bounded")
		}
	}
	wantSW(t, sw, swWrongLength)
}

func TestYubicoCommands(t *testing.T) {
	c, _ := New(Options{Serial: 0x01020304, Version: [3]byte{5, 2, 7}})
	v, sw := send(t, c, "00 FD 00 00 00")
	wantSW(t, sw, swOK)
	if !bytes.Equal(v, []byte{5, 2, 7}) {
		t.Errorf("version %X", v)
	}
	s, sw := send(t, c, "00 F8 00 00")
	wantSW(t, sw, swOK)
	if !bytes.Equal(s, []byte{1, 2, 3, 4}) {
		t.Errorf("serial %X", s)
	}
	_, sw = send(t, c, "00 F8 00 00 02")
	wantSW(t, sw, 0x6C04)
	m, sw := send(t, c, "00 F7 00 80 00")
	wantSW(t, sw, swOK)
	f, _ := parseTLVs(m, 8)
	if !bytes.Equal(f[0x06], []byte{3, 3}) {
		t.Errorf("PIN metadata %X", m)
	}
}

func TestPINPolicy(t *testing.T) {
	c, _ := citizenCard(t, AlgP256)
	input := gaSign(make([]byte, 32))
	if err := c.SetPINPolicy(SlotAuthentication, PINPolicyAlways); err != nil {
		t.Fatal(err)
	}
	wantSW(t, verifyPIN(t, c, DefaultPIN), swOK)
	_, sw := sendAll(t, c, 0x00, insGeneralAuth, byte(AlgP256), 0x9A, input)
	wantSW(t, sw, swOK)
	_, sw = sendAll(t, c, 0x00, insGeneralAuth, byte(AlgP256), 0x9A, input)
	wantSW(t, sw, swSecurityStatus)
	if err := c.SetPINPolicy(SlotSignature, PINPolicyNever); err != nil {
		t.Fatal(err)
	}
	c.Reset()
	_, sw = sendAll(t, c, 0x00, insGeneralAuth, byte(AlgP256), 0x9C, input)
	wantSW(t, sw, swOK)
	if err := c.SetPINPolicy(SlotKeyManagement, PINPolicyOnce); err == nil {
		t.Error("policy set on an empty slot")
	}
}
