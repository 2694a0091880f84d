package vcard

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// DefaultManagementKey is the factory 3DES management key of PIV cards (and YubiKeys).
var DefaultManagementKey = []byte{1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8}

// Defaults for a new card.
const (
	DefaultPIN     = "123456"
	DefaultPUK     = "12345678"
	DefaultRetries = 3
)

// ErrRemoved is returned by Transmit after fault emulation dropped the card
// (Emulation.DropAtAPDU); Reset inserts it again.
var ErrRemoved = errors.New("vcard: card removed (fault emulation dropped it); call Reset to insert it again")

// Options configure a new, blank card. The zero value is a factory-fresh card.
type Options struct {
	PIN        string // 6–8 digits; default DefaultPIN
	PUK        string // 6–8 bytes; default DefaultPUK
	PINRetries int    // PIN tries before it blocks, 1–15; default 3
	PUKRetries int    // PUK tries before it blocks, 1–15; default 3
	// ManagementKey is the 9B key: 24 bytes for 3DES and AES-192, 16 for AES-128, 32 for
	// AES-256. Default DefaultManagementKey.
	ManagementKey []byte
	ManagementAlg Alg     // Alg3DES (default), AlgAES128, AlgAES192 or AlgAES256
	Serial        uint32  // answered to the Yubico serial command; default random
	Version       [3]byte // answered to the Yubico version command; default 5.4.3
	// ExtendedLength makes the ATR advertise extended Lc/Le. The card parses extended APDUs
	// either way.
	ExtendedLength bool
	// RequireSelect makes the card answer 6D00 to everything but SELECT until the PIV
	// application is selected after each reset. By default PIV is the default-selected
	// application, as on a YubiKey.
	RequireSelect bool
}

// Card is a virtual PIV card (NIST SP 800-73-4) with the Yubico extensions that common
// tools expect. It is safe for concurrent use; like a real card it runs one APDU at a time.
type Card struct {
	lane chan struct{} // held while an APDU is being processed; a ctx-aware mutex

	mu sync.Mutex // guards everything below
	st state      // what a real card keeps across power cycles (saved by Save)

	// Security status and protocol state of the current card session (cleared by Reset).
	selected        bool
	pinVerified     bool
	pinJustVerified bool // the last command was a successful VERIFY (for PIN-always keys)
	mgmtAuthed      bool
	mgmtWitness     []byte // expected decrypted witness, mutual authentication step 2
	mgmtChallenge   []byte // challenge sent to the host, external authentication step 2
	chain           *chain
	pending         []byte // the rest of a long response, for GET RESPONSE

	dirty bool // st changed since the last onChange

	apdus, signatures, verifies int
	em                          Emulation
	emAPDUs                     int // APDUs since SetEmulation
	removed                     bool

	onChange func()
	trace    func(command, response []byte)
}

// state is the persistent content of the card.
type state struct {
	serial         uint32
	version        [3]byte
	pin, puk       []byte // unpadded
	pinTries       int    // tries left
	pukTries       int
	pinMax, pukMax int
	mgmtAlg        Alg
	mgmtKey        []byte
	keys           map[Slot]*slotKey
	objects        map[uint32][]byte // content of the object (inside 53, or inside 7E)
	extendedLength bool
	requireSelect  bool
}

// chain collects the data of a chained command (CLA 0x10).
type chain struct {
	ins, p1, p2 byte
	data        []byte
}

// maxChain bounds the data of one chained command.
const maxChain = 8 << 10

// New returns a blank card: PIN, PUK and management key set, the discovery object present,
// no keys or certificates.
func New(opts Options) (*Card, error) {
	st := state{
		serial:         opts.Serial,
		version:        opts.Version,
		pin:            []byte(opts.PIN),
		puk:            []byte(opts.PUK),
		pinMax:         opts.PINRetries,
		pukMax:         opts.PUKRetries,
		mgmtAlg:        opts.ManagementAlg,
		mgmtKey:        append([]byte(nil), opts.ManagementKey...),
		keys:           make(map[Slot]*slotKey),
		objects:        map[uint32][]byte{TagDiscovery: discoveryObject()},
		extendedLength: opts.ExtendedLength,
		requireSelect:  opts.RequireSelect,
	}
	if len(st.pin) == 0 {
		st.pin = []byte(DefaultPIN)
	}
	if len(st.puk) == 0 {
		st.puk = []byte(DefaultPUK)
	}
	if st.pinMax == 0 {
		st.pinMax = DefaultRetries
	}
	if st.pukMax == 0 {
		st.pukMax = DefaultRetries
	}
	st.pinTries, st.pukTries = st.pinMax, st.pukMax
	if st.mgmtAlg == 0 {
		st.mgmtAlg = Alg3DES
	}
	if len(st.mgmtKey) == 0 && st.mgmtAlg == Alg3DES {
		st.mgmtKey = append([]byte(nil), DefaultManagementKey...)
	}
	if st.version == [3]byte{} {
		st.version = [3]byte{5, 4, 3}
	}
	if st.serial == 0 {
		var b [4]byte
		_, _ = rand.Read(b[:])
		st.serial = binary.BigEndian.Uint32(b[:])&0x0FFFFFFF | 0x01000000
	}
	if err := st.validate(); err != nil {
		return nil, err
	}
	return newCard(st), nil
}

