package kioskui

import _ "embed"

// startingHTML is shown while the agent cannot be reached. It loads nothing: no scripts,
// images or style sheets from anywhere.
//
//go:embed starting.html
var startingHTML string
