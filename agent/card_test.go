package agent

import (
	"context"
	"crypto"
	"crypto/ecdsa"
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
// the PIN — not after reading the card, not after a wrong PIN, not after logout. The only way
// to the key is the credential an accepted VERIFY returns, and Logout ends it.
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
	ans, err := c.Verify(ctx, []byte("000000"))
	if err != nil || ans.Credential != nil || ans.TriesLeft != 2 {
		t.Fatalf("wrong PIN: %+v, %v", ans, err)
	}
	ans, err = c.Verify(ctx, []byte(vcard.DefaultPIN))
	if err != nil || ans.Credential == nil {
		t.Fatalf("right PIN: %+v, %v", ans, err)
	}
	cred := ans.Credential
	if cred.Certificate.Subject.CommonName != "Jane Citizen" {
		t.Fatalf("credential certificate %q", cred.Certificate.Subject)
	}
	digest := sha256.Sum256([]byte("handshake"))
	sig, err := cred.Signer.Sign(nil, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatalf("sign after verify: %v", err)
	}
	if !ecdsa.VerifyASN1(cred.Certificate.PublicKey.(*ecdsa.PublicKey), digest[:], sig) {
		t.Fatal("the credential's signature does not verify with its certificate")
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
	// The credential handed out during the session no longer signs, and the card saw no
	// command for it.
	if _, err := cred.Signer.Sign(nil, digest[:], crypto.SHA256); err == nil {
		t.Fatal("the session's credential still signs after logout")
	}
	if conn.Signatures() != 1 {
		t.Fatalf("card signatures after logout = %d, want 1", conn.Signatures())
	}
}

// The next citizen's card read ends the previous credential even without a Logout.
func TestCardCredentialEndsWithTheNextRead(t *testing.T) {
	ctx := context.Background()
	c, conn := newTestCard(t, vcard.AlgRSA2048)
	if _, err := c.Read(ctx, "reader"); err != nil {
		t.Fatal(err)
	}
	ans, err := c.Verify(ctx, []byte(vcard.DefaultPIN))
	if err != nil || ans.Credential == nil {
		t.Fatalf("right PIN: %+v, %v", ans, err)
	}
	if _, err := c.Read(ctx, "reader"); err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("handshake"))
	if _, err := ans.Credential.Signer.Sign(nil, digest[:], crypto.SHA256); err == nil {
		t.Fatal("a credential of the previous read still signs")
	}
	if conn.Signatures() != 0 {
		t.Fatalf("card signatures = %d, want 0", conn.Signatures())
	}
}

func TestCardBlockedAndUnsupported(t *testing.T) {
	ctx := context.Background()
	c, _ := newTestCard(t, vcard.AlgRSA2048)
	if _, err := c.Read(ctx, "reader"); err != nil {
		t.Fatal(err)
	}
	var last session.PINAnswer
	for range 3 {
		var err error
		if last, err = c.Verify(ctx, []byte("000000")); err != nil {
			t.Fatal(err)
		}
	}
	if last.Credential != nil || last.TriesLeft != 0 {
		t.Fatalf("third wrong PIN: %+v, want 0 tries left", last)
	}
	if ans, err := c.Verify(ctx, []byte(vcard.DefaultPIN)); err != nil || ans.Credential != nil || ans.TriesLeft != 0 {
		t.Fatalf("right PIN on a blocked card: %+v, %v; want 0 tries left", ans, err)
	}

	blank, err := vcard.New(vcard.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.connect = func(context.Context, string) (cardConn, error) { return &inProcessConn{Card: blank}, nil }
	_, err = c.Read(ctx, "reader")
	if f := (*session.Failure)(nil); !errors.As(err, &f) || f.Code != session.ErrCodeCardUnsupported {
		t.Fatalf("card without a certificate: %v, want card_unsupported", err)
	}
}
