//go:build integration

package piv

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"smartpath/pcsc"
	"smartpath/testing/pcscdtest"
	"smartpath/testing/vcard"
	"smartpath/testing/waitfor"
)

// These tests run the client through the real pcscd, with the virtual card behind the vpcd
// reader driver: what a kiosk does with a real card and reader.

// stack is a private pcscd with a running Monitor and a virtual card that can be inserted
// into and pulled from reader 0.
type stack struct {
	t      testing.TB
	d      *pcscdtest.Daemon
	reader string
	events chan pcsc.Event
}

func startStack(t testing.TB) *stack {
	t.Helper()
	// Registered first, so it runs last: after the monitor, the inserted cards, the
	// connections and pcscd itself are gone, no goroutine of theirs may be left.
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	d := pcscdtest.Start(t)
	s := &stack{t: t, d: d, reader: d.Readers()[0].Name, events: make(chan pcsc.Event, 64)}
	ctx, cancel := context.WithCancel(context.Background())
	m := pcsc.NewMonitor(pcsc.MonitorOptions{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := m.Run(ctx, s.events); err != nil {
			t.Errorf("Monitor.Run: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	s.wait(pcsc.ReaderAdded)
	return s
}

// wait returns the next event of kind for the stack's reader, failing after 10 s.
func (s *stack) wait(kind pcsc.EventKind) pcsc.Event {
	s.t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		select {
		case ev := <-s.events:
			if ev.Kind == kind && ev.Reader == s.reader {
				return ev
			}
		case <-deadline.C:
			s.t.Fatalf("no %v event for %q within 10 s", kind, s.reader)
		}
	}
}

// inserted is a virtual card in the reader; pull removes it.
type inserted struct {
	cancel context.CancelFunc
	done   chan error
}

// insert puts card into reader 0 and waits until the Monitor reports it.
func (s *stack) insert(card *vcard.Card) *inserted {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	in := &inserted{cancel: cancel, done: make(chan error, 1)}
	go func() { in.done <- vcard.Insert(ctx, card, s.d.VPCDAddr(0)) }()
	s.t.Cleanup(func() { cancel(); <-in.done })
	s.wait(pcsc.CardInserted)
	return in
}

// pull removes the card and waits until the Monitor reports it gone.
func (s *stack) pull(in *inserted) {
	s.t.Helper()
	in.cancel()
	s.wait(pcsc.CardRemoved)
}

// connect opens a PC/SC connection to the card in reader 0, closed (with a reset) at the
// end of the test.
func (s *stack) connect(ctx context.Context) *pcsc.Conn {
	s.t.Helper()
	conn, err := pcsc.Connect(ctx, s.reader, pcsc.ConnectOptions{})
	if err != nil {
		s.t.Fatalf("Connect: %v", err)
	}
	s.t.Cleanup(func() { _ = conn.CloseReset() })
	return conn
}

func TestPCSCSession(t *testing.T) {
	for _, alg := range []Algorithm{AlgRSA2048, AlgECCP256, AlgECCP384} {
		t.Run(alg.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			ic := issueVCard(t, alg, vcard.Options{})
			s := startStack(t)

			in := s.insert(ic.card)
			conn := s.connect(ctx)
			c, err := Open(ctx, conn, Options{})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			id, err := c.ReadIdentity(ctx)
			if err != nil {
				t.Fatalf("ReadIdentity: %v", err)
			}
			if !id.Certificate.Equal(ic.cert) || id.CHUID == nil || id.PIN.Retries != 3 {
				t.Fatalf("identity = %+v", id)
			}

			err = c.VerifyPIN(ctx, []byte("111111"))
			var wp *pcsc.WrongPINError
			if !errors.As(err, &wp) || wp.Retries != 2 {
				t.Fatalf("wrong PIN: %v, want 2 tries left", err)
			}
			if st, err := c.PINRetries(ctx); err != nil || st.Retries != 2 {
				t.Fatalf("tries left after a wrong PIN = %+v, %v", st, err)
			}
			if err := c.VerifyPIN(ctx, []byte(vcard.DefaultPIN)); err != nil {
				t.Fatalf("right PIN: %v", err)
			}
			signer, err := c.Signer(Slot9A, id.Certificate.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			digest := sha256.Sum256([]byte("TLS client CertificateVerify"))
			sig, err := signer.SignContext(ctx, rand.Reader, digest[:], crypto.SHA256)
			if err != nil {
				t.Fatalf("sign: %v", err)
			}
			verifySignature(t, id.Certificate, digest[:], sig, crypto.SHA256)

			// Removed: the connection reports it; the monitor sees it.
			s.pull(in)
			if _, err := c.PINRetries(ctx); !errors.Is(err, pcsc.ErrCardRemoved) && !errors.Is(err, pcsc.ErrCardReset) {
				t.Fatalf("PIN status of a removed card: %v, want ErrCardRemoved", err)
			}

			// Inserted again: detected, and the PIN is no longer verified.
			s.insert(ic.card)
			conn2 := s.connect(ctx)
			c2, err := Open(ctx, conn2, Options{})
			if err != nil {
				t.Fatalf("Open after re-insertion: %v", err)
			}
			st, err := c2.PINRetries(ctx)
			if err != nil || st.Verified || st.Retries != 3 {
				t.Fatalf("PIN after re-insertion = %+v, %v; want 3 tries, not verified", st, err)
			}
		})
	}
}

func TestPCSCBlockAndUnblock(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ic := issueVCard(t, AlgECCP256, vcard.Options{})
	s := startStack(t)
	s.insert(ic.card)
	c, err := Open(ctx, s.connect(ctx), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for want := 2; want >= 0; want-- {
		err := c.VerifyPIN(ctx, []byte("000000"))
		var wp *pcsc.WrongPINError
		if !errors.As(err, &wp) || wp.Retries != want {
			t.Fatalf("wrong PIN: %v, want %d tries left", err, want)
		}
	}
	if st, err := c.PINRetries(ctx); err != nil || !st.Blocked {
		t.Fatalf("after three wrong PINs: %+v, %v; want blocked", st, err)
	}
	if err := c.VerifyPIN(ctx, []byte(vcard.DefaultPIN)); !errors.Is(err, pcsc.ErrAuthBlocked) {
		t.Fatalf("right PIN on a blocked card: %v, want ErrAuthBlocked", err)
	}
	if err := c.UnblockPIN(ctx, []byte(vcard.DefaultPUK), []byte("24681012")); err != nil {
		t.Fatalf("UnblockPIN: %v", err)
	}
	if err := c.VerifyPIN(ctx, []byte("24681012")); err != nil {
		t.Fatalf("new PIN after unblock: %v", err)
	}
	if st, err := c.PINRetries(ctx); err != nil || !st.Verified {
		t.Fatalf("after unblock and VERIFY: %+v, %v", st, err)
	}
}

// TestPCSCCardPulledMidSign pulls the card while GENERAL AUTHENTICATE is in progress: the
// signature fails with a typed error (ErrCardRemoved) and nothing hangs (waitfor.Returns is
// the guard; how long the failure takes is not asserted).
func TestPCSCCardPulledMidSign(t *testing.T) {
	cases := []struct {
		name string
		pull func(s *stack, card *vcard.Card, in *inserted)
	}{
		{"dropped at the second chained block", func(s *stack, card *vcard.Card, in *inserted) {
			card.SetEmulation(vcard.Emulation{DropAtAPDU: 2})
		}},
		{"pulled during the RSA operation", func(s *stack, card *vcard.Card, in *inserted) {
			card.SetEmulation(vcard.Emulation{RSALatency: 3 * time.Second})
			card.SetTrace(func(cmd, _ []byte) {
				if len(cmd) > 1 && cmd[1] == insGeneralAuthenticate && cmd[0]&0x10 == 0 {
					in.cancel() // the card leaves the reader while it computes
				}
			})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			ic := issueVCard(t, AlgRSA2048, vcard.Options{})
			s := startStack(t)
			in := s.insert(ic.card)
			c, err := Open(ctx, s.connect(ctx), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.VerifyPIN(ctx, []byte(vcard.DefaultPIN)); err != nil {
				t.Fatal(err)
			}
			signer, _ := c.Signer(Slot9A, ic.cert.PublicKey)
			tc.pull(s, ic.card, in)
			digest := sha256.Sum256([]byte("x"))
			waitfor.Returns(t, waitfor.Timeout, "the signature with the card pulled", func() {
				_, err = signer.SignContext(ctx, rand.Reader, digest[:], crypto.SHA256)
			})
			if !errors.Is(err, pcsc.ErrCardRemoved) {
				t.Fatalf("sign with the card pulled: %v, want ErrCardRemoved", err)
			}
			ic.card.SetTrace(nil)
			s.wait(pcsc.CardRemoved)
		})
	}
}