func newCard(st state) *Card {
	c := &Card{lane: make(chan struct{}, 1), st: st}
	c.resetSession()
	return c
}

// validate checks the invariants of a card's state (from Options or a CARD.json).
func (st *state) validate() error {
	if !validPIN(pad8(st.pin)) {
		return errors.New("vcard: the PIN must be 6 to 8 digits")
	}
	if !validPUK(pad8(st.puk)) {
		return errors.New("vcard: the PUK must be 6 to 8 bytes (digits usually), none of them 0xFF")
	}
	if st.pinMax < 1 || st.pinMax > 15 || st.pukMax < 1 || st.pukMax > 15 {
		return errors.New("vcard: PIN and PUK retries must be between 1 and 15")
	}
	if st.pinTries < 0 || st.pinTries > st.pinMax || st.pukTries < 0 || st.pukTries > st.pukMax {
		return errors.New("vcard: tries left out of range")
	}
	if n := st.mgmtAlg.keyLength(); n == 0 || len(st.mgmtKey) != n {
		return fmt.Errorf("vcard: management key: %v needs a %d-byte key, got %d bytes", st.mgmtAlg, n, len(st.mgmtKey))
	}
	for slot, k := range st.keys {
		if !slot.isKeySlot() {
			return fmt.Errorf("vcard: slot %v cannot hold a key", slot)
		}
		if alg, err := algOf(k.signer); err != nil || alg != k.alg {
			return fmt.Errorf("vcard: slot %v: key does not match algorithm %v", slot, k.alg)
		}
	}
	for tag, v := range st.objects {
		if !knownObject(tag) || len(v) > maxObject {
			return fmt.Errorf("vcard: data object %06X is unknown or larger than %d bytes", tag, maxObject)
		}
	}
	return nil
}

// resetSession clears the security status, as a power cycle does. Callers hold c.mu.
func (c *Card) resetSession() {
	c.selected = !c.st.requireSelect
	c.pinVerified, c.pinJustVerified, c.mgmtAuthed = false, false, false
	c.mgmtWitness, c.mgmtChallenge, c.chain, c.pending = nil, nil, nil, nil
}

// Reset power-cycles the card: the security status (PIN verified, management key
// authenticated) and any pending command chain or response are cleared. A card dropped by
// fault emulation is inserted again.
func (c *Card) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resetSession()
	c.removed = false
}

// ATR returns the card's answer to reset: T=1, with historical bytes that advertise command
// chaining (and extended length when Options.ExtendedLength was set).
func (c *Card) ATR() []byte {
	c.mu.Lock()
	ext := c.st.extendedLength
	c.mu.Unlock()
	caps := byte(0x80) // command chaining
	if ext {
		caps |= 0x40
	}
	// Category 80, card capabilities 73 (3 bytes), then "SmartPath" as issuer data (tag 5).
	hist := []byte{0x80, 0x73, 0xC0, 0x21, caps, 0x59}
	hist = append(hist, "SmartPath"...)
	atr := []byte{0x3B, 0x80 | byte(len(hist)), 0x80, 0x01}
	atr = append(atr, hist...)
	var tck byte
	for _, b := range atr[1:] {
		tck ^= b
	}
	return append(atr, tck)
}

// Serial returns the card's serial number.
func (c *Card) Serial() uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.serial
}

// Signatures returns how many private-key operations (signatures, key agreements) the card
// has done since it was made or loaded.
func (c *Card) Signatures() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.signatures
}

// VerifyCount returns how many VERIFY commands carrying a PIN the card has received (right
// or wrong; the empty status query and logout are not counted).
func (c *Card) VerifyCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.verifies
}

// APDUCount returns how many command APDUs the card has received.
func (c *Card) APDUCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.apdus
}

// PINTriesLeft returns the PIN tries left (0: blocked).
func (c *Card) PINTriesLeft() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.pinTries
}

// PUKTriesLeft returns the PUK tries left (0: blocked).
func (c *Card) PUKTriesLeft() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.pukTries
}

