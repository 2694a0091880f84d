package agent

import (
	"os/exec"
	"strings"
	"testing"
)

// Test-only code (testing/…: the virtual card, the test PKI, the demo portal) never links
// into the production binaries.
func TestProductionBinariesLinkNoTestCode(t *testing.T) {
	for _, cmd := range []string{"smartpath/cmd/kiosk-agent", "smartpath/cmd/kiosk-ui"} {
		out, err := exec.Command("go", "list", "-deps", cmd).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", cmd, err, out)
		}
		for _, pkg := range strings.Fields(string(out)) {
			if strings.HasPrefix(pkg, "smartpath/testing/") || pkg == "testing" {
				t.Errorf("%s links %s", cmd, pkg)
			}
		}
	}
}
