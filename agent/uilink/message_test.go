package uilink

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"smartpath/agent/session"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		in     string
		want   Message
		detail string // non-empty: refused with this detail
	}{
		{`{"v":1,"type":"pin","pin":"123456"}`, Message{Type: "pin", PIN: []byte("123456")}, ""},
		{`{"type":"pin","pin":"12345678","v":1}`, Message{Type: "pin", PIN: []byte("12345678")}, ""},
		{`{"v":1,"type":"cancel"}`, Message{Type: "cancel"}, ""},
		{`{"v":1,"type":"end_session"}`, Message{Type: "end_session"}, ""},
		{`{"v":1,"type":"activity"}`, Message{Type: "activity"}, ""},
		{`{"v":1,"type":"language","lang":"el"}`, Message{Type: "language", Lang: "el"}, ""},
		{` {"v":1, "type":"activity"} `, Message{Type: "activity"}, ""},
		{`{"v":1,"type":"foo"}`, Message{}, `unknown type "foo"`},
		{`{"v":1,"type":"FOO123456"}`, Message{}, `unknown type (not shown)`},
		{`{"v":1}`, Message{}, `missing "type"`},
		{`{"type":"cancel"}`, Message{}, `missing "v"`},
		{`{"v":2,"type":"cancel"}`, Message{}, "unsupported protocol version"},
		{`{"v":"1","type":"cancel"}`, Message{}, "unsupported protocol version"},
		{`{"v":1.0,"type":"cancel"}`, Message{}, "unsupported protocol version"},
		{`{"v":1,"type":"cancel","extra":1}`, Message{}, `unknown field "extra" for type "cancel"`},
		{`{"v":1,"type":"cancel","pin":"123456"}`, Message{}, `unknown field "pin" for type "cancel"`},
		{`{"v":1,"type":"pin"}`, Message{}, "pin must be a short string of digits"},
		{`{"v":1,"type":"pin","pin":""}`, Message{}, "pin must be a short string of digits"},
		{`{"v":1,"type":"pin","pin":"12a456"}`, Message{}, "pin must be a short string of digits"},
		{`{"v":1,"type":"pin","pin":123456}`, Message{}, "pin must be a short string of digits"},
		{`{"v":1,"type":"pin","pin":"\u0031\u0032"}`, Message{}, "pin must be a short string of digits"},
		{`{"v":1,"type":"pin","pin":"12345678901234567"}`, Message{}, "pin must be a short string of digits"},
		{`{"v":1,"type":"language","lang":"EL"}`, Message{}, "lang must be a language code"},
		{`{"v":1,"type":"display","large_text":true,"high_contrast":false}`, Message{Type: "display", LargeText: true}, ""},
		{`{"v":1,"type":"display","large_text":true}`, Message{}, "display needs large_text and high_contrast, both true or false"},
		{`{"v":1,"type":"display","large_text":1,"high_contrast":false}`, Message{}, "a field has the wrong type"},
		{`{"v":1,"type":"display","large_text":true,"high_contrast":false,"zoom":3}`, Message{}, `unknown field "zoom" for type "display"`},
		{`{"v":1,"type":"language"}`, Message{}, "lang must be a language code"},
		{`{"v":1,"type":5}`, Message{}, "a field has the wrong type"},
		{`[1,2]`, Message{}, "not a JSON object"},
		{`{"v":1,"type":"foo","type":"cancel"}`, Message{}, "a field appears twice"},
		{`{"v":1,"type":"cancel","t\u0079pe":"cancel"}`, Message{}, "a field appears twice"},
		{`{"v":1,"type":"pin","pin":"123456","pin":"654321"}`, Message{}, "a field appears twice"},
		{`null`, Message{}, "not a JSON object"},
		{`{"v":1,"type":"pin","pin":"123456"`, Message{}, "not a JSON object"},
		{``, Message{}, "not a JSON object"},
	}
	for _, tt := range tests {
		got, err := decode([]byte(tt.in))
		if tt.detail != "" {
			if err == nil || err.(*badMessage).Detail != tt.detail {
				t.Errorf("decode(%s) = %v, %v; want detail %q", tt.in, got, err, tt.detail)
			}
			continue
		}
		if err != nil || got.Type != tt.want.Type || got.Lang != tt.want.Lang || string(got.PIN) != string(tt.want.PIN) {
			t.Errorf("decode(%s) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestMessageStringHidesPIN(t *testing.T) {
	m := Message{Type: TypePIN, PIN: []byte("123456")}
	if s := m.String(); strings.Contains(s, "123456") {
		t.Errorf("String() = %q", s)
	}
}

func TestStateMessage(t *testing.T) {
	cfg := session.Config{IdleTimeout: 2 * time.Minute, MaxLength: 30 * time.Minute}
	ends := time.UnixMilli(1764064800000)
	tests := []struct {
		s    session.State
		want string
	}{
		{session.State{Phase: session.PhaseIdle, Lang: "en", Citizen: "leftover"},
			`{"v":1,"type":"state","seq":7,"phase":"idle","lang":"en","display":{"largeText":false,"highContrast":false},"pin":null,"citizen":null,"session":null,"warning":null,"error":null,"goodbye":null}`},
		{session.State{Phase: session.PhasePIN, Lang: "el", PIN: session.PINState{Min: 6, Max: 8, TriesLeft: 2, Wrong: true}},
			`{"v":1,"type":"state","seq":7,"phase":"pin","lang":"el","display":{"largeText":false,"highContrast":false},"pin":{"min":6,"max":8,"triesLeft":2,"wrong":true},"citizen":null,"session":null,"warning":null,"error":null,"goodbye":null}`},
		{session.State{Phase: session.PhaseVerifying, Lang: "en", PIN: session.PINState{Min: 6, Max: 8, TriesLeft: -1}},
			`{"v":1,"type":"state","seq":7,"phase":"verifying","lang":"en","display":{"largeText":false,"highContrast":false},"pin":{"min":6,"max":8,"triesLeft":null,"wrong":false},"citizen":null,"session":null,"warning":null,"error":null,"goodbye":null}`},
		{session.State{Phase: session.PhaseConnecting, Lang: "en", Citizen: "Jane Citizen"},
			`{"v":1,"type":"state","seq":7,"phase":"connecting","lang":"en","display":{"largeText":false,"highContrast":false},"pin":null,"citizen":{"name":"Jane Citizen"},"session":null,"warning":null,"error":null,"goodbye":null}`},
		{session.State{Phase: session.PhaseSession, Lang: "en", Citizen: "Jane Citizen", PortalURL: "http://127.0.0.1:8471/", EndsAt: ends, WarningEndsAt: ends.Add(-time.Minute), Config: cfg},
			`{"v":1,"type":"state","seq":7,"phase":"session","lang":"en","display":{"largeText":false,"highContrast":false},"pin":null,"citizen":{"name":"Jane Citizen"},"session":{"portalURL":"http://127.0.0.1:8471/","endsAt":1764064800000,"idleTimeoutSec":120},"warning":{"endsAt":1764064740000},"error":null,"goodbye":null}`},
		{session.State{Phase: session.PhaseError, Lang: "en", Error: session.ErrCodePINBlocked},
			`{"v":1,"type":"state","seq":7,"phase":"error","lang":"en","display":{"largeText":false,"highContrast":false},"pin":null,"citizen":null,"session":null,"warning":null,"error":{"code":"pin_blocked"},"goodbye":null}`},
		{session.State{Phase: session.PhaseOutOfOrder, Lang: "en", Error: session.ErrCodeReaderMissing},
			`{"v":1,"type":"state","seq":7,"phase":"out_of_order","lang":"en","display":{"largeText":false,"highContrast":false},"pin":null,"citizen":null,"session":null,"warning":null,"error":{"code":"reader_missing"},"goodbye":null}`},
		{session.State{Phase: session.PhaseGoodbye, Lang: "en", Goodbye: session.ReasonIdleTimeout},
			`{"v":1,"type":"state","seq":7,"phase":"goodbye","lang":"en","display":{"largeText":false,"highContrast":false},"pin":null,"citizen":null,"session":null,"warning":null,"error":null,"goodbye":{"reason":"idle_timeout"}}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(stateMessage(tt.s, 7))
		if err != nil || string(b) != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.s.Phase, b, tt.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"type":"pin","pin":"123456"}`, `{"v":1,"type":"language","lang":"el"}`,
		`{"v":1,"type":"cancel"}`, `{"v":1,"type":"pin","pin":"1","pin":"2"}`, `{"v":1,"type":"pin","pin":"12\"3"}`,
		`{"v":1,"type":"foo","x":[1,{"y":null}]}`, `{"v":1e0,"type":"activity"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decode(data)
		if err != nil {
			if m.PIN != nil || m.Type != "" {
				t.Fatal("refused message has content")
			}
			d := err.(*badMessage).Detail
			for _, c := range d {
				if c >= '0' && c <= '9' {
					t.Fatalf("detail %q repeats digits", d)
				}
			}
			return
		}
		if _, ok := allowed[m.Type]; !ok {
			t.Fatalf("accepted type %q", m.Type)
		}
		if m.Type == TypePIN {
			if len(m.PIN) == 0 || len(m.PIN) > maxPINDigits {
				t.Fatalf("PIN of %d bytes", len(m.PIN))
			}
			for _, c := range m.PIN {
				if c < '0' || c > '9' {
					t.Fatal("non-digit in PIN")
				}
			}
		} else if m.PIN != nil {
			t.Fatal("PIN on a non-pin message")
		}
	})
}
