package vcard

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// fileFormat is the version of the CARD.json layout.
const fileFormat = 1

// maxCardFile bounds a CARD.json (keys, certificates and objects of a full card are ~20 KB).
const maxCardFile = 1 << 20

// cardFile is the CARD.json layout. Keys are PKCS#8 DER, objects the content of each data
// object (both base64, as encoding/json writes []byte).
type cardFile struct {
	Format         int                `json:"format"`
	Serial         uint32             `json:"serial"`
	Version        string             `json:"version"`
	PIN            string             `json:"pin"`
	PUK            string             `json:"puk"`
	PINTriesLeft   int                `json:"pinTriesLeft"`
	PINRetries     int                `json:"pinRetries"`
	PUKTriesLeft   int                `json:"pukTriesLeft"`
	PUKRetries     int                `json:"pukRetries"`
	ManagementAlg  string             `json:"managementAlg"`
	ManagementKey  string             `json:"managementKey"` // hex
	ExtendedLength bool               `json:"extendedLength,omitempty"`
	RequireSelect  bool               `json:"requireSelect,omitempty"`
	Keys           map[string]fileKey `json:"keys"`    // slot in hex, e.g. "9a"
	Objects        map[string][]byte  `json:"objects"` // tag in hex, e.g. "5fc102"
}

type fileKey struct {
	Alg       string `json:"alg"`
	PINPolicy int    `json:"pinPolicy,omitempty"`
	PKCS8     []byte `json:"pkcs8"`
}

// Save writes the card's persistent state (keys, certificates and other objects, PIN, PUK,
// retry counters, management key, serial, version) to path as JSON, atomically (a
// temporary file renamed over path), mode 0600: it holds private keys and the PIN.
func (c *Card) Save(path string) error {
	c.mu.Lock()
	data, err := c.st.encode()
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return writeFileAtomic(path, data)
}

// Load reads a card saved by Save. The card starts powered off and reset: no PIN verified.
func Load(path string) (*Card, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("vcard: %w (make a card with `kiosk-vcard new-card`)", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCardFile+1))
	if err != nil {
		return nil, fmt.Errorf("vcard: read %s: %w", path, err)
	}
	if len(data) > maxCardFile {
		return nil, fmt.Errorf("vcard: %s is larger than %d bytes; it is not a card file", path, maxCardFile)
	}
	st, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("vcard: %s: %w", path, err)
	}
	return newCard(st), nil
}

func (st *state) encode() ([]byte, error) {
	f := cardFile{
		Format:         fileFormat,
		Serial:         st.serial,
		Version:        fmt.Sprintf("%d.%d.%d", st.version[0], st.version[1], st.version[2]),
		PIN:            string(st.pin),
		PUK:            string(st.puk),
		PINTriesLeft:   st.pinTries,
		PINRetries:     st.pinMax,
		PUKTriesLeft:   st.pukTries,
		PUKRetries:     st.pukMax,
		ManagementAlg:  st.mgmtAlg.String(),
		ManagementKey:  fmt.Sprintf("%x", st.mgmtKey),
		ExtendedLength: st.extendedLength,
		RequireSelect:  st.requireSelect,
		Keys:           make(map[string]fileKey),
		Objects:        make(map[string][]byte),
	}
	for slot, k := range st.keys {
		der, err := x509.MarshalPKCS8PrivateKey(k.signer)
		if err != nil {
			return nil, fmt.Errorf("vcard: encode key of slot %v: %w", slot, err)
		}
		f.Keys[slot.String()] = fileKey{Alg: k.alg.String(), PINPolicy: int(k.policy), PKCS8: der}
	}
	for tag, v := range st.objects {
		f.Objects[fmt.Sprintf("%02x", tag)] = v
	}
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("vcard: encode card: %w", err)
	}
	return append(out, '\n'), nil
}

// decode parses and validates a CARD.json.
func decode(data []byte) (state, error) {
	var f cardFile
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return state{}, fmt.Errorf("not a card file: %w", err)
	}
	if f.Format != fileFormat {
		return state{}, fmt.Errorf("card file format %d, this version reads %d; make the card again with `kiosk-vcard new-card`", f.Format, fileFormat)
	}
	st := state{
		serial:         f.Serial,
		pin:            []byte(f.PIN),
		puk:            []byte(f.PUK),
		pinTries:       f.PINTriesLeft,
		pinMax:         f.PINRetries,
		pukTries:       f.PUKTriesLeft,
		pukMax:         f.PUKRetries,
		extendedLength: f.ExtendedLength,
		requireSelect:  f.RequireSelect,
		keys:           make(map[Slot]*slotKey),
		objects:        make(map[uint32][]byte),
	}
	if len(st.pin) > 8 || len(st.puk) > 8 {
		return state{}, errors.New("PIN or PUK longer than 8 bytes")
	}
	parts := strings.Split(f.Version, ".")
	if len(parts) != 3 {
		return state{}, fmt.Errorf("version %q: want major.minor.patch", f.Version)
	}
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 8)
		if err != nil {
			return state{}, fmt.Errorf("version %q: %w", f.Version, err)
		}
		st.version[i] = byte(n)
	}
	var err error
	if st.mgmtAlg, err = ParseAlg(f.ManagementAlg); err != nil || st.mgmtAlg.keyLength() == 0 {
		return state{}, fmt.Errorf("management key algorithm %q: use 3des, aes128, aes192 or aes256", f.ManagementAlg)
	}
	if len(f.ManagementKey) > 64 {
		return state{}, errors.New("management key too long")
	}
	if _, err := fmt.Sscanf(f.ManagementKey, "%x", &st.mgmtKey); err != nil {
		return state{}, fmt.Errorf("management key: %w", err)
	}
	if len(f.Keys) > 24 || len(f.Objects) > 64 {
		return state{}, errors.New("too many keys or objects")
	}
	for name, fk := range f.Keys {
		slot, err := strconv.ParseUint(name, 16, 8)
		if err != nil {
			return state{}, fmt.Errorf("key slot %q: %w", name, err)
		}
		alg, err := ParseAlg(fk.Alg)
		if err != nil {
			return state{}, fmt.Errorf("key slot %s: %w", name, err)
		}
		k, err := x509.ParsePKCS8PrivateKey(fk.PKCS8)
		if err != nil {
			return state{}, fmt.Errorf("key slot %s: %w", name, err)
		}
		signer, isSigner := k.(crypto.Signer)
		if !isSigner || fk.PINPolicy < 0 || fk.PINPolicy > int(PINPolicyAlways) {
			return state{}, fmt.Errorf("key slot %s: unusable key or PIN policy", name)
		}
		st.keys[Slot(slot)] = &slotKey{alg: alg, signer: signer, policy: PINPolicy(fk.PINPolicy)}
	}
	for name, v := range f.Objects {
		tag, err := strconv.ParseUint(name, 16, 24)
		if err != nil {
			return state{}, fmt.Errorf("object %q: %w", name, err)
		}
		st.objects[uint32(tag)] = v
	}
	if err := st.validate(); err != nil {
		return state{}, err
	}
	return st, nil
}

// writeFileAtomic writes data to a temporary file next to path (mode 0600), syncs it and
// renames it over path, so a reader never sees half a card.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("vcard: save card: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("vcard: save card to %s: %w", path, err)
	}
	return nil
}
