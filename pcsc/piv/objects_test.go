package piv

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"smartpath/pcsc"
)

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func certObject(der []byte, info byte) []byte {
	return append(append(appendTLV(nil, 0x70, der), 0x71, 0x01, info), 0xFE, 0x00)
}

func TestParseCertificateObject(t *testing.T) {
	f := newFakeCard()
	_, cert := f.issue(t, Slot9A, AlgECCP256)
	der := cert.Raw
	tests := []struct {
		name string
		obj  []byte
		max  int
		want error
		msg  string
	}{
		{name: "plain", obj: certObject(der, 0), max: 4096},
		{name: "gzip", obj: certObject(gz(der), 1), max: 4096},
		{name: "no CertInfo", obj: appendTLV(nil, 0x70, der), max: 4096},
		{name: "gzip too big", obj: certObject(gz(append(der, make([]byte, 1<<20)...)), 1), max: 4096, want: ErrBadCertificate, msg: "decompresses to more than"},
		{name: "plain too big", obj: certObject(der, 0), max: 100, want: ErrBadCertificate, msg: "more than the 100 allowed"},
		{name: "gzip flag on plain data", obj: certObject(der, 1), max: 4096, want: ErrBadCertificate, msg: "compressed certificate"},
		{name: "trailing data after cert", obj: certObject(append(bytes.Clone(der), 0), 0), max: 4096, want: ErrBadCertificate},
		{name: "not a certificate", obj: certObject([]byte{0x30, 0x00}, 0), max: 4096, want: ErrBadCertificate},
		{name: "empty 70", obj: certObject(nil, 0), max: 4096, want: ErrBadCertificate, msg: "no certificate"},
		{name: "no 70", obj: mustHex("710100FE00"), max: 4096, want: ErrBadCertificate},
		{name: "broken TLV", obj: mustHex("7082FFFF00"), max: 4096, want: errTLV},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseCertificateObject(tc.obj, tc.max)
			if tc.want == nil {
				if err != nil || !got.Equal(cert) {
					t.Fatalf("got %v, %v", got, err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.want, tc.msg)
			}
		})
	}
}

