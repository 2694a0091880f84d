package strictjson

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

func TestCheckKeys(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want error
	}{
		{`{}`, nil},
		{` { "v" : 1 , "type" : "pin", "pin": "123456" } `, nil},
		{`{"a":{"b":1,"b":2},"c":[{"d":"}"}]}`, nil}, // only the top level counts
		{`{"v":1,"type":"foo","type":"cancel"}`, ErrDuplicateKey},
		{`{"type":"foo","t\u0079pe":"cancel"}`, ErrDuplicateKey},
		{`{"a":"x\"}","a":1}`, ErrDuplicateKey},
		{`[1]`, ErrNotObject},
		{`{"a":1}{"b":2}`, ErrNotObject},
		{`{"a" 1}`, ErrNotObject},
		{`{"a":}`, ErrNotObject},
		{`{"a":"unterminated}`, ErrNotObject},
		{``, ErrNotObject},
	} {
		if err := CheckKeys([]byte(tt.in)); !errors.Is(err, tt.want) {
			t.Errorf("CheckKeys(%s) = %v, want %v", tt.in, err, tt.want)
		}
	}
}

// For every valid JSON object, Keys finds exactly the keys encoding/json sees.
func FuzzKeys(f *testing.F) {
	for _, s := range []string{`{}`, `{"v":1,"type":"pin","pin":"1234"}`, `{"a":[1,{"b":"]"}],"a":null}`, `{"\u0061":true}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m map[string]json.RawMessage
		valid := json.Unmarshal(data, &m) == nil && m != nil
		keys, err := Keys(data)
		if !valid {
			return // not an object: Keys may say anything but must not panic
		}
		if err != nil {
			t.Fatalf("Keys(%q): %v for a valid object", data, err)
		}
		uniq := slices.Compact(slices.Sorted(slices.Values(keys)))
		var want []string
		for k := range m {
			want = append(want, k)
		}
		slices.Sort(want)
		if !slices.Equal(uniq, want) {
			t.Fatalf("Keys(%q) = %q, encoding/json sees %q", data, keys, want)
		}
	})
}
