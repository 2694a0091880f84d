package portal_test

import (
	"context"
	"fmt"
	"log"

	"smartpath/testing/pki"
	"smartpath/testing/portal"
)

// A test starts the portal on free loopback ports with a council PKI, points its client (or
// the kiosk's proxy) at URLs(), and counts card signatures with Handshakes().
func Example() {
	ca, err := pki.New("example")
	if err != nil {
		log.Fatal(err)
	}
	cert, err := ca.IssueServer()
	if err != nil {
		log.Fatal(err)
	}
	srv, err := portal.New(portal.Options{ServerCert: cert, ClientCAs: ca.Pool()})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(context.Background(), portal.Addrs{}); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	u := srv.URLs()
	fmt.Println(u.Home() != "", u.SSO != "", u.Static != "")
	fmt.Println(len(srv.Subresources(1)), srv.Handshakes())
	// Output:
	// true true true
	// 20 0
}
