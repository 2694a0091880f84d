package pcsc

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

func TestCommandEncode(t *testing.T) {
	d255 := bytes.Repeat([]byte{0xAB}, 255)
	d256 := bytes.Repeat([]byte{0xAB}, 256)
	tests := []struct {
		name     string
		cmd      Command
		short    string // "" = error
		extended string // "" = error
	}{
		{"case 1", Command{0x00, 0xA4, 0x04, 0x00, nil, 0}, "00A40400", "00A40400"},
		{"case 2 short", Command{0x00, 0xCB, 0x3F, 0xFF, nil, 16}, "00CB3FFF10", "00CB3FFF000010"},
		{"case 2 Le 256", Command{0x00, 0xCB, 0x3F, 0xFF, nil, 256}, "00CB3FFF00", "00CB3FFF000100"},
		{"case 2 Le 257", Command{0x00, 0xCB, 0x3F, 0xFF, nil, 257}, "", "00CB3FFF000101"},
		{"case 2 Le 65536", Command{0x00, 0xCB, 0x3F, 0xFF, nil, 65536}, "", "00CB3FFF000000"},
		{"case 3", Command{0x00, 0x20, 0x00, 0x80, []byte{1, 2}, 0}, "0020008002 0102", "00200080000002 0102"},
		{"case 4", Command{0x00, 0xA4, 0x04, 0x00, []byte{0xA0, 0x00}, 256}, "00A4040002A00000", "00A40400000002A000 0100"},
		{"case 3 255", Command{0x00, 0xDB, 0x3F, 0xFF, d255, 0}, "00DB3FFFFF" + strings.Repeat("AB", 255), "00DB3FFF0000FF" + strings.Repeat("AB", 255)},
		{"case 3 ext", Command{0x00, 0xDB, 0x3F, 0xFF, d256, 0}, "", "00DB3FFF000100" + strings.Repeat("AB", 256)},
		{"case 4 ext", Command{0x00, 0x87, 0x07, 0x9A, d256, 65536}, "", "008707 9A000100" + strings.Repeat("AB", 256) + "0000"},
		{"negative Le", Command{0x00, 0xB0, 0, 0, nil, -1}, "", ""},
		{"Le too big", Command{0x00, 0xB0, 0, 0, nil, 65537}, "", ""},
		{"data too long", Command{0x00, 0xD6, 0, 0, make([]byte, 65536), 0}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(kind string, got []byte, err error, want string) {
				t.Helper()
				if want == "" {
					if !errors.Is(err, ErrCommandTooLong) {
						t.Errorf("%s: got %X, %v; want ErrCommandTooLong", kind, got, err)
					}
					return
				}
				if err != nil || !bytes.Equal(got, unhex(t, want)) {
					t.Errorf("%s: got %X, %v; want %s", kind, got, err, want)
				}
			}
			b, err := tt.cmd.Encode()
			check("short", b, err, tt.short)
			b, err = tt.cmd.EncodeExtended()
			check("extended", b, err, tt.extended)
		})
	}
}

func TestSplitResponse(t *testing.T) {
	tests := []struct {
		name string
		resp []byte
		data []byte
		sw   uint16
		err  error
	}{
		{"sw only", []byte{0x90, 0x00}, []byte{}, 0x9000, nil},
		{"data", []byte{1, 2, 3, 0x61, 0x10}, []byte{1, 2, 3}, 0x6110, nil},
		{"empty", nil, nil, 0, ErrMalformedResponse},
		{"one byte", []byte{0x90}, nil, 0, ErrMalformedResponse},
		{"max", make([]byte, MaxResponseAPDU), make([]byte, MaxResponseAPDU-2), 0, nil},
		{"too long", make([]byte, MaxResponseAPDU+1), nil, 0, ErrResponseTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, sw, err := SplitResponse(tt.resp)
			if !errors.Is(err, tt.err) || sw != tt.sw || !bytes.Equal(data, tt.data) {
				t.Errorf("SplitResponse = %d bytes, %04X, %v; want %d bytes, %04X, %v", len(data), sw, err, len(tt.data), tt.sw, tt.err)
			}
			if err == nil && cap(data) != len(data) {
				t.Errorf("data capacity %d reaches into the status word", cap(data))
			}
		})
	}
}
