package waitfor

import (
	"testing"
	"time"
)

func TestReturns(t *testing.T) {
	n := 0
	Returns(t, Timeout, "the increment", func() { n++ })
	if n != 1 {
		t.Errorf("f ran %d times, want once", n)
	}
}

func TestReturnsFailsWhenBlocked(t *testing.T) {
	tb := &fakeTB{TB: t}
	block := make(chan struct{})
	defer close(block)
	Returns(tb, 20*time.Millisecond, "the blocked call", func() { <-block })
	if want := "the blocked call did not return within 20ms"; tb.fatal != want {
		t.Errorf("Fatalf(%q), want %q", tb.fatal, want)
	}
}
