package piv

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func TestParseTLVs(t *testing.T) {
	long := bytes.Repeat([]byte{0xAB}, 300)
	tests := []struct {
		name    string
		in      string
		want    []tlv
		wantErr string
	}{
		{name: "empty", in: "", want: nil},
		{name: "short", in: "4F 02 A0 00", want: []tlv{{tag: 0x4F, value: []byte{0xA0, 0x00}}}},
		{name: "zero length", in: "82 00", want: []tlv{{tag: 0x82, value: []byte{}}}},
		{name: "two-byte tag", in: "5F2F 02 40 00", want: []tlv{{tag: 0x5F2F, value: []byte{0x40, 0x00}}}},
		{name: "three-byte tag", in: "5FC105 01 AA", want: []tlv{{tag: 0x5FC105, value: []byte{0xAA}}}},
		{name: "81 length", in: "70 81 03 01 02 03", want: []tlv{{tag: 0x70, value: []byte{1, 2, 3}}}},
		{name: "82 length", in: "70 82 01 2C " + hex.EncodeToString(long), want: []tlv{{tag: 0x70, value: long}}},
		{name: "83 length", in: "70 83 00 00 02 01 02", want: []tlv{{tag: 0x70, value: []byte{1, 2}}}},
		{name: "sequence", in: "71 01 00 FE 00", want: []tlv{{tag: 0x71, value: []byte{0}}, {tag: 0xFE, value: []byte{}}}},
		{name: "padding skipped", in: "00 71 01 00 FF FF 00", want: []tlv{{tag: 0x71, value: []byte{0}}}},
		{name: "value past end", in: "70 05 01 02", wantErr: "claims 5 bytes but only 2 follow"},
		{name: "long length past end", in: "70 82 FF FF 00", wantErr: "claims 65535 bytes but only 1 follow"},
		{name: "length cut", in: "70 82 01", wantErr: "length of tag 70 is cut short"},
		{name: "no length", in: "70", wantErr: "tag 70 has no length"},
		{name: "indefinite", in: "70 80 00 00", wantErr: "indefinite length"},
		{name: "84 length", in: "70 84 00 00 00 01 00", wantErr: "unsupported length byte 84"},
		{name: "tag cut", in: "5F", wantErr: "cut short"},
		{name: "tag too long", in: "5F C1 85 01 01 00", wantErr: "tag longer than 3 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseTLVs(unhex(t, tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, errTLV) {
					t.Fatalf("err = %v, want one containing %q wrapping errTLV", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d objects, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if got[i].tag != tc.want[i].tag || !bytes.Equal(got[i].value, tc.want[i].value) {
					t.Errorf("object %d = %X %X, want %X %X", i, got[i].tag, got[i].value, tc.want[i].tag, tc.want[i].value)
				}
			}
		})
	}
}

func TestParseTLVTreeDepth(t *testing.T) {
	// 61 → 79 → 4F nests three levels.
	apt := unhex(t, "61 0B 4F 02 00 01 79 05 4F 03 A0 00 00")
	tree, err := parseTLVTree(apt)
	if err != nil {
		t.Fatal(err)
	}
	if got := tree[0].children[1].children[0].tag; got != 0x4F {
		t.Fatalf("nested tag = %X, want 4F", got)
	}
	if !bytes.Equal(encodeTLVs(nil, tree), apt) {
		t.Fatalf("re-encoding differs")
	}

	// maxTLVDepth+1 levels of 7C is refused; maxTLVDepth is fine.
	nest := func(levels int) []byte {
		b := []byte{}
		for range levels {
			b = appendTLV(nil, 0x7C, b)
		}
		return b
	}
	if _, err := parseTLVTree(nest(maxTLVDepth)); err != nil {
		t.Fatalf("%d levels: %v", maxTLVDepth, err)
	}
	if _, err := parseTLVTree(nest(maxTLVDepth + 1)); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Fatalf("%d levels: err = %v, want nesting error", maxTLVDepth+1, err)
	}
}

func TestAppendTLV(t *testing.T) {
	tests := []struct {
		tag  uint32
		n    int
		want string // tag and length bytes
	}{
		{0x4F, 0, "4F00"},
		{0x4F, 0x7F, "4F7F"},
		{0x70, 0x80, "708180"},
		{0x70, 0xFF, "7081FF"},
		{0x70, 0x100, "70820100"},
		{0x5FC105, 0xFFFF, "5FC10582FFFF"},
		{0x7F49, 0x10000, "7F4983010000"},
	}
	for _, tc := range tests {
		got := appendTLV(nil, tc.tag, make([]byte, tc.n))
		if h := strings.ToUpper(hex.EncodeToString(got[:len(got)-tc.n])); h != tc.want {
			t.Errorf("appendTLV(%X, %d bytes) header = %s, want %s", tc.tag, tc.n, h, tc.want)
		}
		back, err := parseTLVs(got)
		if err != nil || len(back) != 1 || back[0].tag != tc.tag || len(back[0].value) != tc.n {
			t.Errorf("round trip of %X/%d failed: %v", tc.tag, tc.n, err)
		}
	}
}

func FuzzTLV(f *testing.F) {
	for _, s := range []string{
		"", "4F02A000", "5FC10501AA", "6111 4F0600001000 0100 7905 4F03A00000",
		"7C0A82000081050102030405", "70820100", "708300000201", "5F2F024000", "00FF",
		"7C087C067C047C027C00",
	} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		list, err := parseTLVs(b)
		if err == nil {
			// Whatever parses re-encodes canonically, and the canonical form parses to the
			// same objects.
			enc := encodeTLVs(nil, list)
			again, err := parseTLVs(enc)
			if err != nil {
				t.Fatalf("re-encoded data does not parse: %v", err)
			}
			if !bytes.Equal(encodeTLVs(nil, again), enc) {
				t.Fatalf("encoding is not stable")
			}
		}
		tree, err := parseTLVTree(b)
		if err == nil {
			_ = encodeTLVs(nil, tree)
		}
	})
}
