package piv

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestProductionDependencies keeps test helpers (the virtual card, the test PKI) out of the
// package the kiosk agent links.
func TestProductionDependencies(t *testing.T) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goBin, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "smartpath/testing") || dep == "testing" {
			t.Errorf("smartpath/pcsc/piv depends on %s", dep)
		}
	}
}
