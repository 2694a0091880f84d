package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"smartpath/testing/pki"
)

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-h"}, 0, "--pki DIR"},
		{nil, 2, "--pki DIR is required"},
		{[]string{"--pki", "x", "extra"}, 2, "unexpected argument"},
		{[]string{"--pki", "x", "--listen", "nope"}, 2, "want HOST:PORT"},
		{[]string{"--pki", "x", "--log-level", "loud"}, 2, "--log-level"},
		{[]string{"--pki", "x", "--log-format", "xml"}, 2, "--log-format"},
	} {
		var out, errOut strings.Builder
		if code := run(context.Background(), tc.args, &out, &errOut); code != tc.code || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%q: exit %d (want %d), stderr %q lacks %q", tc.args, code, tc.code, errOut.String(), tc.want)
		}
	}
}

func TestNextPort(t *testing.T) {
	for in, want := range map[string]string{"127.0.0.1:9443": "127.0.0.1:9444", "127.0.0.1:0": "127.0.0.1:0", "[::1]:10": "[::1]:11"} {
		if got, err := nextPort(in, 1); err != nil || got != want {
			t.Errorf("nextPort(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := nextPort("127.0.0.1:65535", 1); err == nil {
		t.Errorf("port 65536 accepted")
	}
}

// TestServesCitizen starts the command on free ports with a fresh CA directory and signs in
// with a citizen certificate issued from that directory.
func TestServesCitizen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		var errOut strings.Builder
		code := run(ctx, []string{"--pki", dir, "--listen", "127.0.0.1:0", "--host", "127.0.0.1"}, pw, &errOut)
		pw.Close()
		done <- code
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("exit code %d", code)
		}
	}()
	sc := bufio.NewScanner(pr)
	var home string
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "portal: "); ok {
			home = u
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if home == "" {
		t.Fatal("no portal URL printed")
	}

	ca, err := pki.LoadOrCreate(dir, "unused")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf, err := ca.IssueCitizen("Jane Citizen", "C-1001", key.Public())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Root())
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots,
		Certificates: []tls.Certificate{{Certificate: [][]byte{leaf.Raw}, PrivateKey: key}}}}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Jar: jar, Timeout: 10 * time.Second}
	res, err := c.Get(home)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "Welcome, Jane Citizen") {
		t.Errorf("status %d:\n%s", res.StatusCode, body)
	}
}
