package agent

import (
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"smartpath/agent/config"
	"smartpath/testing/pki"
)

// Every agent listener binds loopback only (docs/security.md, invariant 3), even when New is given a
// configuration that did not come through config.Load.
func TestNewRefusesListenersOffLoopback(t *testing.T) {
	dir := t.TempDir()
	if _, err := pki.LoadOrCreate(dir, "loopback-test"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		key    string
		modify func(c *config.Config)
	}{
		{"ui.listen", func(c *config.Config) { c.UI.Listen = "0.0.0.0:0" }},
		{"ui.listen", func(c *config.Config) { c.UI.Listen = ":0" }},
		{"ui.listen", func(c *config.Config) { c.UI.Listen = "localhost:0" }},
		{"admin.listen", func(c *config.Config) { c.Admin.Listen = "[::]:0" }},
	} {
		cfg := config.Default()
		cfg.Portal.CAFile = filepath.Join(dir, pki.BundleFile)
		cfg.UI.Listen, cfg.Admin.Listen = "127.0.0.1:0", "127.0.0.1:0"
		tt.modify(cfg)
		a, err := New(cfg, slog.New(slog.DiscardHandler))
		if err == nil {
			a.Close()
			t.Fatalf("New bound ui %q, admin %q", cfg.UI.Listen, cfg.Admin.Listen)
		}
		if !strings.HasPrefix(err.Error(), tt.key+": ") || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("error %q; want it to name %s and say loopback", err, tt.key)
		}
	}
}

// An agent made and never run gives its ports back on Close.
func TestCloseReleasesListeners(t *testing.T) {
	dir := t.TempDir()
	if _, err := pki.LoadOrCreate(dir, "close-test"); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Portal.CAFile = filepath.Join(dir, pki.BundleFile)
	cfg.UI.Listen, cfg.Admin.Listen = "127.0.0.1:0", "127.0.0.1:0"
	a, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ui, admin := a.uiLn.Addr().String(), a.AdminAddr()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a.Close() // twice is harmless
	for _, addr := range []string{ui, admin} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("%s still taken after Close: %v", addr, err)
		}
		ln.Close()
	}
}
