package piv

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"time"

	"smartpath/pcsc"
)

// Data object tags (SP 800-73-4 Part 1 Table 3).
const (
	tagCHUID     = 0x5FC102
	tagPrinted   = 0x5FC109
	tagDiscovery = 0x7E
)

// getData reads one data object (GET DATA, INS CB, P1P2 3FFF, data 5C tag) and returns the
// contents of its outer template: 53 for most objects, 7E for the discovery object.
func (c *Client) getData(ctx context.Context, tag uint32) ([]byte, error) {
	tagBytes := appendTag(nil, tag)
	data := appendTLV(nil, 0x5C, tagBytes)
	resp, err := c.tr.Do(ctx, pcsc.Command{INS: insGetData, P1: 0x3F, P2: 0xFF, Data: data, Le: c.le()})
	if err != nil {
		return nil, err
	}
	if len(resp) > c.opts.MaxObjectSize+16 {
		return nil, fmt.Errorf("%w: object %X is %d bytes, more than the %d allowed", errTLV, tag, len(resp), c.opts.MaxObjectSize)
	}
	outer := uint32(0x53)
	if tag == tagDiscovery {
		outer = tagDiscovery
	}
	t, rest, err := readTLV(resp)
	if err != nil {
		return nil, fmt.Errorf("object %X: %w", tag, err)
	}
	if t.tag != outer {
		return nil, fmt.Errorf("%w: object %X arrived in tag %X, want %X", errTLV, tag, t.tag, outer)
	}
	if len(bytes.Trim(rest, "\x00\xff")) != 0 {
		return nil, fmt.Errorf("%w: object %X has %d bytes after its template", errTLV, tag, len(rest))
	}
	return t.value, nil
}

// le is the Le to ask for a whole object: the transport follows 61xx for the rest.
func (c *Client) le() int {
	if c.opts.Extended {
		return 65536
	}
	return 256
}

// Certificate returns the X.509 certificate stored for slot. A Client reads each certificate
// from the card once and afterwards returns the same value; an empty slot gives an error
// wrapping [pcsc.ErrNotFound].
func (c *Client) Certificate(ctx context.Context, slot Slot) (*x509.Certificate, error) {
	if cert := c.cachedCert(slot); cert != nil {
		return cert, nil
	}
	var cert *x509.Certificate
	err := c.exclusive(ctx, func(ctx context.Context) error {
		var err error
		cert, err = c.readCertificate(ctx, slot)
		return err
	})
	return cert, err
}

func (c *Client) cachedCert(slot Slot) *x509.Certificate {
	c.cacheMu.Lock()
	defer c.cacheMu.Unlock()
	return c.certs[slot.Key]
}

// readCertificate reads and caches a slot's certificate; the caller holds the card.
func (c *Client) readCertificate(ctx context.Context, slot Slot) (*x509.Certificate, error) {
	if cert := c.cachedCert(slot); cert != nil {
		return cert, nil
	}
	obj, err := c.getData(ctx, slot.Object)
	if err != nil {
		if errors.Is(err, pcsc.ErrNotFound) {
			return nil, fmt.Errorf("piv: slot %s has no certificate: %w", slot, err)
		}
		return nil, fmt.Errorf("piv: read the certificate of slot %s: %w", slot, err)
	}
	cert, err := parseCertificateObject(obj, c.opts.MaxCertificateSize)
	if err != nil {
		return nil, fmt.Errorf("piv: certificate of slot %s: %w", slot, err)
	}
	c.cacheMu.Lock()
	c.certs[slot.Key] = cert
	c.cacheMu.Unlock()
	return cert, nil
}

// ErrBadCertificate means a certificate object is present but unusable (not DER X.509,
// compressed beyond the allowed size, or missing).
var ErrBadCertificate = errors.New("the certificate on the card is unreadable")

// parseCertificateObject decodes the contents of a certificate object's 53 template:
// 70 certificate, 71 CertInfo (b0 set: the certificate is gzip-compressed), 72 MSCUID,
// FE error detection code (SP 800-73-4 Part 1 Table 10).
func parseCertificateObject(obj []byte, maxSize int) (*x509.Certificate, error) {
	fields, err := parseTLVs(obj)
	if err != nil {
		return nil, err
	}
	der, ok := findTLV(fields, 0x70)
	if !ok || len(der) == 0 {
		return nil, fmt.Errorf("%w: the object has no certificate (70)", ErrBadCertificate)
	}
	if info, ok := findTLV(fields, 0x71); ok && len(info) > 0 && info[0]&0x01 != 0 {
		der, err = gunzip(der, maxSize)
		if err != nil {
			return nil, err
		}
	}
	if len(der) > maxSize {
		return nil, fmt.Errorf("%w: %d bytes, more than the %d allowed", ErrBadCertificate, len(der), maxSize)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCertificate, err)
	}
	return cert, nil
}

