package proxy_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"time"

	"smartpath/agent/proxy"
)

// A citizen's session: start the proxy with the card's certificate and signer, probe the
// portal while the "connecting" screen shows, put HomeURL in the UI's frame, and Close when
// the session ends.
func ExampleStart() {
	var (
		cardCert  tls.Certificate // Certificate: the 9A chain; PrivateKey: the card's crypto.Signer
		portalCAs *x509.CertPool  // the configured CA bundle
	)
	home, _ := url.Parse("https://portal.council.example/home")
	sso, _ := url.Parse("https://sso.council.example")
	static, _ := url.Parse("https://static.council.example")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()

	s, err := proxy.Start(ctx, proxy.Config{
		Home:     home,
		Origins:  []*url.URL{sso, static},
		RootCAs:  portalCAs,
		UIOrigin: "http://127.0.0.1:8470",
	}, cardCert)
	if err != nil {
		fmt.Println("cannot start:", err)
		return
	}
	defer s.Close() // card removed, idle timeout, End session...

	switch err := s.Probe(ctx); {
	case errors.Is(err, proxy.ErrPortalUntrusted):
		fmt.Println("error screen: portal_untrusted")
	case errors.Is(err, proxy.ErrClientCertRefused):
		fmt.Println("error screen: client_cert_refused")
	case err != nil:
		fmt.Println("error screen: portal_unavailable")
	default:
		fmt.Println("frame:", s.HomeURL(), "signatures:", s.Signatures())
	}
}
