package piv

import (
	"context"
	"testing"
)

func TestATRExtendedLength(t *testing.T) {
	tests := []struct {
		name string
		atr  string
		want bool
	}{
		{"YubiKey 5", "3BFD1300008131FE158073C021C057597562694B657940", true},
		{"chaining only", "3B8F8001 8073C021805953 6D617274506174 68" + "00", false},
		{"virtual card with extended length", "3B8F8001 8073C021C05953 6D617274506174 68" + "00", true},
		{"no historical bytes", "3B00", false},
		{"category 00 with status", "3B8500 7304C021C0 9000", false}, // truncated objects
		{"category 00", "3B08 00 73C021C0 009000", true},
		{"proprietary category", "3B83 41 7303", false},
		{"cut short", "3B8F80", false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		if got := atrExtendedLength(mustHex(tc.atr)); got != tc.want {
			t.Errorf("%s: atrExtendedLength = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestOpenUsesExtendedLengthFromATR(t *testing.T) {
	for _, tc := range []struct {
		atr        string
		short      bool
		wantLongLe bool
	}{
		{"3BFD1300008131FE158073C021C057597562694B657940", false, true},
		{"3BFD1300008131FE158073C021C057597562694B657940", true, false},
		{"3B8F80018073C021805953 6D617274506174 6800", false, false},
	} {
		f := &atrCard{fakeCard: newFakeCard(), atr: mustHex(tc.atr)}
		f.setCHUID()
		c, err := Open(context.Background(), f, Options{ShortAPDUs: tc.short})
		if err != nil {
			t.Fatal(err)
		}
		if c.opts.Extended != tc.wantLongLe {
			t.Errorf("ATR %s, ShortAPDUs %v: Extended = %v", tc.atr, tc.short, c.opts.Extended)
		}
	}
}

type atrCard struct {
	*fakeCard
	atr []byte
}

func (a *atrCard) ATR() []byte { return a.atr }