// gunzip decompresses a gzip certificate, refusing more than maxSize bytes of output.
func gunzip(b []byte, maxSize int) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: compressed certificate: %v", ErrBadCertificate, err)
	}
	defer zr.Close()
	zr.Multistream(false)
	out, err := io.ReadAll(io.LimitReader(zr, int64(maxSize)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: compressed certificate: %v", ErrBadCertificate, err)
	}
	if len(out) > maxSize {
		return nil, fmt.Errorf("%w: decompresses to more than %d bytes", ErrBadCertificate, maxSize)
	}
	return out, nil
}

// CHUID is the Card Holder Unique Identifier object (SP 800-73-4 Part 1 Table 9).
type CHUID struct {
	// FASCN is the Federal Agency Smart Credential Number (tag 30), raw, possibly empty.
	FASCN []byte
	// GUID is the card's globally unique identifier (tag 34).
	GUID [16]byte
	// Expiry is the expiration date (tag 35, YYYYMMDD), at 00:00 UTC of that day. The card is
	// valid through the end of that day.
	Expiry time.Time
}

// Expired reports whether the card's expiration day is over at now.
func (ch *CHUID) Expired(now time.Time) bool {
	return !now.Before(ch.Expiry.AddDate(0, 0, 1))
}

// ErrBadObject means a PIV data object other than a certificate is malformed.
var ErrBadObject = errors.New("malformed PIV data object")

// parseCHUID decodes the contents of the CHUID's 53 template. GUID and expiration date are
// mandatory; everything else is ignored.
func parseCHUID(obj []byte) (*CHUID, error) {
	fields, err := parseTLVs(obj)
	if err != nil {
		return nil, err
	}
	var ch CHUID
	if fascn, ok := findTLV(fields, 0x30); ok {
		if len(fascn) > 64 {
			return nil, fmt.Errorf("%w: CHUID FASC-N of %d bytes", ErrBadObject, len(fascn))
		}
		ch.FASCN = bytes.Clone(fascn)
	}
	guid, ok := findTLV(fields, 0x34)
	if !ok || len(guid) != 16 {
		return nil, fmt.Errorf("%w: CHUID without a 16-byte GUID (34)", ErrBadObject)
	}
	copy(ch.GUID[:], guid)
	exp, ok := findTLV(fields, 0x35)
	if !ok {
		return nil, fmt.Errorf("%w: CHUID without an expiration date (35)", ErrBadObject)
	}
	ch.Expiry, err = parseDate(exp)
	if err != nil {
		return nil, fmt.Errorf("%w: CHUID expiration date: %v", ErrBadObject, err)
	}
	return &ch, nil
}

// parseDate parses an 8-digit YYYYMMDD date.
func parseDate(b []byte) (time.Time, error) {
	if len(b) != 8 {
		return time.Time{}, fmt.Errorf("%d bytes, want 8 digits YYYYMMDD", len(b))
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return time.Time{}, errors.New("not 8 digits YYYYMMDD")
		}
	}
	t, err := time.Parse("20060102", string(b))
	if err != nil {
		return time.Time{}, errors.New("not a calendar date YYYYMMDD")
	}
	return t, nil
}

// CHUID reads the Card Holder Unique Identifier. Use [Client.ReadIdentity] on insertion to
// get it together with the certificate.
func (c *Client) CHUID(ctx context.Context) (*CHUID, error) {
	var ch *CHUID
	err := c.exclusive(ctx, func(ctx context.Context) error {
		var err error
		ch, err = c.readCHUID(ctx)
		return err
	})
	return ch, err
}

func (c *Client) readCHUID(ctx context.Context) (*CHUID, error) {
	obj, err := c.getData(ctx, tagCHUID)
	if err != nil {
		return nil, fmt.Errorf("piv: read the CHUID: %w", err)
	}
	ch, err := parseCHUID(obj)
	if err != nil {
		return nil, fmt.Errorf("piv: %w", err)
	}
	return ch, nil
}

// PINPolicy is the first byte of the discovery object's PIN usage policy (tag 5F2F).
type PINPolicy struct {
	ApplicationPIN          bool // b7: the PIV Card Application PIN satisfies the access rules
	GlobalPIN               bool // b6: the Global PIN satisfies them
	OnCardComparison        bool // b5: on-card biometric comparison satisfies them
	VirtualContactInterface bool // b4: the virtual contact interface is supported
}

// Discovery is the Discovery Object (tag 7E, SP 800-73-4 Part 1 Table 18).
type Discovery struct {
	// AID is the PIV application identifier it names (tag 4F).
	AID       []byte
	PINPolicy PINPolicy
	// GlobalPINPreferred is set when the second policy byte is 0x20: the card prefers the
	// Global PIN (key reference 00) over the application PIN (80).
	GlobalPINPreferred bool
}

