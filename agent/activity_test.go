package agent

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestActivityThrottle(t *testing.T) {
	var sent atomic.Int32
	var now atomic.Int64
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	now.Store(start.UnixNano())
	a := newActivityThrottle(time.Second, func() { sent.Add(1) })
	a.now = func() time.Time { return time.Unix(0, now.Load()) }
	at := func(d time.Duration) { now.Store(start.Add(d).UnixNano()) }
	nav := navigation()

	// A page load: many requests at once, from many goroutines.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				a.request("https://portal.example", nav)
			}
		})
	}
	wg.Wait()
	if got := sent.Load(); got != 1 {
		t.Fatalf("400 concurrent requests sent %d activities, want 1", got)
	}
	for _, step := range []struct {
		at   time.Duration
		want int32
	}{
		{999 * time.Millisecond, 1},
		{time.Second, 2},
		{1500 * time.Millisecond, 2},
		{2 * time.Second, 3},
		{10 * time.Second, 4},
		{10*time.Second + time.Millisecond, 4},
	} {
		at(step.at)
		a.request("https://portal.example", nav)
		if got := sent.Load(); got != step.want {
			t.Errorf("after a request at +%v: %d activities sent, want %d", step.at, got, step.want)
		}
	}
}

func navigation() *http.Request {
	r, _ := http.NewRequest("GET", "http://127.0.0.1:8471/repairs", nil)
	r.Header.Set("Sec-Fetch-Mode", "navigate")
	r.Header.Set("Sec-Fetch-Dest", "iframe")
	return r
}

// Only what a person does in the portal's frame counts; a page that polls or streams must not
// keep an abandoned session open.
func TestCitizenAction(t *testing.T) {
	for _, c := range []struct {
		name    string
		headers map[string]string
		want    bool
	}{
		{"link followed in the frame", map[string]string{"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe"}, true},
		{"form submitted", map[string]string{"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe", "Sec-Fetch-User": "?1"}, true},
		{"fetch polling", map[string]string{"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}, false},
		{"same-origin XHR", map[string]string{"Sec-Fetch-Mode": "same-origin", "Accept": "text/html"}, false},
		{"image", map[string]string{"Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}, false},
		{"websocket", map[string]string{"Sec-Fetch-Mode": "websocket"}, false},
		{"no fetch metadata, document", map[string]string{"Accept": "text/html,application/xhtml+xml"}, true},
		{"no fetch metadata, event stream", map[string]string{"Accept": "text/event-stream"}, false},
		{"no fetch metadata, no accept", nil, false},
		{"speculation-rules prefetch", map[string]string{"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Sec-Purpose": "prefetch"}, false},
		{"link rel=prefetch", map[string]string{"Sec-Fetch-Mode": "navigate", "Purpose": "prefetch"}, false},
	} {
		r, _ := http.NewRequest("GET", "http://127.0.0.1:8471/", nil)
		for k, v := range c.headers {
			r.Header.Set(k, v)
		}
		if got := citizenAction(r); got != c.want {
			t.Errorf("%s: citizenAction = %v, want %v", c.name, got, c.want)
		}
	}
}
