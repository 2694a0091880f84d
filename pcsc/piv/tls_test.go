package piv

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"testing"
	"time"

	"smartpath/testing/vcard"
)

// TestSignerInTLSHandshake uses the card signer as the client key of real crypto/tls
// handshakes (TLS 1.3: RSA-PSS or ECDSA; TLS 1.2: RSA PKCS #1 v1.5 or ECDSA), verified by a
// server that requires a client certificate from the test PKI. Each handshake costs exactly
// one card signature.
func TestSignerInTLSHandshake(t *testing.T) {
	p, err := testPKI()
	if err != nil {
		t.Fatal(err)
	}
	serverCert, err := p.IssueServer()
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []Algorithm{AlgRSA2048, AlgECCP256, AlgECCP384} {
		for _, version := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
			name := alg.String() + "/" + tls.VersionName(version)
			t.Run(name, func(t *testing.T) {
				ctx := context.Background()
				ic := issueVCard(t, alg, vcard.Options{})
				c, err := Open(ctx, ic.card, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if err := c.VerifyPIN(ctx, []byte(vcard.DefaultPIN)); err != nil {
					t.Fatal(err)
				}
				signer, err := c.Signer(Slot9A, ic.cert.PublicKey)
				if err != nil {
					t.Fatal(err)
				}
				clientCert := tls.Certificate{Certificate: [][]byte{ic.cert.Raw, p.Issuing().Raw}, PrivateKey: signer, Leaf: ic.cert}

				cc, sc := net.Pipe()
				defer cc.Close()
				defer sc.Close()
				deadline := time.Now().Add(20 * time.Second)
				cc.SetDeadline(deadline)
				sc.SetDeadline(deadline)
				server := tls.Server(sc, &tls.Config{
					Certificates: []tls.Certificate{serverCert},
					ClientAuth:   tls.RequireAndVerifyClientCert,
					ClientCAs:    p.Pool(),
					MinVersion:   version, MaxVersion: version,
				})
				client := tls.Client(cc, &tls.Config{
					RootCAs:      p.Pool(),
					ServerName:   "localhost",
					Certificates: []tls.Certificate{clientCert},
					MinVersion:   version, MaxVersion: version,
				})
				var wg sync.WaitGroup
				var serverErr error
				wg.Add(1)
				go func() {
					defer wg.Done()
					serverErr = server.HandshakeContext(ctx)
				}()
				before := ic.card.Signatures()
				clientErr := client.HandshakeContext(ctx)
				wg.Wait()
				if clientErr != nil || serverErr != nil {
					t.Fatalf("handshake: client %v, server %v", clientErr, serverErr)
				}
				if got := server.ConnectionState().PeerCertificates; len(got) == 0 || !got[0].Equal(ic.cert) {
					t.Fatal("the server did not see the card's certificate")
				}
				if n := ic.card.Signatures() - before; n != 1 {
					t.Fatalf("%d card signatures for one handshake", n)
				}
			})
		}
	}
}
