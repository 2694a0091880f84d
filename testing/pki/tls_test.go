package pki

import (
	"crypto/tls"
	"io"
	"testing"
)

// TestMutualTLS: a server certificate and a citizen client certificate from the same PKI
// complete a mutual TLS handshake verified against Pool; a citizen of another CA is refused.
func TestMutualTLS(t *testing.T) {
	p, err := New("tls-test")
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewOther("tls-test")
	if err != nil {
		t.Fatal(err)
	}
	serverCert, err := p.IssueServer()
	if err != nil {
		t.Fatal(err)
	}
	key := mustKey(t)
	for _, tc := range []struct {
		name   string
		issuer *PKI
		ok     bool
	}{{"council citizen", p, true}, {"citizen of another CA", other, false}} {
		t.Run(tc.name, func(t *testing.T) {
			citizen, err := tc.issuer.IssueCitizen("Jane Citizen", "C-1001", key.Public())
			if err != nil {
				t.Fatal(err)
			}
			ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
				Certificates: []tls.Certificate{serverCert},
				ClientCAs:    p.Pool(),
				ClientAuth:   tls.RequireAndVerifyClientCert,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			serverErr := make(chan error, 1)
			go func() {
				conn, err := ln.Accept()
				if err != nil {
					serverErr <- err
					return
				}
				defer conn.Close()
				err = conn.(*tls.Conn).Handshake()
				if err == nil {
					_, err = conn.Write([]byte("ok"))
				}
				serverErr <- err
			}()
			conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{
				RootCAs:      p.Pool(),
				ServerName:   "localhost",
				Certificates: []tls.Certificate{{Certificate: [][]byte{citizen.Raw}, PrivateKey: key, Leaf: citizen}},
			})
			if err == nil {
				_, err = io.ReadAll(conn)
				conn.Close()
			}
			serr := <-serverErr
			if tc.ok && (err != nil || serr != nil) {
				t.Fatalf("handshake failed: client %v, server %v", err, serr)
			}
			if !tc.ok && serr == nil {
				t.Fatal("server accepted a citizen certificate from another CA")
			}
		})
	}
}
