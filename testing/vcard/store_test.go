package vcard

import (
	"bytes"
	"crypto"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	for _, alg := range []Alg{AlgRSA2048, AlgP384} {
		c, _ := citizenCard(t, alg)
		dir := t.TempDir()
		path := filepath.Join(dir, "CARD.json")
		if err := c.Save(path); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("card file mode %o, want 0600 (it holds keys and the PIN)", fi.Mode().Perm())
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("Save left %d files behind", len(entries))
		}
		d, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if d.Serial() != c.Serial() || d.Summary() != c.Summary() {
			t.Errorf("loaded card differs:\n%s\nwant\n%s", d.Summary(), c.Summary())
		}
		for _, slot := range []Slot{SlotAuthentication, SlotSignature} {
			a, _ := c.PublicKey(slot)
			b, _ := d.PublicKey(slot)
			if !a.(interface{ Equal(crypto.PublicKey) bool }).Equal(b) {
				t.Errorf("slot %v key changed", slot)
			}
		}
		// The loaded card signs.
		wantSW(t, verifyPIN(t, d, DefaultPIN), swOK)
		_, sw := sendAll(t, d, 0x00, insGeneralAuth, byte(alg), 0x9A, gaSign(signInput(t, alg, make([]byte, 32))))
		wantSW(t, sw, swOK)
	}
}

func TestLoadRejects(t *testing.T) {
	c, _ := citizenCard(t, AlgP256)
	good, err := c.st.encode()
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(string) string{
		"unknown field": func(s string) string { return strings.Replace(s, `"serial"`, `"serail"`, 1) },
		"bad format":    func(s string) string { return strings.Replace(s, `"format": 1`, `"format": 9`, 1) },
		"short PIN":     func(s string) string { return strings.Replace(s, `"pin": "123456"`, `"pin": "12"`, 1) },
		"tries > max":   func(s string) string { return strings.Replace(s, `"pinTriesLeft": 3`, `"pinTriesLeft": 7`, 1) },
		"bad mgmt key":  func(s string) string { return strings.Replace(s, `"managementKey": "01`, `"managementKey": "`, 1) },
		"not JSON":      func(string) string { return "PK\x03\x04" },
	} {
		if _, err := decode([]byte(edit(string(good)))); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := decode(good); err != nil {
		t.Fatalf("good file rejected: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big.json")
	os.WriteFile(big, bytes.Repeat([]byte(" "), maxCardFile+1), 0o600)
	if _, err := Load(big); err == nil {
		t.Error("oversized card file accepted")
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "kiosk-vcard new-card") {
		t.Errorf("missing file: %v, want advice to make a card", err)
	}
}

func FuzzDecodeCard(f *testing.F) {
	c, err := citizenCardForFuzz()
	if err != nil {
		f.Fatal(err)
	}
	good, err := c.st.encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"format":1}`))
	f.Add([]byte(`{"format":1,"version":"5.4.3","pin":"123456","puk":"12345678","pinTriesLeft":3,"pinRetries":3,"pukTriesLeft":3,"pukRetries":3,"managementAlg":"aes128","managementKey":"00112233445566778899aabbccddeeff","keys":{},"objects":{"7e":"AAA="}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := decode(data)
		if err != nil {
			return
		}
		// Whatever decodes is a valid card that encodes again.
		if _, err := st.encode(); err != nil {
			t.Fatalf("decoded card does not encode: %v", err)
		}
		card := newCard(st)
		if _, err := card.Transmit(t.Context(), []byte{0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0, 0x00, 0x00, 0x03, 0x08}); err != nil {
			t.Fatal(err)
		}
	})
}
