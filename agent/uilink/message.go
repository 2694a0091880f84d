package uilink

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"smartpath/agent/session"

	"smartpath/agent/strictjson"
)

// Version is the protocol version this package speaks.
const Version = 1

// Types of the messages a UI sends.
const (
	TypePIN        = "pin"
	TypeCancel     = "cancel"
	TypeEndSession = "end_session"
	TypeActivity   = "activity"
	TypeLanguage   = "language"
	TypeDisplay    = "display"
)

// maxPINDigits bounds the pin field; the machine enforces the configured length.
const maxPINDigits = 16

// Message is one decoded message from the UI.
type Message struct {
	Type string // one of the Type constants
	Lang string // TypeLanguage
	// LargeText and HighContrast are the citizen's display choice (TypeDisplay).
	LargeText, HighContrast bool
	// PIN is the digits of a TypePIN message. The server zeroes it when the handler returns:
	// a handler that needs it later must copy it (session.Machine.SubmitPIN does).
	PIN []byte
}

// String never shows the PIN.
func (m Message) String() string {
	switch m.Type {
	case TypeLanguage:
		return fmt.Sprintf("language %q", m.Lang)
	case TypeDisplay:
		return fmt.Sprintf("display large_text=%v high_contrast=%v", m.LargeText, m.HighContrast)
	}
	return m.Type
}

// allowed lists each type's fields besides v and type.
var allowed = map[string][]string{
	TypePIN:        {"pin"},
	TypeCancel:     nil,
	TypeEndSession: nil,
	TypeActivity:   nil,
	TypeLanguage:   {"lang"},
	TypeDisplay:    {"large_text", "high_contrast"},
}

// badMessage is why a message was refused; Detail goes back to the UI and into logs, so it
// never contains a value from a pin message.
type badMessage struct{ Detail string }

func (e *badMessage) Error() string { return "bad message: " + e.Detail }

// skipValue accepts any JSON value without copying it (used to list an object's keys).
type skipValue struct{}

func (*skipValue) UnmarshalJSON([]byte) error { return nil }

// pinField takes the PIN out of the message as bytes, without a string in between.
type pinField struct {
	b   []byte
	bad bool
}

func (p *pinField) UnmarshalJSON(raw []byte) error {
	clear(p.b) // a second "pin" key: drop the first
	p.b, p.bad = nil, false
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		p.bad = true
		return nil
	}
	digits := raw[1 : len(raw)-1]
	if len(digits) == 0 || len(digits) > maxPINDigits {
		p.bad = true
		return nil
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			p.bad = true
			return nil
		}
	}
	p.b = make([]byte, len(digits))
	copy(p.b, digits)
	return nil
}

type wireIn struct {
	V            json.RawMessage `json:"v"`
	Type         string          `json:"type"`
	Lang         string          `json:"lang"`
	PIN          pinField        `json:"pin"`
	LargeText    *bool           `json:"large_text"`
	HighContrast *bool           `json:"high_contrast"`
}

// decode parses one UI message strictly. The caller zeroes data afterwards.
func decode(data []byte) (Message, error) {
	var keys map[string]skipValue
	if err := json.Unmarshal(data, &keys); err != nil || keys == nil {
		return Message{}, &badMessage{"not a JSON object"}
	}
	if err := strictjson.CheckKeys(data); err != nil {
		return Message{}, &badMessage{err.Error()}
	}
	var w wireIn
	if err := json.Unmarshal(data, &w); err != nil {
		clear(w.PIN.b)
		return Message{}, &badMessage{"a field has the wrong type"}
	}
	msg, err := check(keys, &w)
	if err != nil {
		clear(w.PIN.b)
		return Message{}, err
	}
	return msg, nil
}

