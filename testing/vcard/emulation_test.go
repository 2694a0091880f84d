package vcard

import (
	"context"
	"errors"
	"testing"
	"time"

	"smartpath/testing/pki"
)

func TestEmulationFaults(t *testing.T) {
	c, _ := New(Options{})
	ctx := context.Background()
	selectAPDU := mustHex(t, "00 A4 04 00 05 A0 00 00 03 08 00")

	c.SetEmulation(Emulation{DropAtAPDU: 2})
	if _, err := c.Transmit(ctx, selectAPDU); err != nil {
		t.Fatalf("APDU 1: %v", err)
	}
	for i := 0; i < 2; i++ {
		if _, err := c.Transmit(ctx, selectAPDU); !errors.Is(err, ErrRemoved) {
			t.Fatalf("after the drop: err = %v, want ErrRemoved", err)
		}
	}
	if c.Emulation().DropAtAPDU != 0 {
		t.Error("DropAtAPDU did not fire once")
	}
	c.Reset()
	if _, err := c.Transmit(ctx, selectAPDU); err != nil {
		t.Fatalf("after Reset: %v", err)
	}

	c.SetEmulation(Emulation{Mute: true})
	mctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := c.Transmit(mctx, selectAPDU); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("mute: err = %v", err)
	}

	c.SetEmulation(Emulation{Garbage: true})
	resp, err := c.Transmit(ctx, selectAPDU)
	if err != nil || len(resp) >= 2 {
		t.Fatalf("garbage: %X %v, want a reply too short for a status word", resp, err)
	}

	c.SetEmulation(Emulation{APDULatency: 30 * time.Millisecond})
	start := time.Now()
	if _, err := c.Transmit(ctx, selectAPDU); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("APDU took %v, want at least the 30ms latency", d)
	}
	// Latency honours the context.
	c.SetEmulation(Emulation{SlowAnswer: time.Hour})
	sctx, cancel2 := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel2()
	if _, err := c.Transmit(sctx, selectAPDU); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow answer: err = %v", err)
	}
	if c.APDUCount() != 7 {
		t.Errorf("APDUCount = %d, want 7", c.APDUCount())
	}
}

func TestKeyLatency(t *testing.T) {
	c, _ := citizenCard(t, AlgP256)
	wantSW(t, verifyPIN(t, c, "123456"), swOK)
	c.SetEmulation(Emulation{ECLatency: 40 * time.Millisecond})
	start := time.Now()
	_, sw := sendAll(t, c, 0x00, insGeneralAuth, byte(AlgP256), 0x9A, gaSign(make([]byte, 32)))
	wantSW(t, sw, swOK)
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("signature took %v, want at least the 40ms EC latency", d)
	}
}

func FuzzTransmit(f *testing.F) {
	for _, s := range []string{
		"00A4040009A00000030800001000",
		"00CB3FFF055C035FC10500",
		"00CB3FFF035C017E00",
		"0020008008313233343536FFFF",
		"00200080",
		"002000FF",
		"00870399047C028000",
		"00871199227C20820081",
		"10DB3FFF025C03",
		"00C0000000",
		"0047009A05AC0380011100",
		"00FD000000",
		"00F8000000",
		"00F7008000",
		"00CB3FFF0000055C035FC1050000",
		"002C0080103132333435363738313131313131FFFF",
	} {
		f.Add(mustHex(f, s))
	}
	p, err := citizenCardForFuzz()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, apdu []byte) {
		resp, err := p.Transmit(context.Background(), apdu)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp) < 2 {
			t.Fatalf("response %X has no status word", resp)
		}
		if len(resp) > 258 && !(len(apdu) > 5 && apdu[4] == 0) {
			t.Fatalf("short APDU answered with %d bytes", len(resp))
		}
	})
}

// citizenCardForFuzz is a P-256 citizen card.
func citizenCardForFuzz() (*Card, error) {
	p, err := pki.New("vcard-fuzz")
	if err != nil {
		return nil, err
	}
	return NewCitizenCard(p, Citizen{Name: "Fuzz Citizen", Number: "C-0", Alg: AlgP256})
}
