package piv

import (
	"bytes"
	"context"
	"crypto"
	"crypto/des"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"sync"
	"testing"
	"time"
)

// fakeCard is a small in-process PIV card for table tests: enough of SP 800-73-4 to drive
// every path of the client (61xx chains, command chaining, PIN counters, raw RSA and ECDSA,
// 9B mutual authentication), plus a transcript and fault hooks. The full virtual card lives
// in smartpath/testing/vcard; this one keeps the unit tests independent of it.
type fakeCard struct {
	mu       sync.Mutex
	objects  map[uint32][]byte // whole GET DATA answers, e.g. 53 {...}
	keys     map[byte]crypto.Signer
	pin      []byte
	puk      []byte
	tries    int
	pukTries int
	verified bool
	// pinAlwaysOK is set by a successful VERIFY and consumed by the next command.
	pinAlwaysOK bool
	admin       bool
	adminKey    []byte
	witness     []byte
	selectAPT   []byte

	pending []byte // response bytes waiting for GET RESPONSE
	chain   []byte // data of a command chain so far

	log  [][]byte // copies of every command APDU
	refs [][]byte // the slices as passed to Transmit (to check zeroing)

	// fault, when set, is called before each APDU; a non-nil error or response replaces
	// the card's answer.
	fault func(n int, apdu []byte) ([]byte, error)
}

var testAdminKey = bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7, 8}, 3)

func newFakeCard() *fakeCard {
	return &fakeCard{
		objects:  map[uint32][]byte{},
		keys:     map[byte]crypto.Signer{},
		pin:      []byte("123456"),
		puk:      []byte("12345678"),
		tries:    3,
		pukTries: 3,
		adminKey: testAdminKey,
		selectAPT: mustHex("61 1F 4F 06 000010000100 79 07 4F 05 A000000308 50 04 54455354" +
			" AC 06 80 01 07 80 01 11"),
	}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(string(bytes.ReplaceAll([]byte(s), []byte(" "), nil)))
	if err != nil {
		panic(err)
	}
	return b
}

// issue puts a fresh key of alg in slot with a self-signed certificate and returns both.
func (f *fakeCard) issue(t testing.TB, slot Slot, alg Algorithm) (crypto.Signer, *x509.Certificate) {
	t.Helper()
	var key crypto.Signer
	var err error
	switch alg {
	case AlgRSA2048:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case AlgECCP256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgECCP384:
		key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Jane Citizen"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[slot.Key] = key
	f.objects[slot.Object] = appendTLV(nil, 0x53, append(appendTLV(nil, 0x70, der), 0x71, 0x01, 0x00, 0xFE, 0x00))
	return key, cert
}

func (f *fakeCard) setCHUID() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects[tagCHUID] = mustHex("53 3B 30 19 D4E739DA739CED39CE739D836858210842108421C84210C3EB" +
		" 34 10 00112233445566778899AABBCCDDEEFF 35 08 3230333031323331 3E 00 FE 00")
}

func (f *fakeCard) transcript() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.log))
	for i, a := range f.log {
		out[i] = hex.EncodeToString(a)
	}
	return out
}

func (f *fakeCard) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.log)
}

func sw(v uint16) []byte { return []byte{byte(v >> 8), byte(v)} }

func (f *fakeCard) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, bytes.Clone(apdu))
	f.refs = append(f.refs, apdu)
	if f.fault != nil {
		if resp, err := f.fault(len(f.log), apdu); resp != nil || err != nil {
			return resp, err
		}
	}
	return f.process(apdu), nil
}

