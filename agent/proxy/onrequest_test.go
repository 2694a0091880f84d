package proxy

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
)

// OnRequest is called once per request the proxy admits and forwards: not for the probe
// (which is the agent's, not the citizen's) and not for refused requests.
func TestOnRequestPerAdmittedRequest(t *testing.T) {
	c := newCouncil(t, serverOpts{h2: true})
	cd := c.ca.card(t, "p256", "Jane Citizen")
	cfg := c.config()
	var calls, answered atomic.Int32
	var origins sync.Map
	cfg.OnRequest = func(o string, r *http.Request) { calls.Add(1); origins.Store(o+r.URL.Path, true) }
	cfg.OnResponse = func(o string, r *http.Request, status int) {
		if status == http.StatusOK {
			answered.Add(1)
		}
	}
	s := startSession(t, cfg, cd.cert)
	if err := s.Probe(context.Background()); err != nil {
		t.Fatalf("Probe: %v", err)
	}
	if got := calls.Load(); got != 0 {
		t.Errorf("OnRequest called %d times by the probe, want 0", got)
	}
	cl := localClient(t)
	for range 3 {
		if resp, _ := get(t, cl, s.HomeURL()); resp.StatusCode != http.StatusOK {
			t.Fatalf("home: %s", resp.Status)
		}
	}
	if got := calls.Load(); got != 3 {
		t.Errorf("OnRequest called %d times for 3 requests, want 3", got)
	}
	if got := answered.Load(); got != 3 {
		t.Errorf("OnResponse saw %d answers 200 for 3 requests, want 3", got)
	}
	if _, ok := origins.Load("https://" + cfg.Home.Host + cfg.Home.Path); !ok {
		var seen []any
		origins.Range(func(k, _ any) bool { seen = append(seen, k); return true })
		t.Errorf("OnRequest saw %v, want the portal URL https://%s%s", seen, cfg.Home.Host, cfg.Home.Path)
	}

	req, err := http.NewRequest(http.MethodGet, s.HomeURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "portal.example"
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("request with a wrong Host: %s, want 403", resp.Status)
	}
	if got := calls.Load(); got != 3 || answered.Load() != 3 {
		t.Errorf("OnRequest or OnResponse called for a refused request (%d and %d calls, want 3)", got, answered.Load())
	}
}
