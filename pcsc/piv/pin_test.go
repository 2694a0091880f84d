package piv

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"smartpath/pcsc"
)

func TestValidatePIN(t *testing.T) {
	tests := []struct {
		pin string
		ok  bool
	}{
		{"123456", true}, {"1234567", true}, {"12345678", true}, {"000000", true},
		{"", false}, {"12345", false}, {"123456789", false}, {"12345a", false},
		{"123 456", false}, {"١٢٣٤٥٦", false}, {"123456\xff", false}, {"\x00\x00\x00\x00\x00\x00", false},
	}
	for _, tc := range tests {
		err := ValidatePIN([]byte(tc.pin))
		if (err == nil) != tc.ok {
			t.Errorf("ValidatePIN(%q) = %v, want ok=%v", tc.pin, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrPINFormat) {
			t.Errorf("ValidatePIN(%q) = %v, want ErrPINFormat", tc.pin, err)
		}
		if err != nil && tc.pin != "" && strings.Contains(err.Error(), tc.pin) {
			t.Errorf("error %q contains the PIN", err)
		}
	}
}

// assertNoSecret fails if err's message contains any of the secrets.
func assertNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) || strings.Contains(err.Error(), strings.ToUpper(hexOf(s))) ||
			strings.Contains(err.Error(), hexOf(s)) {
			t.Errorf("error %q reveals a secret", err)
		}
	}
}

func hexOf(s string) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(s))
	for _, c := range []byte(s) {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestVerifyPIN(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		pin       string
		tries     int // card's tries before
		wantAPDU  string
		wantErr   error
		wantTries int // from WrongPINError, when wantErr is ErrWrongPIN
		cardPIN   string
	}{
		{name: "right", pin: "123456", tries: 3, wantAPDU: "0020008008313233343536ffff"},
		{name: "right 8 digits", pin: "12345678", cardPIN: "12345678", tries: 3, wantAPDU: "00200080083132333435363738"},
		{name: "wrong", pin: "654321", tries: 3, wantAPDU: "0020008008363534333231ffff", wantErr: pcsc.ErrWrongPIN, wantTries: 2},
		{name: "wrong last try", pin: "654321", tries: 1, wantAPDU: "0020008008363534333231ffff", wantErr: pcsc.ErrAuthBlocked, wantTries: 0},
		{name: "blocked", pin: "123456", tries: 0, wantAPDU: "0020008008313233343536ffff", wantErr: pcsc.ErrAuthBlocked},
		{name: "too short: nothing sent", pin: "12345", tries: 3, wantErr: ErrPINFormat},
		{name: "letters: nothing sent", pin: "12345x", tries: 3, wantErr: ErrPINFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCard()
			f.tries = tc.tries
			if tc.cardPIN != "" {
				f.pin = []byte(tc.cardPIN)
			}
			c := openFake(t, f)
			before := f.count()
			err := c.VerifyPIN(ctx, []byte(tc.pin))
			if tc.wantErr == nil && err != nil {
				t.Fatalf("VerifyPIN: %v", err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("VerifyPIN = %v, want %v", err, tc.wantErr)
			}
			assertNoSecret(t, err, tc.pin)
			sent := f.transcript()[before:]
			if tc.wantAPDU == "" {
				if len(sent) != 0 {
					t.Fatalf("sent %v for an invalid PIN", sent)
				}
				return
			}
			if len(sent) != 1 || sent[0] != tc.wantAPDU {
				t.Fatalf("sent %v, want exactly [%s]", sent, tc.wantAPDU)
			}
			// The buffer handed to the card is zeroed once VerifyPIN returns.
			if ref := f.refs[len(f.refs)-1]; !bytes.Equal(ref, make([]byte, len(ref))) {
				t.Errorf("the VERIFY buffer was not zeroed: %x", ref)
			}
			var wp *pcsc.WrongPINError
			if errors.Is(tc.wantErr, pcsc.ErrWrongPIN) || tc.wantTries > 0 {
				if !errors.As(err, &wp) || wp.Retries != tc.wantTries {
					t.Fatalf("err = %v, want WrongPINError{%d}", err, tc.wantTries)
				}
			}
		})
	}
}

func TestPINRetries(t *testing.T) {
	tests := []struct {
		sw      uint16
		want    PINStatus
		wantErr error
	}{
		{0x63C3, PINStatus{Retries: 3}, nil},
		{0x63C1, PINStatus{Retries: 1}, nil},
		{0x63C0, PINStatus{Retries: 0, Blocked: true}, nil},
		{0x9000, PINStatus{Verified: true, Retries: -1}, nil},
		{0x6983, PINStatus{Retries: 0, Blocked: true}, nil},
		{0x6302, PINStatus{Retries: 2}, nil}, // older cards
		{0x6300, PINStatus{Retries: -1}, nil},
		{0x6A88, PINStatus{}, pcsc.ErrReferenceNotFound},
		{0x6D00, PINStatus{}, pcsc.ErrINSNotSupported},
	}
	for _, tc := range tests {
		f := newFakeCard()
		c := openFake(t, f)
		f.fault = func(int, []byte) ([]byte, error) { return sw(tc.sw), nil }
		got, err := c.PINRetries(context.Background())
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("SW %04X: err = %v, want %v", tc.sw, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("SW %04X: PINRetries = %+v, %v; want %+v", tc.sw, got, err, tc.want)
		}
		if last := f.transcript()[1]; last != "00200080" {
			t.Errorf("empty VERIFY sent as %s", last)
		}
	}
}