// process handles one short APDU.
func (f *fakeCard) process(apdu []byte) []byte {
	if len(apdu) < 4 {
		return sw(0x6700)
	}
	cla, ins, p1, p2 := apdu[0], apdu[1], apdu[2], apdu[3]
	var data []byte
	if len(apdu) > 5 {
		n := int(apdu[4])
		if len(apdu) < 5+n {
			return sw(0x6700)
		}
		data = apdu[5 : 5+n]
	}
	if ins == 0xC0 {
		return f.respond(nil)
	}
	f.pending = nil
	if cla&0x10 != 0 {
		f.chain = append(f.chain, data...)
		return sw(0x9000)
	}
	if f.chain != nil {
		data = append(f.chain, data...)
		f.chain = nil
	}
	pinAlways := f.pinAlwaysOK
	f.pinAlwaysOK = false
	switch ins {
	case insSelect:
		if !bytes.Equal(data, aidPIV) {
			return sw(0x6A82)
		}
		return f.respond(f.selectAPT)
	case insGetData:
		tag := uint32(0)
		for _, b := range data[2:] {
			tag = tag<<8 | uint32(b)
		}
		obj, ok := f.objects[tag]
		if !ok {
			return sw(0x6A82)
		}
		return f.respond(obj)
	case insVerify:
		if p1 == 0xFF {
			f.verified = false
			return sw(0x9000)
		}
		if len(data) == 0 {
			switch {
			case f.tries == 0:
				return sw(0x6983)
			case f.verified:
				return sw(0x9000)
			}
			return sw(0x63C0 | uint16(f.tries))
		}
		if f.tries == 0 {
			return sw(0x6983)
		}
		if bytes.Equal(data, pad8(f.pin)) {
			f.tries, f.verified, f.pinAlwaysOK = 3, true, true
			return sw(0x9000)
		}
		f.tries--
		f.verified = false
		return sw(0x63C0 | uint16(f.tries))
	case insChangeReference, insResetRetryCounter:
		if len(data) != 16 {
			return sw(0x6A80)
		}
		if ins == insChangeReference {
			if f.tries == 0 {
				return sw(0x6983)
			}
			if !bytes.Equal(data[:8], pad8(f.pin)) {
				f.tries--
				return sw(0x63C0 | uint16(f.tries))
			}
		} else {
			if f.pukTries == 0 {
				return sw(0x6983)
			}
			if !bytes.Equal(data[:8], pad8(f.puk)) {
				f.pukTries--
				return sw(0x63C0 | uint16(f.pukTries))
			}
			f.pukTries = 3
		}
		f.pin = bytes.TrimRight(bytes.Clone(data[8:]), "\xff")
		f.tries = 3
		return sw(0x9000)
	case insGeneralAuthenticate:
		if p2 == keyRefManagement {
			return f.adminAuth(data)
		}
		key, ok := f.keys[p2]
		if !ok {
			return sw(0x6A88)
		}
		if !f.verified || (p2 == 0x9C && !pinAlways) {
			return sw(0x6982)
		}
		list, _ := parseTLVs(data)
		tmpl, _ := findTLV(list, 0x7C)
		fields, _ := parseTLVs(tmpl)
		chal, _ := findTLV(fields, 0x81)
		var out []byte
		switch k := key.(type) {
		case *rsa.PrivateKey:
			c := new(big.Int).SetBytes(chal)
			out = new(big.Int).Exp(c, k.D, k.N).FillBytes(make([]byte, 256))
		case *ecdsa.PrivateKey:
			out, _ = ecdsa.SignASN1(rand.Reader, k, chal)
		}
		return f.respond(appendTLV(nil, 0x7C, appendTLV(nil, 0x82, out)))
	case insGenerateKeyPair, insPutData:
		if !f.admin {
			return sw(0x6982)
		}
		if ins == insPutData {
			list, _ := parseTLVs(data)
			tagBytes, _ := findTLV(list, 0x5C)
			tag := uint32(0)
			for _, b := range tagBytes {
				tag = tag<<8 | uint32(b)
			}
			obj, _ := findTLV(list, 0x53)
			f.objects[tag] = appendTLV(nil, 0x53, obj)
			return sw(0x9000)
		}
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		f.keys[p2] = k
		pt, _ := k.PublicKey.Bytes()
		return f.respond(appendTLV(nil, 0x7F49, appendTLV(nil, 0x86, pt)))
	}
	return sw(0x6D00)
}

func (f *fakeCard) adminAuth(data []byte) []byte {
	list, _ := parseTLVs(data)
	tmpl, _ := findTLV(list, 0x7C)
	fields, _ := parseTLVs(tmpl)
	block, _ := des.NewTripleDESCipher(f.adminKey)
	if v, ok := findTLV(fields, 0x80); ok && len(v) == 0 {
		f.witness = make([]byte, 8)
		rand.Read(f.witness)
		enc := make([]byte, 8)
		block.Encrypt(enc, f.witness)
		return f.respond(appendTLV(nil, 0x7C, appendTLV(nil, 0x80, enc)))
	}
	w, _ := findTLV(fields, 0x80)
	chal, _ := findTLV(fields, 0x81)
	if f.witness == nil || !bytes.Equal(w, f.witness) || len(chal) != 8 {
		f.witness = nil
		return sw(0x6982)
	}
	f.witness = nil
	f.admin = true
	enc := make([]byte, 8)
	block.Encrypt(enc, chal)
	return f.respond(appendTLV(nil, 0x7C, appendTLV(nil, 0x82, enc)))
}

// respond sends up to 256 bytes of b (or of what is pending) and 61xx for the rest.
func (f *fakeCard) respond(b []byte) []byte {
	if b == nil {
		b = f.pending
	}
	if len(b) <= 256 {
		f.pending = nil
		return append(bytes.Clone(b), 0x90, 0x00)
	}
	f.pending = b[256:]
	rest := len(f.pending)
	if rest > 255 {
		rest = 0
	}
	return append(bytes.Clone(b[:256]), 0x61, byte(rest))
}

func pad8(b []byte) []byte {
	out := bytes.Repeat([]byte{0xFF}, 8)
	copy(out, b)
	return out
}