// SetKey puts key (an RSA-2048, P-256 or P-384 private key) in slot, with the slot's
// default PIN policy. It does not touch the slot's certificate.
func (c *Card) SetKey(slot Slot, key crypto.Signer) error {
	alg, err := algOf(key)
	if err != nil {
		return err
	}
	if !slot.isKeySlot() {
		return fmt.Errorf("vcard: slot %v cannot hold a key: use 9a, 9c, 9d, 9e or 82–95", slot)
	}
	c.mu.Lock()
	c.st.keys[slot] = &slotKey{alg: alg, signer: key}
	c.dirty = true
	c.mu.Unlock()
	c.notify()
	return nil
}

// SetPINPolicy sets when the key in slot needs the PIN (PINPolicyDefault: by slot).
func (c *Card) SetPINPolicy(slot Slot, p PINPolicy) error {
	if p > PINPolicyAlways {
		return fmt.Errorf("vcard: unknown PIN policy %d", p)
	}
	c.mu.Lock()
	k, ok := c.st.keys[slot]
	if ok {
		k.policy = p
		c.dirty = true
	}
	c.mu.Unlock()
	if !ok {
		return fmt.Errorf("vcard: no key in slot %v", slot)
	}
	c.notify()
	return nil
}

// PublicKey returns the public key in slot.
func (c *Card) PublicKey(slot Slot) (crypto.PublicKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.st.keys[slot]
	if !ok {
		return nil, false
	}
	return k.signer.Public(), true
}

// SetCertificate stores cert in the certificate object of slot.
func (c *Card) SetCertificate(slot Slot, cert *x509.Certificate) error {
	tag, ok := slot.certTag()
	if !ok {
		return fmt.Errorf("vcard: slot %v has no certificate object", slot)
	}
	return c.SetObject(tag, certObject(cert))
}

// Certificate returns the certificate stored for slot.
func (c *Card) Certificate(slot Slot) (*x509.Certificate, error) {
	tag, ok := slot.certTag()
	if !ok {
		return nil, fmt.Errorf("vcard: slot %v has no certificate object", slot)
	}
	obj, ok := c.Object(tag)
	if !ok {
		return nil, fmt.Errorf("vcard: no certificate in slot %v", slot)
	}
	fields, err := parseTLVs(obj, 8)
	if err != nil || fields[0x70] == nil {
		return nil, fmt.Errorf("vcard: certificate object of slot %v is malformed", slot)
	}
	return x509.ParseCertificate(fields[0x70])
}

// SetObject stores the content of data object tag (what GET DATA returns inside 53, or
// inside 7E for the discovery object). Empty content deletes the object.
func (c *Card) SetObject(tag uint32, content []byte) error {
	if !knownObject(tag) {
		return fmt.Errorf("vcard: %06X is not a PIV data object", tag)
	}
	if len(content) > maxObject {
		return fmt.Errorf("vcard: object %06X of %d bytes is larger than the card's %d", tag, len(content), maxObject)
	}
	c.mu.Lock()
	if len(content) == 0 {
		delete(c.st.objects, tag)
	} else {
		c.st.objects[tag] = append([]byte(nil), content...)
	}
	c.dirty = true
	c.mu.Unlock()
	c.notify()
	return nil
}

// Object returns a copy of the content of data object tag.
func (c *Card) Object(tag uint32) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.st.objects[tag]
	return append([]byte(nil), v...), ok
}

// SetOnChange registers fn to be called after every change of the card's persistent state
// (retry counters, PIN, keys, objects), outside the card's lock; for example to Save the
// card. fn runs on the goroutine that made the change.
func (c *Card) SetOnChange(fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.onChange = fn
}

// SetTrace registers fn to see every command and response APDU exchanged (nil to stop).
func (c *Card) SetTrace(fn func(command, response []byte)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.trace = fn
}

// notify calls onChange when the state changed.
func (c *Card) notify() {
	c.mu.Lock()
	fn, dirty := c.onChange, c.dirty
	c.dirty = false
	c.mu.Unlock()
	if dirty && fn != nil {
		fn()
	}
}

// Transmit sends one command APDU to the card and returns the response APDU (data, SW1,
// SW2). It implements the raw link of smartpath/pcsc.Card: long responses come as 61xx and
// need GET RESPONSE, long commands need chaining. Faults set with SetEmulation apply: a
// dropped card returns ErrRemoved, a mute one blocks until ctx is done.
func (c *Card) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	resp, fault, err := c.exchange(ctx, apdu)
	if err != nil {
		return nil, err
	}
	switch fault {
	case faultDrop:
		return nil, ErrRemoved
	case faultMute:
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return resp, nil
}
