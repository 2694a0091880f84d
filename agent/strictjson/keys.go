package strictjson

import (
	"encoding/json"
	"errors"
)

// ErrNotObject means the data is not one JSON object.
var ErrNotObject = errors.New("not a JSON object")

// ErrDuplicateKey means an object names a field twice.
var ErrDuplicateKey = errors.New("a field appears twice")

// CheckKeys returns ErrDuplicateKey when the top-level object in data names a key twice
// (after unescaping: "type" and "t\u0079pe" are one key), ErrNotObject when data is not a
// JSON object, and nil otherwise. Values are skipped, not decoded or copied; the caller
// still decodes data with encoding/json, which checks that the values are valid.
func CheckKeys(data []byte) error {
	keys, err := Keys(data)
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if seen[k] {
			return ErrDuplicateKey
		}
		seen[k] = true
	}
	return nil
}

// Keys returns the top-level keys of the JSON object in data, in order, unescaped.
func Keys(data []byte) ([]string, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, ErrNotObject
	}
	i = skipSpace(data, i+1)
	var keys []string
	if i < len(data) && data[i] == '}' {
		return keys, end(data, i+1)
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return nil, ErrNotObject
		}
		e, ok := stringEnd(data, i)
		if !ok {
			return nil, ErrNotObject
		}
		var k string
		if err := json.Unmarshal(data[i:e], &k); err != nil {
			return nil, ErrNotObject
		}
		keys = append(keys, k)
		i = skipSpace(data, e)
		if i >= len(data) || data[i] != ':' {
			return nil, ErrNotObject
		}
		if i, ok = valueEnd(data, skipSpace(data, i+1)); !ok {
			return nil, ErrNotObject
		}
		i = skipSpace(data, i)
		switch {
		case i < len(data) && data[i] == ',':
			i = skipSpace(data, i+1)
		case i < len(data) && data[i] == '}':
			return keys, end(data, i+1)
		default:
			return nil, ErrNotObject
		}
	}
}

func end(data []byte, i int) error {
	if skipSpace(data, i) != len(data) {
		return ErrNotObject
	}
	return nil
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index after the string starting at data[i] == '"'.
func stringEnd(data []byte, i int) (int, bool) {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// valueEnd returns the index after the value starting at data[i].
func valueEnd(data []byte, i int) (int, bool) {
	if i >= len(data) {
		return 0, false
	}
	switch data[i] {
	case '"':
		return stringEnd(data, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				e, ok := stringEnd(data, j)
				if !ok {
					return 0, false
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1, true
				}
			}
		}
		return 0, false
	}
	j := i
	for j < len(data) && data[j] != ',' && data[j] != '}' && data[j] != ']' && skipSpace(data, j) == j {
		j++
	}
	return j, j > i
}
