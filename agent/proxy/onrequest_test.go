package proxy

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
)

// OnRequest is called once per request the proxy admits and forwards: not for the probe
// (which is the agent's, not the citizen's) and not for refused requests.
func TestOnRequestPerAdmittedRequest(t *testing.T) {
	c := newCouncil(t, serverOpts{h2: true})
	cd := c.ca.card(t, "p256", "Jane Citizen")
	cfg := c.config()
	var calls atomic.Int32
	cfg.OnRequest = func(*http.Request) { calls.Add(1) }
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
	if got := calls.Load(); got != 3 {
		t.Errorf("OnRequest called for a refused request (%d calls, want 3)", got)
	}
}