func TestParseCHUID(t *testing.T) {
	good := "30 02 D4E7 34 10 00112233445566778899AABBCCDDEEFF 35 08 3230333031323331 3E 00 FE 00"
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"full", good, true},
		{"minimal", "34 10 00112233445566778899AABBCCDDEEFF 35 08 3230333031323331", true},
		{"no GUID", "35 08 3230333031323331", false},
		{"short GUID", "34 02 0011 35 08 3230333031323331", false},
		{"no expiry", "34 10 00112233445566778899AABBCCDDEEFF", false},
		{"expiry not digits", "34 10 00112233445566778899AABBCCDDEEFF 35 08 323033303132334A", false},
		{"expiry not a date", "34 10 00112233445566778899AABBCCDDEEFF 35 08 3230333031333332", false},
		{"expiry short", "34 10 00112233445566778899AABBCCDDEEFF 35 06 323033303132", false},
	}
	for _, tc := range tests {
		ch, err := parseCHUID(mustHex(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
			continue
		}
		if !tc.ok {
			if !errors.Is(err, ErrBadObject) {
				t.Errorf("%s: err = %v, want ErrBadObject", tc.name, err)
			}
			continue
		}
		if ch.GUID[0] != 0x00 || ch.GUID[15] != 0xFF || !ch.Expiry.Equal(time.Date(2030, 12, 31, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("%s: %+v", tc.name, ch)
		}
	}
	ch, _ := parseCHUID(mustHex(good))
	if !bytes.Equal(ch.FASCN, []byte{0xD4, 0xE7}) {
		t.Errorf("FASC-N = %x", ch.FASCN)
	}
	if ch.Expired(time.Date(2030, 12, 31, 23, 59, 0, 0, time.UTC)) || !ch.Expired(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("Expired is wrong around the expiry day")
	}
}

func TestParseDiscovery(t *testing.T) {
	tests := []struct {
		in     string
		want   PINPolicy
		global bool
		ok     bool
	}{
		{"4F 0B A0000003080000100001 00 5F2F 02 4000", PINPolicy{ApplicationPIN: true}, false, true},
		{"4F 0B A0000003080000100001 00 5F2F 02 6020", PINPolicy{ApplicationPIN: true, GlobalPIN: true}, true, true},
		{"4F 0B A0000003080000100001 00 5F2F 02 6010", PINPolicy{ApplicationPIN: true, GlobalPIN: true}, false, true},
		{"4F 0B A0000003080000100001 00 5F2F 02 7800", PINPolicy{true, true, true, true}, false, true},
		{"5F2F 02 4000", PINPolicy{}, false, false},
		{"4F 0B A0000003080000100001 00", PINPolicy{}, false, false},
		{"4F 0B A0000003080000100001 00 5F2F 01 40", PINPolicy{}, false, false},
	}
	for _, tc := range tests {
		d, err := parseDiscovery(mustHex(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.in, err)
			continue
		}
		if tc.ok && (d.PINPolicy != tc.want || d.GlobalPINPreferred != tc.global || len(d.AID) != 11) {
			t.Errorf("%s: %+v", tc.in, d)
		}
	}
}

func TestReadIdentity(t *testing.T) {
	ctx := context.Background()
	f := newFakeCard()
	_, cert := f.issue(t, Slot9A, AlgRSA2048)
	f.setCHUID()
	c := openFake(t, f)
	id, err := c.ReadIdentity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !id.Certificate.Equal(cert) || id.CHUID == nil || id.CHUID.GUID[1] != 0x11 || id.PIN != (PINStatus{Retries: 3}) {
		t.Fatalf("identity = %+v", id)
	}
	tr := f.transcript()
	// SELECT, GET DATA 9A, GET RESPONSE for the rest of the certificate, GET DATA CHUID,
	// empty VERIFY: no second SELECT, each object read once.
	var selects, getData int
	for _, a := range tr {
		switch {
		case strings.HasPrefix(a, "00a40400"):
			selects++
		case strings.HasPrefix(a, "00cb3fff"):
			getData++
		}
	}
	if selects != 1 || getData != 2 || tr[len(tr)-1] != "00200080" {
		t.Fatalf("transcript = %v", tr)
	}
	want := 1 + 1 + (len(f.objects[Slot9A.Object])-1)/256 + 1 + 1
	if len(tr) != want {
		t.Errorf("%d APDUs, want %d", len(tr), want)
	}
	// The certificate is cached: asking again costs nothing.
	n := f.count()
	again, err := c.Certificate(ctx, Slot9A)
	if err != nil || again != id.Certificate || f.count() != n {
		t.Fatalf("Certificate after ReadIdentity: %v, %d more APDUs", err, f.count()-n)
	}
}

func TestReadIdentityErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("no certificate", func(t *testing.T) {
		f := newFakeCard()
		f.setCHUID()
		c := openFake(t, f)
		if _, err := c.ReadIdentity(ctx); !errors.Is(err, pcsc.ErrNotFound) || !strings.Contains(err.Error(), "slot 9A has no certificate") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("no CHUID is fine", func(t *testing.T) {
		f := newFakeCard()
		f.issue(t, Slot9A, AlgECCP256)
		c := openFake(t, f)
		id, err := c.ReadIdentity(ctx)
		if err != nil || id.CHUID != nil {
			t.Fatalf("%+v, %v", id, err)
		}
	})
	t.Run("object in the wrong template", func(t *testing.T) {
		f := newFakeCard()
		f.objects[Slot9A.Object] = mustHex("54 02 0000")
		c := openFake(t, f)
		if _, err := c.ReadIdentity(ctx); !errors.Is(err, errTLV) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("object too large", func(t *testing.T) {
		f := newFakeCard()
		f.objects[Slot9A.Object] = appendTLV(nil, 0x53, make([]byte, 40000))
		c := openFake(t, f)
		if _, err := c.ReadIdentity(ctx); !errors.Is(err, pcsc.ErrResponseTooLarge) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("empty VERIFY refused: tries unknown", func(t *testing.T) {
		f := newFakeCard()
		_, cert := f.issue(t, Slot9A, AlgECCP256)
		c := openFake(t, f)
		f.fault = func(_ int, apdu []byte) ([]byte, error) {
			if len(apdu) == 4 && apdu[1] == 0x20 {
				return sw(0x6D00), nil
			}
			return nil, nil
		}
		id, err := c.ReadIdentity(ctx)
		if err != nil || !id.Certificate.Equal(cert) || id.PIN != (PINStatus{Retries: -1}) {
			t.Fatalf("identity = %+v, %v", id, err)
		}
	})
	t.Run("card removed", func(t *testing.T) {
		f := newFakeCard()
		f.issue(t, Slot9A, AlgECCP256)
		c := openFake(t, f)
		f.fault = func(n int, _ []byte) ([]byte, error) { return nil, pcsc.ErrCardRemoved }
		if _, err := c.ReadIdentity(ctx); !errors.Is(err, pcsc.ErrCardRemoved) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestDiscoveryAndPrintedInfo(t *testing.T) {
	ctx := context.Background()
	f := newFakeCard()
	f.objects[tagDiscovery] = mustHex("7E 12 4F 0B A0000003080000100001 00 5F2F 02 4000")
	f.objects[tagPrinted] = mustHex("53 10 01 0C 4A616E6520436974697A656E 0A 00")
	c := openFake(t, f)
	d, err := c.Discovery(ctx)
	if err != nil || !d.PINPolicy.ApplicationPIN {
		t.Fatalf("Discovery = %+v, %v", d, err)
	}
	p, err := c.PrintedInfo(ctx)
	if err != nil || p.Name != "Jane Citizen" {
		t.Fatalf("PrintedInfo = %+v, %v", p, err)
	}
	if _, err := c.CHUID(ctx); !errors.Is(err, pcsc.ErrNotFound) {
		t.Fatalf("missing CHUID: %v", err)
	}
}

func FuzzCertificateObject(f *testing.F) {
	fc := newFakeCard()
	_, cert := fc.issue(f, Slot9A, AlgECCP256)
	f.Add(certObject(cert.Raw, 0))
	f.Add(certObject(gz(cert.Raw), 1))
	f.Add(mustHex("7000710101FE00"))
	f.Add(certObject(gz(make([]byte, 10000)), 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseCertificateObject(b, 4096)
		if err == nil && (c == nil || len(c.Raw) > 4096) {
			t.Fatalf("accepted a certificate of %d bytes", len(c.Raw))
		}
		if err != nil && c != nil {
			t.Fatal("certificate and error")
		}
		var _ *x509.Certificate = c
	})
}

func FuzzCHUID(f *testing.F) {
	f.Add(mustHex("30 02 D4E7 34 10 00112233445566778899AABBCCDDEEFF 35 08 3230333031323331 3E 00 FE 00"))
	f.Add(mustHex("34 10 00112233445566778899AABBCCDDEEFF 35 08 3939393931323331"))
	f.Add(mustHex("34 00 35 00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ch, err := parseCHUID(b)
		if err == nil && (ch.Expiry.IsZero() || len(ch.FASCN) > 64) {
			t.Fatalf("accepted %+v", ch)
		}
	})
}

func FuzzDiscovery(f *testing.F) {
	f.Add(mustHex("4F 0B A0000003080000100001 00 5F2F 02 4000"))
	f.Add(mustHex("4F 0B A0000003080000100001 00 5F2F 02 6020"))
	f.Add(mustHex("5F2F 00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := parseDiscovery(b)
		if err == nil && (len(d.AID) == 0 || len(d.AID) > 16) {
			t.Fatalf("accepted %+v", d)
		}
	})
}

// FuzzCardResponses feeds the other card answers the client decodes: the SELECT template,
// a generated public key and a GENERAL AUTHENTICATE answer.
func FuzzCardResponses(f *testing.F) {
	f.Add(mustHex("61 1F 4F 06 000010000100 79 07 4F 05 A000000308 50 04 54455354 AC 06 80 01 07 80 01 11"))
	f.Add(mustHex("7F49 05 86 03 040102"))
	f.Add(mustHex("7F49 08 81 02 C001 82 02 0101"))
	f.Add(mustHex("7C 06 82 04 30020101"))
	f.Add(mustHex("3BFD1300008131FE158073C021C057597562694B657940"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if app, err := parseApplication(b); err == nil && len(app.Algorithms) > 32 {
			t.Fatal("unbounded algorithm list")
		}
		for _, alg := range []Algorithm{AlgRSA2048, AlgECCP256, AlgECCP384} {
			if k, err := parsePublicKey(b, alg); err == nil && k == nil {
				t.Fatal("nil key without error")
			}
		}
		_ = atrExtendedLength(b)
		if sig, err := canonicalECDSA(b); err == nil && len(sig) == 0 {
			t.Fatal("empty signature accepted")
		}
	})
}
