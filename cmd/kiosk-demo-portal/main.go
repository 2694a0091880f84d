// Command kiosk-demo-portal runs the demo council portal (package smartpath/testing/portal)
// for `make demo` and for trying the kiosk by hand. It is test equipment, not part of the
// kiosk.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"smartpath/testing/pki"
	"smartpath/testing/portal"
)

const usage = `kiosk-demo-portal — the demo council portal for the SmartPath kiosk.

Usage:
  kiosk-demo-portal --pki DIR [--listen 127.0.0.1:9443] [--sso-listen ADDR] [--static-listen ADDR] [flags]

It serves three HTTPS origins: the portal (asks for a citizen's client certificate and
accepts only one issued by the council CA), a sign-in (SSO) origin the portal bounces
through on first visit, and a static origin for CSS, script and images. The council CA is
loaded from DIR (council-root.pem, council-issuing.pem and their keys, as written by
kiosk-vcard or testing/pki); when DIR holds no CA one is made from --seed and written
there. The server certificate is issued at start for localhost, 127.0.0.1, ::1 and --host.

Point the kiosk at it with:
  portal.home: https://HOST:PORT/   portal.origins: [the SSO and static origins]
  portal.ca_file: DIR/council-ca-bundle.pem

Flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run serves until ctx is done; it returns the process exit code (2 for bad usage).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kiosk-demo-portal", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	var (
		pkiDir    = fs.String("pki", "", "directory of the council CA (required)")
		seed      = fs.String("seed", "smartpath-demo", "seed of a CA made when --pki holds none, and of the server key")
		listen    = fs.String("listen", "127.0.0.1:9443", "address of the portal origin")
		ssoListen = fs.String("sso-listen", "", "address of the SSO origin (default: the portal's port + 1)")
		stListen  = fs.String("static-listen", "", "address of the static origin (default: the portal's port + 2)")
		host      = fs.String("host", portal.DefaultHostname, "host name in the origins' URLs and redirects; the kiosk must use the same")
		handshake = fs.Bool("refuse-in-handshake", false, "refuse a missing or foreign client certificate with a TLS alert instead of a 403 page")
		ssoCert   = fs.Bool("sso-requires-cert", false, "make the SSO origin ask for the citizen's certificate too (costs a second card signature)")
		tls13     = fs.Bool("tls13-only", false, "refuse TLS 1.2")
		noH2      = fs.Bool("no-http2", false, "speak HTTP/1.1 only")
		seedData  = fs.String("data-seed", "", "seed of the generated repair histories")
		logLevel  = fs.String("log-level", "info", "debug, info, warn or error")
		logFormat = fs.String("log-format", "text", "text or json (both to standard error)")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kiosk-demo-portal: unexpected argument %q (see -h)\n", fs.Arg(0))
		return 2
	}
	if *pkiDir == "" {
		fmt.Fprintln(stderr, "kiosk-demo-portal: --pki DIR is required: the directory of the council CA (see -h)")
		return 2
	}
	h, err := logHandler(*logLevel, *logFormat, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "kiosk-demo-portal: %v\n", err)
		return 2
	}
	addrs, err := originAddrs(*listen, *ssoListen, *stListen)
	if err != nil {
		fmt.Fprintf(stderr, "kiosk-demo-portal: %v\n", err)
		return 2
	}

	ca, err := pki.LoadOrCreate(*pkiDir, *seed)
	if err != nil {
		fmt.Fprintf(stderr, "kiosk-demo-portal: council CA: %v\n", err)
		return 1
	}
	cert, err := ca.IssueServer(*host)
	if err != nil {
		fmt.Fprintf(stderr, "kiosk-demo-portal: server certificate: %v\n", err)
		return 1
	}
	opts := portal.Options{
		ServerCert: cert, ClientCAs: ca.Pool(), Logger: slog.New(h), Hostname: *host,
		RefuseInHandshake: *handshake, SSORequiresClientCert: *ssoCert, DisableHTTP2: *noH2, Seed: *seedData,
	}
	if *tls13 {
		opts.MinTLS = tls.VersionTLS13
	}
	srv, err := portal.New(opts)
	if err != nil {
		fmt.Fprintf(stderr, "kiosk-demo-portal: %v\n", err)
		return 1
	}
	if err := srv.Start(ctx, addrs); err != nil {
		fmt.Fprintf(stderr, "kiosk-demo-portal: %v\n", err)
		return 1
	}
	defer srv.Close()
	u := srv.URLs()
	fmt.Fprintf(stdout, "portal: %s/\nsso:    %s\nstatic: %s\nca:     %s\n", u.Portal, u.SSO, u.Static,
		strings.TrimSuffix(*pkiDir, "/")+"/"+pki.BundleFile)
	<-ctx.Done()
	return 0
}