// Discovery reads the discovery object, which says which PIN the card wants used.
func (c *Client) Discovery(ctx context.Context) (*Discovery, error) {
	var d *Discovery
	err := c.exclusive(ctx, func(ctx context.Context) error {
		obj, err := c.getData(ctx, tagDiscovery)
		if err != nil {
			return fmt.Errorf("piv: read the discovery object: %w", err)
		}
		d, err = parseDiscovery(obj)
		if err != nil {
			return fmt.Errorf("piv: %w", err)
		}
		return nil
	})
	return d, err
}

// parseDiscovery decodes the contents of the 7E template.
func parseDiscovery(obj []byte) (*Discovery, error) {
	fields, err := parseTLVs(obj)
	if err != nil {
		return nil, err
	}
	var d Discovery
	aid, ok := findTLV(fields, 0x4F)
	if !ok || len(aid) == 0 || len(aid) > 16 {
		return nil, fmt.Errorf("%w: discovery object without an AID (4F)", ErrBadObject)
	}
	d.AID = bytes.Clone(aid)
	pol, ok := findTLV(fields, 0x5F2F)
	if !ok || len(pol) != 2 {
		return nil, fmt.Errorf("%w: discovery object without a 2-byte PIN usage policy (5F2F)", ErrBadObject)
	}
	d.PINPolicy = PINPolicy{
		ApplicationPIN:          pol[0]&0x40 != 0,
		GlobalPIN:               pol[0]&0x20 != 0,
		OnCardComparison:        pol[0]&0x10 != 0,
		VirtualContactInterface: pol[0]&0x08 != 0,
	}
	d.GlobalPINPreferred = d.PINPolicy.GlobalPIN && pol[1] == 0x20
	return &d, nil
}

// PrintedInfo is the optional Printed Information object (SP 800-73-4 Part 1 Table 14).
// Fields are printable ASCII, bounded; absent ones are empty.
type PrintedInfo struct {
	Name                 string // 01
	EmployeeAffiliation  string // 02
	Expiry               string // 04, as printed (e.g. "2030JAN01")
	AgencyCardSerial     string // 05
	IssuerIdentification string // 06
}

// PrintedInfo reads the Printed Information object. It needs the PIN on real cards; an
// absent object gives an error wrapping [pcsc.ErrNotFound].
func (c *Client) PrintedInfo(ctx context.Context) (*PrintedInfo, error) {
	var p *PrintedInfo
	err := c.exclusive(ctx, func(ctx context.Context) error {
		obj, err := c.getData(ctx, tagPrinted)
		if err != nil {
			return fmt.Errorf("piv: read the printed information: %w", err)
		}
		fields, err := parseTLVs(obj)
		if err != nil {
			return fmt.Errorf("piv: printed information: %w", err)
		}
		get := func(tag uint32) string { v, _ := findTLV(fields, tag); return printable(v, 128) }
		p = &PrintedInfo{Name: get(0x01), EmployeeAffiliation: get(0x02), Expiry: get(0x04),
			AgencyCardSerial: get(0x05), IssuerIdentification: get(0x06)}
		return nil
	})
	return p, err
}

// Identity is what the kiosk needs when a card is inserted.
type Identity struct {
	// Certificate is the PIV Authentication certificate (slot 9A).
	Certificate *x509.Certificate
	// CHUID is the card's CHUID, or nil when the card has none.
	CHUID *CHUID
	// PIN is the state of the application PIN.
	PIN PINStatus
}

// ReadIdentity reads the slot 9A certificate, the CHUID and the PIN tries left inside one
// card transaction: one GET DATA per object (plus the GET RESPONSEs a long object needs) and
// one empty VERIFY, without selecting the application again. The certificate is cached, so a
// later Certificate(ctx, Slot9A) costs no APDU.
//
// A card without a 9A certificate is an error wrapping [pcsc.ErrNotFound]; a card without a
// CHUID gives Identity.CHUID == nil; a card that refuses the empty VERIFY gives PIN.Retries
// -1 (unknown).
func (c *Client) ReadIdentity(ctx context.Context) (*Identity, error) {
	id := &Identity{}
	err := c.exclusive(ctx, func(ctx context.Context) error {
		var err error
		if id.Certificate, err = c.readCertificate(ctx, Slot9A); err != nil {
			return err
		}
		if id.CHUID, err = c.readCHUID(ctx); err != nil {
			if !errors.Is(err, pcsc.ErrNotFound) {
				return err
			}
			id.CHUID = nil
		}
		id.PIN, err = c.pinStatus(ctx)
		if se := (*pcsc.StatusError)(nil); errors.As(err, &se) {
			// Cards made before SP 800-73-4 need not answer the empty VERIFY: the tries are
			// then unknown, and the citizen can still type the PIN.
			id.PIN, err = PINStatus{Retries: -1}, nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return id, nil
}
