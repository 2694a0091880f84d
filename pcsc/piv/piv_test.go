package piv

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"smartpath/pcsc"
)

func openFake(t testing.TB, f *fakeCard) *Client {
	t.Helper()
	c, err := Open(context.Background(), f, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return c
}

func TestOpenParsesApplicationTemplate(t *testing.T) {
	f := newFakeCard()
	c := openFake(t, f)
	app := c.App()
	if !bytes.Equal(app.AID, mustHex("000010000100")) || app.Label != "TEST" ||
		!bytes.Equal(app.Authority, mustHex("4F05A000000308")) {
		t.Errorf("App() = %+v", app)
	}
	if len(app.Algorithms) != 2 || app.Algorithms[0] != AlgRSA2048 || app.Algorithms[1] != AlgECCP256 {
		t.Errorf("Algorithms = %v", app.Algorithms)
	}
	if got := f.transcript(); len(got) != 1 || got[0] != "00a404000ba00000030800001000010000" {
		t.Errorf("transcript = %v, want exactly one SELECT", got)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name  string
		resp  []byte
		err   error
		want  error
		wantS string
	}{
		{name: "no PIV application", resp: sw(0x6A82), want: ErrNotPIV},
		{name: "card removed", err: pcsc.ErrCardRemoved, want: pcsc.ErrCardRemoved},
		{name: "garbage template", resp: mustHex("61 05 4F 09 00 9000"), want: errTLV},
		{name: "no template", resp: mustHex("4F 01 00 9000"), wantS: "no application property template"},
		{name: "empty answer is fine", resp: sw(0x9000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCard()
			f.fault = func(int, []byte) ([]byte, error) { return tc.resp, tc.err }
			_, err := Open(context.Background(), f, Options{})
			switch {
			case tc.want == nil && tc.wantS == "":
				if err != nil {
					t.Fatalf("err = %v", err)
				}
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Fatalf("err = %v, want %v", err, tc.want)
			case tc.wantS != "" && (err == nil || !strings.Contains(err.Error(), tc.wantS)):
				t.Fatalf("err = %v, want %q", err, tc.wantS)
			}
		})
	}
}
