package uilink

import (
	"crypto/rand"
	"encoding/base64"
)

// NewToken returns a fresh random token for the control channel: 32 bytes from crypto/rand,
// base64url without padding (43 characters, safe in a URL fragment and query).
func NewToken() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand panics if the system's source does)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
