package portal

import (
	"io"
	"net/http"
	"testing"
	"time"

	"smartpath/testing/benchstat"
)

// BenchmarkDirectPing is the baseline a kiosk proxy is compared with: a Go client with a
// council card on a kept-alive mutual-TLS connection, one /_test/ping per iteration.
func BenchmarkDirectPing(b *testing.B) {
	for _, h2 := range []bool{false, true} {
		name := "http1"
		if h2 {
			name = "http2"
		}
		b.Run(name, func(b *testing.B) {
			w := newWorld(b, nil)
			tr := &http.Transport{TLSClientConfig: w.clientTLS(card(b, w.pki, "Jane Citizen", "C-1001"), nil), ForceAttemptHTTP2: h2}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr}
			u := w.urls.Portal + "/_test/ping"
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				res, err := c.Get(u)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			b.ReportMetric(float64(benchstat.Percentile(lat, 0.5).Microseconds()), "p50-µs")
			b.ReportMetric(float64(benchstat.Percentile(lat, 0.99).Microseconds()), "p99-µs")
			b.ReportMetric(float64(w.srv.Handshakes()), "handshakes")
		})
	}
}

// BenchmarkHomePage renders the signed-in home page (session lookup, repairs, template).
func BenchmarkHomePage(b *testing.B) {
	w := newWorld(b, nil)
	br := w.browser(b, card(b, w.pki, "Jane Citizen", "C-1001"))
	br.get(b, w.urls.Home())
	for b.Loop() {
		res, err := br.Get(w.urls.Home())
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}
