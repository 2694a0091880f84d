//go:build integration

package agent_test

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"smartpath/testing/kiosktest"
	"smartpath/testing/vcard"
)

// The portal proxy of a real session is not an open proxy (docs/security.md, invariant 3): on every
// local origin of the session, absolute-URI requests, CONNECT and a foreign Host are refused
// without reaching the portal, while an ordinary request is served; and every listener the
// agent has open binds loopback only.
func TestProxyRefusals(t *testing.T) {
	env := kiosktest.Start(t, kiosktest.Options{})
	ui := env.DialUI(t)
	ui.WaitPhase("idle", wait)
	remove := env.Insert(t, env.NewCard(t, "Jane Citizen", "C-1001", vcard.AlgP256))
	st := signIn(t, ui, vcard.DefaultPIN)
	home, err := url.Parse(st.Session.PortalURL)
	if err != nil {
		t.Fatal(err)
	}
	if home.Scheme != "http" || home.Hostname() != "127.0.0.1" {
		t.Fatalf("the session's portal URL %s is not on http://127.0.0.1", home)
	}

	// The session's local origins: home, and those the proxied pages link to (SSO, static).
	c, base := openPortal(t, st)
	body := get(t, c, base+"load/1")
	hosts := []string{home.Host}
	for _, m := range regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/`).FindAllStringSubmatch(body, -1) {
		if !slices.Contains(hosts, m[1]) {
			hosts = append(hosts, m[1])
		}
	}
	if len(hosts) < 2 {
		t.Fatalf("the proxied page links to %v only; want the static origin too", hosts)
	}
	upstream, _ := url.Parse(env.Config.Portal.Home)

	for _, host := range hosts {
		refusals := []struct {
			name, request string
			status        int
		}{
			{"absolute URI", "GET http://example.invalid/ HTTP/1.1\r\nHost: example.invalid\r\n", 400},
			{"absolute URI to the portal", "GET " + env.Config.Portal.Home + " HTTP/1.1\r\nHost: " + upstream.Host + "\r\n", 400},
			{"absolute URI with the local Host", "GET http://example.invalid/ HTTP/1.1\r\nHost: " + host + "\r\n", 400},
			{"CONNECT", "CONNECT example.invalid:443 HTTP/1.1\r\nHost: example.invalid:443\r\n", 405},
			{"CONNECT to the portal", "CONNECT " + upstream.Host + " HTTP/1.1\r\nHost: " + upstream.Host + "\r\n", 405},
			{"foreign Host", "GET / HTTP/1.1\r\nHost: example.invalid\r\n", 403},
			{"the portal's own Host", "GET / HTTP/1.1\r\nHost: " + upstream.Host + "\r\n", 403},
			{"Host on another local port", "GET / HTTP/1.1\r\nHost: 127.0.0.1:1\r\n", 403},
			{"Host with a userinfo trick", "GET / HTTP/1.1\r\nHost: " + host + "@example.invalid\r\n", 400},
			{"two Host headers", "GET / HTTP/1.1\r\nHost: " + host + "\r\nHost: example.invalid\r\n", 400},
			{"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: " + host + "\r\n", 400},
			{"authority form", "GET example.invalid:443 HTTP/1.1\r\nHost: " + host + "\r\n", 400},
		}
		for _, r := range refusals {
			before := portalRequests(env)
			status, text := rawRequest(t, host, r.request+cookieHeader(c, host))
			if status != r.status {
				t.Errorf("%s: %s answered %d, want %d\n%s", host, r.name, status, r.status, text)
			}
			if after := portalRequests(env); after != before {
				t.Errorf("%s: %s reached the portal (%d requests before, %d after)", host, r.name, before, after)
			}
		}
		// The same connection path with the right Host is served: the refusals above are
		// the proxy's, not a broken listener.
		before := portalRequests(env)
		if status, text := rawRequest(t, host, "GET / HTTP/1.1\r\nHost: "+host+"\r\n"+cookieHeader(c, host)); status == 400 || status == 403 || status == 405 {
			t.Errorf("%s: an ordinary request answered %d\n%s", host, status, text)
		}
		if portalRequests(env) == before {
			t.Errorf("%s: an ordinary request did not reach the portal", host)
		}
	}

	// Every listening socket of this process binds loopback: the agent's UI and admin
	// listeners, the session's proxy ports (and the test's own portal).
	listeners := ownListeners(t)
	for _, l := range listeners {
		if !l.Addr().IsLoopback() {
			t.Errorf("a listener binds %s, not loopback", l)
		}
	}
	for _, want := range append([]string{strings.TrimPrefix(env.Agent.UIOrigin(), "http://"), env.Agent.AdminAddr()}, hosts...) {
		if !slices.ContainsFunc(listeners, func(l netip.AddrPort) bool { return l.String() == want }) {
			t.Errorf("listener %s not found among this process's listening sockets %v", want, listeners)
		}
	}

	ui.Send("end_session", nil)
	ui.WaitPhase("goodbye", wait)
	remove()
	ui.WaitPhase("idle", wait)
}

// portalRequests is how many requests the portal has seen on all its origins.
func portalRequests(env *kiosktest.Env) int {
	n := 0
	for _, o := range env.Portal.Stats().Origins {
		n += o.Requests
	}
	return n
}

// rawRequest writes request (without the final empty line) on a new TCP connection to addr
// and returns the response's status code and text.
func rawRequest(t *testing.T, addr, request string) (int, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(wait))
	if _, err := io.WriteString(conn, request+"Connection: close\r\n\r\n"); err != nil {
		t.Fatalf("write to %s: %v", addr, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read the answer of %s to %q: %v", addr, request, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, resp.Status + "\n" + string(b)
}

// ownListeners lists the local addresses of the listening TCP sockets this process holds
// open, from /proc/net/tcp{,6} and the process's file descriptors.
func ownListeners(t *testing.T) []netip.AddrPort {
	t.Helper()
	inodes := map[string]bool{}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if ino, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(ino, "]")] = true
		}
	}
	var out []netip.AddrPort
	for _, table := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		data, err := os.ReadFile(table)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != "0A" || !inodes[f[9]] { // 0A: LISTEN
				continue
			}
			ap, err := parseProcAddr(f[1])
			if err != nil {
				t.Fatalf("%s: %v", table, err)
			}
			out = append(out, ap)
		}
	}
	if len(out) == 0 {
		t.Fatal("found no listening socket of this process in /proc/self/net")
	}
	return out
}

// parseProcAddr parses a local_address of /proc/net/tcp: the address as 32-bit words in host
// (little-endian) order, then the port, all in hex.
func parseProcAddr(s string) (netip.AddrPort, error) {
	hexIP, hexPort, ok := strings.Cut(s, ":")
	raw, err := hex.DecodeString(hexIP)
	if !ok || err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad port in %q", s)
	}
	for i := 0; i < len(raw); i += 4 {
		binary.BigEndian.PutUint32(raw[i:], binary.LittleEndian.Uint32(raw[i:]))
	}
	addr, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(addr.Unmap(), uint16(port)), nil
}
