package main

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the scripts run this package's main as the kiosk-agent command.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"kiosk-agent": main})
}

// TestScripts drives the commands as a technician types them: testdata/script/*.txtar.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}
