package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"

	"smartpath/testing/waitfor"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the scripts run this package's main as the kiosk-agent command.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"kiosk-agent": main})
}

// TestScripts drives the commands as a technician types them: testdata/script/*.txtar.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script", Setup: writeRunConfig,
		Cmds: map[string]func(*testscript.TestScript, bool, []string){"waitfile": waitFile}})
}

// writeRunConfig writes run.yaml for `kiosk-agent run`: JSON logs, the UI URL file in the
// work directory, and loopback ports that were free a moment ago.
func writeRunConfig(env *testscript.Env) error {
	var ports [2]int
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		ports[i] = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	cfg := fmt.Sprintf(`ui:
  listen: 127.0.0.1:%d
  url_file: %s
  require_shell: false
admin:
  listen: 127.0.0.1:%d
portal:
  home: https://portal.council.example/
  ca_file: ca.pem
log:
  format: json
`, ports[0], filepath.Join(env.WorkDir, "ui-url"), ports[1])
	return os.WriteFile(filepath.Join(env.WorkDir, "run.yaml"), []byte(cfg), 0o644)
}

// waitFile waits (bounded) until the file exists: `waitfile path`.
func waitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile path")
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitfor.Timeout)
	defer cancel()
	err := waitfor.Context(ctx, func() bool { _, err := os.Stat(args[0]); return err == nil })
	if err != nil {
		ts.Fatalf("%s did not appear within %v", args[0], waitfor.Timeout)
	}
}
