package proxy

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"smartpath/testing/benchstat"
)

// directClient is a mutual-TLS Go client straight to the portal: the baseline of the proxy
// benchmarks.
func directClient(b *testing.B, c *council, cd card) *http.Client {
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{
			RootCAs:            c.ca.pool,
			Certificates:       []tls.Certificate{cd.cert},
			ClientSessionCache: tls.NewLRUClientSessionCache(8),
		},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, loopbackAddr(addr))
		},
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 64,
	}
	b.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func fetch(cl *http.Client, u string) error {
	resp, err := cl.Get(u)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: %s", u, resp.Status)
	}
	return err
}

// BenchmarkProxyLatency alternates one request straight to the portal and one through the
// proxy, and reports the latency the proxy adds at p50 (target < 0.3 ms) and p99.
func BenchmarkProxyLatency(b *testing.B) {
	for _, h2 := range []bool{true, false} {
		name := "portal-h1"
		if h2 {
			name = "portal-h2"
		}
		b.Run(name, func(b *testing.B) {
			c := newCouncil(b, serverOpts{h2: h2})
			cd := c.ca.card(b, "p256", "Bench Citizen")
			s := startSession(b, c.config(), cd.cert)
			local, direct := webview(b, s), directClient(b, c, cd)
			viaProxy := s.LocalURL(c.portal.url) + "/res/bench"
			straight := c.portal.url.String() + "/res/bench"
			for _, u := range []string{viaProxy, straight} { // warm up: handshakes, pools
				for range 50 {
					if err := fetch(map[bool]*http.Client{true: local, false: direct}[u == viaProxy], u); err != nil {
						b.Fatal(err)
					}
				}
			}
			dp := make([]time.Duration, 0, b.N)
			dd := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				if err := fetch(direct, straight); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := fetch(local, viaProxy); err != nil {
					b.Fatal(err)
				}
				dd = append(dd, t1.Sub(t0))
				dp = append(dp, time.Since(t1))
			}
			b.StopTimer()
			b.ReportMetric(benchstat.PercentileMs(dd, 0.5), "direct-p50-ms")
			b.ReportMetric(benchstat.PercentileMs(dp, 0.5), "proxy-p50-ms")
			b.ReportMetric(benchstat.PercentileMs(dp, 0.99), "proxy-p99-ms")
			b.ReportMetric(benchstat.Ms(benchstat.Percentile(dp, 0.5)-benchstat.Percentile(dd, 0.5)), "added-p50-ms")
			b.ReportMetric(benchstat.Ms(benchstat.Percentile(dp, 0.99)-benchstat.Percentile(dd, 0.99)), "added-p99-ms")
			b.ReportMetric(float64(s.Signatures()), "signatures")
		})
	}
}

