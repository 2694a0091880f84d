package portal

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"smartpath/testing/pki"
	"smartpath/testing/waitfor"
)

func TestForeignCardRefusedWithPage(t *testing.T) {
	w := newWorld(t, nil)
	b := w.browser(t, card(t, w.other, "Mallory Elsewhere", "X-666"))
	for _, path := range []string{"/", "/repairs", "/ws", "/events", "/assets/img/load-1-0.svg"} {
		status, h, body := b.get(t, w.urls.Portal+path)
		if status != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", path, status)
		}
		if got := h.Get(RefusalHeader); got != string(RefusalUntrusted) {
			t.Errorf("%s: %s = %q", path, RefusalHeader, got)
		}
		if !strings.Contains(body, "Your card was not issued by this council") {
			t.Errorf("%s: page does not explain the refusal:\n%s", path, body)
		}
		if strings.Contains(body, "Mallory") {
			t.Errorf("%s: refusal page greets the foreign card's holder", path)
		}
	}
	if !strings.Contains(w.log.String(), "refusal=client-cert-untrusted") {
		t.Errorf("refusal not logged")
	}
}

func TestMissingCardRefusedWithPage(t *testing.T) {
	w := newWorld(t, nil)
	b := w.browser(t, nil)
	status, h, body := b.get(t, w.urls.Home())
	if status != http.StatusForbidden || h.Get(RefusalHeader) != string(RefusalMissing) ||
		!strings.Contains(body, "No council card was presented") {
		t.Errorf("status %d, refusal %q", status, h.Get(RefusalHeader))
	}
}

func TestExpiredCardRefusedWithPage(t *testing.T) {
	w := newWorld(t, nil)
	c := card(t, w.pki, "Jane Citizen", "C-1001")
	cert, err := w.pki.IssueCitizenCert(pki.Citizen{Name: "Jane Citizen", Number: "C-1001", Public: c.Leaf.PublicKey,
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	expired := &tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: c.PrivateKey}
	status, h, body := w.browser(t, expired).get(t, w.urls.Home())
	if status != http.StatusForbidden || h.Get(RefusalHeader) != string(RefusalExpired) || !strings.Contains(body, "Your card has expired") {
		t.Errorf("status %d, refusal %q", status, h.Get(RefusalHeader))
	}
}

func TestRefuseInHandshake(t *testing.T) {
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			w := newWorld(t, func(o *Options) { o.RefuseInHandshake = true; o.MaxTLS = v })
			for _, tc := range []struct {
				name string
				card *tls.Certificate
				want []string
			}{
				{"foreign", card(t, w.other, "Mallory Elsewhere", "X-666"), []string{"bad certificate"}},
				{"missing", nil, []string{"certificate required", "handshake failure"}},
			} {
				_, err := w.browser(t, tc.card).Get(w.urls.Home())
				if err == nil {
					t.Fatalf("%s card: request succeeded", tc.name)
				}
				ok := false
				for _, s := range tc.want {
					ok = ok || strings.Contains(err.Error(), s)
				}
				if !ok {
					t.Errorf("%s card: error %q, want one of %q", tc.name, err, tc.want)
				}
			}
			if got := w.srv.Stats().Origins["portal"].RefusedHandshakes; got != 1 {
				t.Errorf("refused handshakes %d, want 1 (the foreign card)", got)
			}
			// A council card still gets in.
			status, _, body := w.browser(t, card(t, w.pki, "Jane Citizen", "C-1001")).get(t, w.urls.Home())
			if status != http.StatusOK || !strings.Contains(body, "Welcome, Jane Citizen") {
				t.Errorf("council card: status %d", status)
			}
		})
	}
}

// rawGet sends requests over one TLS connection it dials itself, so the test knows exactly
// how many connections and handshakes it made.
func rawGets(t *testing.T, w *world, cfg *tls.Config, paths ...string) tls.ConnectionState {
	t.Helper()
	d := tls.Dialer{Config: cfg}
	c, err := d.DialContext(context.Background(), "tcp", hostOf(w.urls.Portal))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tc := c.(*tls.Conn)
	tr := &http.Transport{DialTLSContext: func(context.Context, string, string) (net.Conn, error) {
		if tc == nil {
			return nil, errors.New("test allows one connection")
		}
		cc := tc
		tc = nil
		return cc, nil
	}}
	defer tr.CloseIdleConnections()
	state := c.(*tls.Conn).ConnectionState()
	for _, p := range paths {
		res, err := tr.RoundTrip(mustRequest(t, w.urls.Portal+p))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", p, res.StatusCode)
		}
	}
	return state
}

