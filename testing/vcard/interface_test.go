package vcard

import "smartpath/pcsc"

// The card is the raw link of the PC/SC layer.
var _ pcsc.Card = (*Card)(nil)
