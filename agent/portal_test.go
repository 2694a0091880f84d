package agent

import (
	"crypto/x509"
	"log/slog"
	"slices"
	"testing"
	"time"

	"smartpath/agent/config"
	"smartpath/agent/telemetry"
)

// Every portal.* setting reaches the proxy: a timeout or an origin that was read but not
// passed on would be a setting that silently does nothing.
func TestPortalOpenerTakesTheConfiguration(t *testing.T) {
	cfg := config.Default()
	cfg.Portal.Home = "https://portal.council.example/start"
	cfg.Portal.Origins = []string{"https://sso.council.example", "https://static.council.example:8443"}
	cfg.Portal.EndSessionURLs = []string{"https://sso.council.example/logout"}
	cfg.Portal.ListenHost = "127.0.0.2"
	cfg.Portal.FirstPort = 9471
	cfg.Portal.ConnectTimeout = 7 * time.Second
	cfg.Portal.ResponseHeaderTimeout = 42 * time.Second
	roots := x509.NewCertPool()
	p := newPortalOpener(cfg, roots, "http://127.0.0.1:8470", slog.New(slog.DiscardHandler), telemetry.New())
	c := p.cfg
	var origins []string
	for _, o := range c.Origins {
		origins = append(origins, o.String())
	}
	switch {
	case c.Home.String() != cfg.Portal.Home:
		t.Errorf("home %s", c.Home)
	case !slices.Equal(origins, cfg.Portal.Origins):
		t.Errorf("origins %q", origins)
	case c.RootCAs != roots:
		t.Error("the portal's CA pool was not passed on")
	case c.ListenHost != "127.0.0.2" || c.FirstPort != 9471:
		t.Errorf("listen %s:%d", c.ListenHost, c.FirstPort)
	case c.UIOrigin != "http://127.0.0.1:8470":
		t.Errorf("UI origin %q", c.UIOrigin)
	case c.ConnectTimeout != 7*time.Second:
		t.Errorf("portal.connect_timeout reached the proxy as %v", c.ConnectTimeout)
	case c.ResponseHeaderTimeout != 42*time.Second:
		t.Errorf("portal.response_header_timeout reached the proxy as %v", c.ResponseHeaderTimeout)
	case !slices.Equal(p.signOut, []string{"https://sso.council.example/logout"}):
		t.Errorf("sign-out targets %q", p.signOut)
	}
}