// BenchmarkProxyThroughput runs b.N requests with 8 concurrent clients straight to the portal
// and through the proxy, and reports the ratio of requests per second (target ≥ 0.8). With a
// portal that answers at once everything is CPU-bound on one machine and the proxy, which does
// the work of a client and a server again, costs about half; the portal-2ms cases, where the
// portal takes 2 ms per request like a real one across a network, show whether the proxy
// limits concurrency.
func BenchmarkProxyThroughput(b *testing.B) {
	for _, tc := range []struct {
		size int
		h2   bool
		wait time.Duration // the portal's time per request
	}{{0, true, 0}, {0, false, 0}, {64 << 10, true, 0}, {64 << 10, false, 0}, {0, true, 2 * time.Millisecond}, {0, false, 2 * time.Millisecond}} {
		size := tc.size
		b.Run(fmt.Sprintf("body-%dKiB-h2-%v-portal-%v", size>>10, tc.h2, tc.wait), func(b *testing.B) {
			c := newCouncil(b, serverOpts{h2: tc.h2})
			cd := c.ca.card(b, "p256", "Bench Citizen")
			s := startSession(b, c.config(), cd.cert)
			local, direct := webview(b, s), directClient(b, c, cd)
			path := "/res/bench"
			if size > 0 {
				path = fmt.Sprintf("/big/%d", size)
			}
			if tc.wait > 0 {
				path = fmt.Sprintf("/wait/%d", tc.wait.Microseconds())
			}
			run := func(cl *http.Client, u string, n int) time.Duration {
				const workers = 8
				var wg sync.WaitGroup
				jobs := make(chan struct{}, n)
				for range n {
					jobs <- struct{}{}
				}
				close(jobs)
				start := time.Now()
				for range workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range jobs {
							if err := fetch(cl, u); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				return time.Since(start)
			}
			run(direct, c.portal.url.String()+path, 100)
			run(local, s.LocalURL(c.portal.url)+path, 100)
			b.ResetTimer()
			// Alternate in rounds so that load from elsewhere on the machine hits both alike.
			var td, tp time.Duration
			for i := 0; i < b.N; i += 500 {
				n := min(500, b.N-i)
				td += run(direct, c.portal.url.String()+path, n)
				tp += run(local, s.LocalURL(c.portal.url)+path, n)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/td.Seconds(), "direct-req/s")
			b.ReportMetric(float64(b.N)/tp.Seconds(), "proxy-req/s")
			b.ReportMetric(td.Seconds()/tp.Seconds(), "throughput-ratio")
		})
	}
}

// BenchmarkClose measures session end with live traffic: keep-alive connections, a websocket
// and a streaming response (target p99 well within 100 ms).
func BenchmarkClose(b *testing.B) {
	c := newCouncil(b, serverOpts{h2: true})
	cd := c.ca.card(b, "p256", "Bench Citizen")
	cfg := c.config()
	var ds []time.Duration
	for range b.N {
		b.StopTimer()
		s, err := Start(context.Background(), cfg, cd.cert)
		if err != nil {
			b.Fatal(err)
		}
		local := localClient(b)
		portal := s.LocalURL(c.portal.url)
		if err := fetch(local, s.HomeURL()); err != nil {
			b.Fatal(err)
		}
		ws, _, err := (&websocket.Dialer{Jar: local.Jar}).Dial("ws"+strings.TrimPrefix(portal, "http")+"/ws", http.Header{"Origin": {portal}})
		if err != nil {
			b.Fatal(err)
		}
		<-c.wsServerConn
		stream, err := local.Get(portal + "/stream")
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		s.Close()
		ds = append(ds, time.Since(t0))
		b.StopTimer()
		ws.Close()
		stream.Body.Close()
		local.CloseIdleConnections()
	}
	b.ReportMetric(benchstat.PercentileMs(ds, 0.5), "close-p50-ms")
	b.ReportMetric(benchstat.PercentileMs(ds, 0.99), "close-p99-ms")
}

// BenchmarkSignaturesPerSession: a session loading the home page and 5 pages with 20
// subresources each, in parallel, must cost exactly one card signature.
func BenchmarkSignaturesPerSession(b *testing.B) {
	c := newCouncil(b, serverOpts{h2: true})
	cd := c.ca.card(b, "rsa", "Bench Citizen")
	cfg := c.config()
	worst := 0
	for range b.N {
		s, err := Start(context.Background(), cfg, cd.cert)
		if err != nil {
			b.Fatal(err)
		}
		local := webview(b, s)
		base := s.LocalURL(c.portal.url)
		var wg sync.WaitGroup
		for p := range 5 {
			for r := range 21 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					u := fmt.Sprintf("%s/res/%d-%d", base, p, r)
					if r == 0 {
						u = fmt.Sprintf("%s/page/%d", base, p)
					}
					if err := fetch(local, u); err != nil {
						b.Error(err)
					}
				}()
			}
		}
		wg.Add(1)
		go func() { defer wg.Done(); fetch(local, s.HomeURL()) }()
		wg.Wait()
		worst = max(worst, s.Signatures())
		s.Close()
		local.CloseIdleConnections()
	}
	b.ReportMetric(float64(worst), "signatures/session")
}