func TestPINRetriesCardRemoved(t *testing.T) {
	f := newFakeCard()
	c := openFake(t, f)
	f.fault = func(int, []byte) ([]byte, error) { return nil, pcsc.ErrCardRemoved }
	if _, err := c.PINRetries(context.Background()); !errors.Is(err, pcsc.ErrCardRemoved) {
		t.Fatalf("err = %v, want ErrCardRemoved", err)
	}
}

func TestVerifyPINMalformedAnswer(t *testing.T) {
	for _, resp := range [][]byte{{0x90}, make([]byte, pcsc.MaxResponseAPDU+1)} {
		f := newFakeCard()
		c := openFake(t, f)
		f.fault = func(int, []byte) ([]byte, error) { return resp, nil }
		err := c.VerifyPIN(context.Background(), []byte("123456"))
		if !errors.Is(err, pcsc.ErrMalformedResponse) && !errors.Is(err, pcsc.ErrResponseTooLarge) {
			t.Errorf("VERIFY answered with %d bytes: err = %v, want a malformed-response error", len(resp), err)
		}
		if err != nil && strings.Contains(err.Error(), "123456") {
			t.Errorf("error %q shows the PIN", err)
		}
	}
}

func TestWrongPINDecrementsThenBlocksThenPUKUnblocks(t *testing.T) {
	ctx := context.Background()
	f := newFakeCard()
	c := openFake(t, f)
	for want := 2; want >= 0; want-- {
		err := c.VerifyPIN(ctx, []byte("000000"))
		var wp *pcsc.WrongPINError
		if !errors.As(err, &wp) || wp.Retries != want {
			t.Fatalf("wrong PIN: err = %v, want %d tries left", err, want)
		}
		st, err := c.PINRetries(ctx)
		if err != nil || st.Retries != want || st.Blocked != (want == 0) {
			t.Fatalf("PINRetries = %+v, %v", st, err)
		}
	}
	if err := c.VerifyPIN(ctx, []byte("123456")); !errors.Is(err, pcsc.ErrAuthBlocked) {
		t.Fatalf("right PIN on a blocked card: %v", err)
	}
	err := c.UnblockPIN(ctx, []byte("87654321"), []byte("246810"))
	var wp *pcsc.WrongPINError
	if !errors.As(err, &wp) || wp.Retries != 2 {
		t.Fatalf("wrong PUK: %v", err)
	}
	assertNoSecret(t, err, "87654321", "246810")
	if err := c.UnblockPIN(ctx, []byte("12345678"), []byte("246810")); err != nil {
		t.Fatalf("UnblockPIN: %v", err)
	}
	if last := f.transcript()[f.count()-1]; last != "002c008010"+hexOf("12345678")+hexOf("246810")+"ffff" {
		t.Errorf("RESET RETRY COUNTER sent as %s", last)
	}
	if err := c.VerifyPIN(ctx, []byte("246810")); err != nil {
		t.Fatalf("new PIN: %v", err)
	}
}

func TestChangePIN(t *testing.T) {
	ctx := context.Background()
	f := newFakeCard()
	c := openFake(t, f)
	if err := c.ChangePIN(ctx, []byte("123456"), []byte("1234")); !errors.Is(err, ErrPINFormat) {
		t.Fatalf("short new PIN: %v", err)
	}
	if n := f.count(); n != 1 {
		t.Fatalf("%d APDUs sent for an invalid PIN", n-1)
	}
	err := c.ChangePIN(ctx, []byte("111111"), []byte("22222222"))
	if !errors.Is(err, pcsc.ErrWrongPIN) {
		t.Fatalf("wrong old PIN: %v", err)
	}
	assertNoSecret(t, err, "111111", "22222222")
	if err := c.ChangePIN(ctx, []byte("123456"), []byte("22222222")); err != nil {
		t.Fatalf("ChangePIN: %v", err)
	}
	if last := f.transcript()[f.count()-1]; last != "0024008010"+hexOf("123456")+"ffff"+hexOf("22222222") {
		t.Errorf("CHANGE REFERENCE DATA sent as %s", last)
	}
	if ref := f.refs[len(f.refs)-1]; !bytes.Equal(ref, make([]byte, len(ref))) {
		t.Errorf("the CHANGE REFERENCE DATA buffer was not zeroed")
	}
	if err := c.VerifyPIN(ctx, []byte("22222222")); err != nil {
		t.Fatalf("new PIN: %v", err)
	}
}

func TestLogout(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		resp    []byte
		err     error
		wantErr error
	}{
		{name: "ok"},
		{name: "refused", resp: sw(0x6A86), wantErr: ErrLogoutUnsupported},
		{name: "not supported", resp: sw(0x6D00), wantErr: ErrLogoutUnsupported},
		{name: "card removed", err: pcsc.ErrCardRemoved, wantErr: pcsc.ErrCardRemoved},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCard()
			c := openFake(t, f)
			if err := c.VerifyPIN(ctx, []byte("123456")); err != nil {
				t.Fatal(err)
			}
			f.fault = func(int, []byte) ([]byte, error) { return tc.resp, tc.err }
			err := c.Logout(ctx)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				f.fault = nil
				if st, _ := c.PINRetries(ctx); st.Verified {
					t.Fatal("still verified after Logout")
				}
			} else if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Logout = %v, want %v", err, tc.wantErr)
			}
			if tc.name == "card removed" && errors.Is(err, ErrLogoutUnsupported) {
				t.Fatal("a removed card is not a card that cannot log out")
			}
			if got := f.transcript()[2]; got != "0020ff80" {
				t.Errorf("logout sent as %s", got)
			}
		})
	}
}
