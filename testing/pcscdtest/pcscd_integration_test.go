//go:build integration

package pcscdtest

import (
	"net"
	"testing"
)

func TestStartKillStart(t *testing.T) {
	d := Start(t)
	first := d.PID()
	if first == 0 {
		t.Fatal("no pcscd pid after Start")
	}
	d.Kill(t)
	if _, err := net.Dial("unix", socketPath); err == nil {
		t.Fatal("pcscd socket still answers after Kill")
	}
	d.Start(t)
	if d.PID() == first || d.PID() == 0 {
		t.Fatalf("pcscd pid after restart = %d (was %d)", d.PID(), first)
	}
}