func mustRequest(t *testing.T, u string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestHandshakeCounting(t *testing.T) {
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			w := newWorld(t, func(o *Options) { o.MaxTLS = v; o.DisableHTTP2 = true })
			jane := card(t, w.pki, "Jane Citizen", "C-1001")
			var asked int
			cfg := w.clientTLS(jane, &asked)

			// Two requests on one keep-alive connection: one handshake.
			st := rawGets(t, w, cfg, "/assets/img/load-1-0.svg", "/assets/img/load-1-1.svg")
			if st.DidResume || st.Version != v {
				t.Fatalf("first connection: resumed %v, version %x", st.DidResume, st.Version)
			}
			if got := w.srv.Handshakes(); got != 1 {
				t.Errorf("Handshakes() = %d after two requests on one connection, want 1", got)
			}
			if got := w.srv.Requests(); got != 2 {
				t.Errorf("Requests() = %d, want 2", got)
			}
			conns := w.srv.Conns()
			if len(conns) != 1 || conns[0].Requests != 2 || conns[0].CN != "Jane Citizen" || conns[0].SerialHash == "" {
				t.Errorf("Conns() = %+v, want one connection with 2 requests from Jane", conns)
			}
			waitfor.Until(t, waitfor.Timeout, "the connection to close", func() bool { return w.srv.ConnsOpen() == 0 })

			// A second connection with the same session cache resumes: no new signature.
			st = rawGets(t, w, cfg, "/assets/img/load-1-2.svg")
			if !st.DidResume {
				t.Fatalf("second connection did not resume")
			}
			if got, res := w.srv.Handshakes(), w.srv.Resumptions(); got != 1 || res != 1 {
				t.Errorf("after resuming: Handshakes() = %d (want 1), Resumptions() = %d (want 1)", got, res)
			}
			if asked != 1 {
				t.Errorf("client certificate asked for %d times, want 1", asked)
			}
			// The resumed connection still knows its certificate.
			if !strings.Contains(w.log.String(), `msg=request origin=portal conn=2 connRequest=1 resumed=true cn="Jane Citizen"`) {
				t.Errorf("request on the resumed connection not logged with its certificate:\n%s", w.log)
			}

			// A fresh session cache: a second full handshake.
			rawGets(t, w, w.clientTLS(jane, nil), "/assets/img/load-1-3.svg")
			if got := w.srv.Handshakes(); got != 2 {
				t.Errorf("Handshakes() = %d after a new session cache, want 2", got)
			}
		})
	}
}

func TestHTTP2RequestsShareOneConnection(t *testing.T) {
	w := newWorld(t, nil)
	cfg := w.clientTLS(card(t, w.pki, "Jane Citizen", "C-1001"), nil)
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	for i := range 3 {
		res, err := c.Get(w.urls.Portal + "/assets/img/load-2-" + string(rune('0'+i)) + ".svg")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.ProtoMajor != 2 {
			t.Fatalf("proto %s, want HTTP/2", res.Proto)
		}
	}
	conns := w.srv.Conns()
	if w.srv.Handshakes() != 1 || len(conns) != 1 || conns[0].Requests != 3 {
		t.Errorf("handshakes %d, conns %+v; want 1 connection with 3 requests", w.srv.Handshakes(), conns)
	}
}

func TestStatsEndpoint(t *testing.T) {
	w := newWorld(t, nil)
	b := w.browser(t, card(t, w.pki, "Jane Citizen", "C-1001"))
	b.get(t, w.urls.Home())
	status, h, body := b.get(t, w.urls.Portal+"/_test/stats")
	if status != http.StatusOK || h.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, type %q", status, h.Get("Content-Type"))
	}
	var st Stats
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	// portal: /, callback, /, stats; sso: /login.
	if st.Handshakes != 1 || st.Requests != 4 || st.Origins["sso"].Requests != 1 || st.Origins["sso"].FullHandshakes != 1 {
		t.Errorf("stats %+v", st)
	}
	if st.ConnsOpen != 2 {
		t.Errorf("open connections %d, want 2 (portal and SSO, kept alive)", st.ConnsOpen)
	}
	b.tr.CloseIdleConnections()
	waitfor.Until(t, waitfor.Timeout, "connections to close", func() bool { return w.srv.ConnsOpen() == 0 })
}

func TestSSORequiresClientCert(t *testing.T) {
	w := newWorld(t, func(o *Options) { o.SSORequiresClientCert = true })
	b := w.browser(t, card(t, w.pki, "Jane Citizen", "C-1001"))
	if status, _, body := b.get(t, w.urls.Home()); status != http.StatusOK || !strings.Contains(body, "Welcome, Jane Citizen") {
		t.Fatalf("status %d", status)
	}
	if got := w.srv.Handshakes(); got != 2 {
		t.Errorf("Handshakes() = %d, want 2 (portal and SSO each ask for the card)", got)
	}
	status, h, _ := w.browser(t, card(t, w.other, "Mallory", "X-1")).get(t, w.urls.SSO+"/login?service=x")
	if status != http.StatusBadRequest && h.Get(RefusalHeader) == "" {
		t.Errorf("foreign card at the SSO: status %d", status)
	}
}

func TestOptionsValidated(t *testing.T) {
	p, _ := testPKI(t)
	cert, err := p.IssueServer()
	if err != nil {
		t.Fatal(err)
	}
	for name, o := range map[string]Options{
		"no cert":  {ClientCAs: p.Pool()},
		"no CA":    {ServerCert: cert},
		"TLS 1.1":  {ServerCert: cert, ClientCAs: p.Pool(), MinTLS: tls.VersionTLS11},
		"inverted": {ServerCert: cert, ClientCAs: p.Pool(), MinTLS: tls.VersionTLS13, MaxTLS: tls.VersionTLS12},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: New accepted the options", name)
		}
	}
}
