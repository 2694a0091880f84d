package config

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
)

// Upstream is one portal origin and the loopback address its proxy port listens on.
type Upstream struct {
	Origin string // https://host[:port], lower-case, default port omitted
	Listen string // e.g. 127.0.0.1:8471
}

// Upstreams lists the portal origins in port order: portal.home's origin on first_port,
// then portal.origins[i] on first_port+1+i.
func (p Portal) Upstreams() []Upstream {
	var out []Upstream
	add := func(s string) {
		u, err := url.Parse(s)
		if err != nil {
			return
		}
		out = append(out, Upstream{
			Origin: originOf(u),
			Listen: net.JoinHostPort(p.ListenHost, strconv.Itoa(p.FirstPort+len(out))),
		})
	}
	add(p.Home)
	for _, o := range p.Origins {
		add(o)
	}
	return out
}

// CertPool reads CAFile into a pool for verifying the portal's certificates. Its errors
// name the key and say what to do, like Load's.
func (p Portal) CertPool() (*x509.CertPool, error) {
	data, err := os.ReadFile(p.CAFile)
	if err != nil {
		return nil, fmt.Errorf("portal.ca_file: %w; set it to the council portal's CA bundle (PEM)", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("portal.ca_file: %s holds no PEM certificate; set it to the council portal's CA bundle", p.CAFile)
	}
	return pool, nil
}

// Origin is the kiosk UI's origin, the only one its websocket accepts.
func (u UI) Origin() string { return "http://" + u.Listen }
