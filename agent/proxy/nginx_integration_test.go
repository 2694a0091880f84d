//go:build integration

package proxy

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"smartpath/testing/waitfor"
)

// nginxPath is Debian's nginx (nginx-light; make deps installs it).
const nginxPath = "/usr/sbin/nginx"

// nginxPortal is a real nginx as the council portal: mutual TLS with the test CA, a home page
// and resources for a page load, with or without TLS session resumption.
type nginxPortal struct {
	url *url.URL
	cmd *exec.Cmd
}

type nginxOpts struct {
	resume bool   // session tickets and a session cache
	h2     bool   // http2 on the listener
	tls    string // "TLSv1.2" or "TLSv1.3"
}

// resources is how many subresources the home page has: a portal page with its styles,
// scripts and pictures.
const resources = 20

func startNginx(t *testing.T, ca *testCA, o nginxOpts) *nginxPortal {
	t.Helper()
	if _, err := os.Stat(nginxPath); err != nil {
		t.Fatalf("this test needs nginx at %s: apt-get install nginx-light (make deps does)", nginxPath)
	}
	dir := t.TempDir()
	srv := ca.serverCert(t, "localhost")
	keyDER, err := x509.MarshalPKCS8PrivateKey(srv.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	var chain []byte
	for _, c := range srv.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c})...)
	}
	files := map[string][]byte{
		"server.pem":     chain,
		"server-key.pem": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		"citizen-ca.pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}),
	}
	var page strings.Builder
	page.WriteString("<!doctype html><title>home</title><h1>Welcome</h1>")
	for i := range resources {
		fmt.Fprintf(&page, `<img src="/r/%d.svg" alt="">`, i)
		files[fmt.Sprintf("www/r/%d.svg", i)] = []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)
	}
	files["www/home.html"] = []byte(page.String())
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	port := freePortBlock(t, 1)
	resume := "ssl_session_tickets off; ssl_session_cache off;"
	if o.resume {
		resume = "ssl_session_tickets on; ssl_session_cache shared:portal:1m;"
	}
	h2 := ""
	if o.h2 {
		h2 = " http2"
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // the workers read the test's files
	}
	conf := fmt.Sprintf(`%s
daemon off;
master_process on;
worker_processes 1;
pid %[2]s/nginx.pid;
error_log stderr warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path %[2]s/tmp; proxy_temp_path %[2]s/tmp; fastcgi_temp_path %[2]s/tmp;
  uwsgi_temp_path %[2]s/tmp; scgi_temp_path %[2]s/tmp;
  types { text/html html; image/svg+xml svg; }
  server {
    listen 127.0.0.1:%[3]d ssl%[4]s;
    ssl_certificate %[2]s/server.pem;
    ssl_certificate_key %[2]s/server-key.pem;
    ssl_client_certificate %[2]s/citizen-ca.pem;
    ssl_verify_client on;
    ssl_protocols %[5]s;
    %[6]s
    keepalive_requests 1000;
    root %[2]s/www;
  }
}
`, user, dir, port, h2, o.tls, resume)
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd := exec.Command(nginxPath, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", "stderr")
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM) // nginx's fast shutdown, the master ends its worker
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), waitfor.Timeout)
	defer cancel()
	if err := waitfor.Context(ctx, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	}); err != nil {
		t.Fatalf("nginx did not listen on %d: %s", port, stderr.String())
	}
	u, _ := url.Parse(fmt.Sprintf("https://localhost:%d", port))
	return &nginxPortal{url: u, cmd: cmd}
}

// A citizen's page load (the home page, then its 20 resources in parallel, as a browser
// does) costs the card one signature against a real nginx portal, whether or not nginx
// resumes TLS sessions, over TLS 1.2 and 1.3, HTTP/1.1 and HTTP/2.
func TestNginxPortalOneSignaturePerSession(t *testing.T) {
	ca := newCA(t, "nginx council")
	cd := ca.card(t, "p256", "Jane Citizen")
	for _, o := range []nginxOpts{
		{resume: true, h2: true, tls: "TLSv1.3"}, {resume: false, h2: true, tls: "TLSv1.3"},
		{resume: true, h2: false, tls: "TLSv1.3"}, {resume: false, h2: false, tls: "TLSv1.3"},
		{resume: true, h2: true, tls: "TLSv1.2"}, {resume: false, h2: true, tls: "TLSv1.2"},
		{resume: true, h2: false, tls: "TLSv1.2"}, {resume: false, h2: false, tls: "TLSv1.2"},
	} {
		name := fmt.Sprintf("%s-h2=%v-resume=%v", o.tls, o.h2, o.resume)
		t.Run(name, func(t *testing.T) {
			n := startNginx(t, ca, o)
			home := *n.url
			home.Path = "/home.html"
			before := cd.signer.n.Load()
			s := startSession(t, Config{Home: &home, RootCAs: ca.pool, UIOrigin: uiOrigin, Logger: testLogger(),
				dialAddr: loopbackAddr, IdleTimeout: 30 * time.Second}, cd.cert)
			if err := s.Probe(context.Background()); err != nil {
				t.Fatalf("probe: %v", err)
			}
			cl := localClient(t)
			if resp, body := get(t, cl, s.HomeURL()); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Welcome") {
				t.Fatalf("home: %s %q", resp.Status, body)
			}
			local := s.LocalURL(n.url)
			var wg sync.WaitGroup
			errs := make(chan error, resources)
			for i := range resources {
				wg.Go(func() {
					resp, err := cl.Get(fmt.Sprintf("%s/r/%d.svg", local, i))
					if err != nil {
						errs <- err
						return
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						errs <- fmt.Errorf("resource %d: %s", i, resp.Status)
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if got := cd.signer.n.Load() - before; got != 1 {
				t.Errorf("%s: the page load cost %d card signatures, want 1", name, got)
			} else {
				t.Logf("%s: 1 signature for the home page and %d resources", name, resources)
			}
		})
	}
}