func check(keys map[string]skipValue, w *wireIn) (Message, error) {
	if string(w.V) != "1" {
		if _, ok := keys["v"]; !ok {
			return Message{}, &badMessage{`missing "v"`}
		}
		return Message{}, &badMessage{"unsupported protocol version"}
	}
	fields, ok := allowed[w.Type]
	if !ok {
		if _, present := keys["type"]; !present {
			return Message{}, &badMessage{`missing "type"`}
		}
		return Message{}, &badMessage{fmt.Sprintf("unknown type %s", quoteName(w.Type))}
	}
	for k := range keys {
		if k != "v" && k != "type" && !slices.Contains(fields, k) {
			return Message{}, &badMessage{fmt.Sprintf("unknown field %s for type %q", quoteName(k), w.Type)}
		}
	}
	switch w.Type {
	case TypePIN:
		if w.PIN.bad || w.PIN.b == nil {
			return Message{}, &badMessage{"pin must be a short string of digits"}
		}
		return Message{Type: TypePIN, PIN: w.PIN.b}, nil
	case TypeLanguage:
		if len(w.Lang) < 2 || len(w.Lang) > 8 {
			return Message{}, &badMessage{"lang must be a language code"}
		}
		for _, c := range w.Lang {
			if c < 'a' || c > 'z' {
				return Message{}, &badMessage{"lang must be a language code"}
			}
		}
		return Message{Type: TypeLanguage, Lang: w.Lang}, nil
	case TypeDisplay:
		if w.LargeText == nil || w.HighContrast == nil {
			return Message{}, &badMessage{"display needs large_text and high_contrast, both true or false"}
		}
		return Message{Type: TypeDisplay, LargeText: *w.LargeText, HighContrast: *w.HighContrast}, nil
	}
	return Message{Type: w.Type}, nil
}

// quoteName quotes a short identifier-like name from the UI for an error detail, and
// refuses to repeat anything else.
func quoteName(s string) string {
	if len(s) == 0 || len(s) > 32 {
		return "(not shown)"
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c == '_') {
			return "(not shown)"
		}
	}
	return fmt.Sprintf("%q", s)
}

// Outgoing messages.

type stateMsg struct {
	V       int          `json:"v"`
	Type    string       `json:"type"`
	Seq     uint64       `json:"seq"`
	Phase   string       `json:"phase"`
	Lang    string       `json:"lang"`
	Display displayView  `json:"display"`
	PIN     *pinView     `json:"pin"`
	Citizen *citizenView `json:"citizen"`
	Session *sessionView `json:"session"`
	Warning *warningView `json:"warning"`
	Error   *codeView    `json:"error"`
	Goodbye *reasonView  `json:"goodbye"`
}

type pinView struct {
	Min       int  `json:"min"`
	Max       int  `json:"max"`
	TriesLeft *int `json:"triesLeft"`
	Wrong     bool `json:"wrong"`
}

type displayView struct {
	LargeText    bool `json:"largeText"`
	HighContrast bool `json:"highContrast"`
}

type citizenView struct {
	Name string `json:"name"`
}

type sessionView struct {
	PortalURL      string `json:"portalURL"`
	EndsAt         int64  `json:"endsAt"`
	IdleTimeoutSec int    `json:"idleTimeoutSec"`
}

type warningView struct {
	EndsAt int64 `json:"endsAt"`
}

type codeView struct {
	Code string `json:"code"`
}

type reasonView struct {
	Reason string `json:"reason"`
}

type simpleMsg struct {
	V      int    `json:"v"`
	Type   string `json:"type"`
	Code   string `json:"code,omitempty"`
	Detail string `json:"detail,omitempty"`
}

func unixMilli(t time.Time) int64 { return t.UnixMilli() }

// stateMessage renders a session state as the protocol's state message: each field only in
// the phases docs/ui-protocol.md gives it.
func stateMessage(s session.State, seq uint64) stateMsg {
	v := s.Visible()
	m := stateMsg{V: Version, Type: "state", Seq: seq, Phase: string(v.Phase), Lang: v.Lang,
		Display: displayView{LargeText: v.LargeText, HighContrast: v.HighContrast}}
	if v.HasPIN {
		p := &pinView{Min: v.PIN.Min, Max: v.PIN.Max, Wrong: v.PIN.Wrong}
		if v.PIN.TriesLeft >= 0 {
			n := v.PIN.TriesLeft
			p.TriesLeft = &n
		}
		m.PIN = p
	}
	if v.HasCitizen {
		m.Citizen = &citizenView{Name: v.Citizen}
	}
	if v.Phase == session.PhaseSession {
		m.Session = &sessionView{PortalURL: v.PortalURL, EndsAt: unixMilli(v.EndsAt),
			IdleTimeoutSec: int(v.IdleTimeout / time.Second)}
		if !v.WarningEndsAt.IsZero() {
			m.Warning = &warningView{EndsAt: unixMilli(v.WarningEndsAt)}
		}
	}
	if v.Error != "" {
		m.Error = &codeView{Code: string(v.Error)}
	}
	if v.Goodbye != "" {
		m.Goodbye = &reasonView{Reason: string(v.Goodbye)}
	}
	return m
}
