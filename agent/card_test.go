package agent

import (
	"context"
	"crypto"
	"crypto/sha256"
	"errors"
	"log/slog"
	"testing"

	"smartpath/agent/session"
	"smartpath/pcsc/piv"
	"smartpath/testing/pki"
	"smartpath/testing/vcard"
)

// inProcessConn puts the in-process virtual card behind the cardConn interface.
type inProcessConn struct {
	*vcard.Card
	resets int
}

func (c *inProcessConn) CloseReset() error { c.resets++; c.Card.Reset(); return nil }

func newTestCard(t *testing.T, alg vcard.Alg) (*pivCard, *inProcessConn) {
	t.Helper()
	p, err := pki.New("agent-card-test")
	if err != nil {
		t.Fatal(err)
	}
	vc, err := vcard.NewCitizenCard(p, vcard.Citizen{Name: "Jane Citizen", Number: "C-1001", Alg: alg})
	if err != nil {
		t.Fatal(err)
	}
	conn := &inProcessConn{Card: vc}
	c := newPIVCard(piv.Slot9A, slog.New(slog.DiscardHandler))
	c.connect = func(context.Context, string) (cardConn, error) { return conn, nil }
	return c, conn
}

// docs/security.md, invariant 4: the card key is used only inside a session the citizen opened with
// the PIN — not after reading the card, not after a wrong PIN, not after logout.
func TestCardKeyOnlyAfterVerify(t *testing.T) {
	ctx := context.Background()
	c, conn := newTestCard(t, vcard.AlgP256)
	info, err := c.Read(ctx, "reader")
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "Jane Citizen" || info.PINTriesLeft != 3 || info.Expired {
		t.Fatalf("card info = %+v", info)
	}
	if _, err := c.clientCertificate(); err == nil {
		t.Fatal("client certificate offered before the PIN was verified")
	}
	var wrong *session.WrongPINError
	if err := c.Verify(ctx, []byte("000000")); !errors.As(err, &wrong) || wrong.Left != 2 {
		t.Fatalf("wrong PIN: %v", err)
	}
	if _, err := c.clientCertificate(); err == nil {
		t.Fatal("client certificate offered after a wrong PIN")
	}
	if err := c.Verify(ctx, []byte(vcard.DefaultPIN)); err != nil {
		t.Fatal(err)
	}
	cert, err := c.clientCertificate()
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("handshake"))
	if _, err := cert.PrivateKey.(crypto.Signer).Sign(nil, digest[:], crypto.SHA256); err != nil {
		t.Fatalf("sign after verify: %v", err)
	}
	if conn.Signatures() != 1 {
		t.Fatalf("card signatures = %d, want 1", conn.Signatures())
	}
	if err := c.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if conn.resets == 0 {
		t.Fatal("logout did not disconnect the card with a reset")
	}
	if _, err := c.clientCertificate(); err == nil {
		t.Fatal("client certificate offered after logout")
	}
	// The signer handed out during the session no longer works either: the card was reset.
	if _, err := cert.PrivateKey.(crypto.Signer).Sign(nil, digest[:], crypto.SHA256); err == nil {
		t.Fatal("the session's signer still signs after logout")
	}
}

func TestCardBlockedAndUnsupported(t *testing.T) {
	ctx := context.Background()
	c, _ := newTestCard(t, vcard.AlgRSA2048)
	if _, err := c.Read(ctx, "reader"); err != nil {
		t.Fatal(err)
	}
	var last error
	for range 3 {
		last = c.Verify(ctx, []byte("000000"))
	}
	if !errors.Is(last, session.ErrBlocked) {
		t.Fatalf("third wrong PIN: %v, want ErrBlocked", last)
	}
	if err := c.Verify(ctx, []byte(vcard.DefaultPIN)); !errors.Is(err, session.ErrBlocked) {
		t.Fatalf("right PIN on a blocked card: %v, want ErrBlocked", err)
	}

	blank, err := vcard.New(vcard.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.connect = func(context.Context, string) (cardConn, error) { return &inProcessConn{Card: blank}, nil }
	if _, err := c.Read(ctx, "reader"); !errors.Is(err, session.ErrCardUnsupported) {
		t.Fatalf("card without a certificate: %v, want ErrCardUnsupported", err)
	}
}
