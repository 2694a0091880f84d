package agent

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"smartpath/agent/session"
	"smartpath/pcsc"
	"smartpath/pcsc/piv"
)

// pivCard is the citizen's card as the session machine sees it (session.Card): a PC/SC
// connection and the PIV client over it, from Read until Logout. The machine calls its
// methods one at a time, so it needs no lock of its own; the card key leaves it only as the
// session.Credential that Verify returns, whose signer Logout ends.
type pivCard struct {
	slot   piv.Slot
	logger *slog.Logger
	now    func() time.Time
	// connect opens the reader; tests may replace it.
	connect func(ctx context.Context, reader string) (cardConn, error)

	conn   cardConn
	client *piv.Client
	cert   *x509.Certificate
	signer *cardSigner // the credential given by the last accepted VERIFY
}

// cardConn is what pivCard needs of a card connection (a *pcsc.Conn in production).
type cardConn interface {
	pcsc.Card
	CloseReset() error
}

func newPIVCard(slot piv.Slot, logger *slog.Logger) *pivCard {
	return &pivCard{
		slot:   slot,
		logger: logger,
		now:    time.Now,
		connect: func(ctx context.Context, reader string) (cardConn, error) {
			return pcsc.Connect(ctx, reader, pcsc.ConnectOptions{})
		},
	}
}

// Read connects to the card in reader, selects PIV once and reads the authentication
// certificate, the CHUID and the PIN tries in one transaction.
func (c *pivCard) Read(ctx context.Context, reader string) (session.CardInfo, error) {
	c.drop()
	conn, err := c.connect(ctx, reader)
	if err != nil {
		return session.CardInfo{}, fmt.Errorf("connect to the card: %w", err)
	}
	id, client, err := readIdentity(ctx, conn, c.slot)
	if err != nil {
		_ = conn.CloseReset()
		return session.CardInfo{}, classifyRead(err)
	}
	c.conn, c.client, c.cert = conn, client, id.Certificate
	now := c.now()
	info := session.CardInfo{
		Name:         id.Certificate.Subject.CommonName,
		PINTriesLeft: id.PIN.Retries,
		Expired:      now.After(id.Certificate.NotAfter) || (id.CHUID != nil && id.CHUID.Expired(now)),
	}
	return info, nil // a blocked PIN reads as 0 tries left, which the session shows as pin_blocked
}

// readIdentity selects PIV on conn and reads the certificate of slot (which must hold a
// key the card can sign with), the CHUID and the PIN tries.
func readIdentity(ctx context.Context, conn pcsc.Card, slot piv.Slot) (*piv.Identity, *piv.Client, error) {
	client, err := piv.Open(ctx, conn, piv.Options{})
	if err != nil {
		return nil, nil, err
	}
	id, err := client.ReadIdentity(ctx)
	if err != nil {
		return nil, nil, err
	}
	if slot != piv.Slot9A {
		// ReadIdentity reads the PIV Authentication certificate; another slot was configured.
		if id.Certificate, err = client.Certificate(ctx, slot); err != nil {
			return nil, nil, err
		}
	}
	if _, err := signerKey(id.Certificate); err != nil {
		return nil, nil, err
	}
	return id, client, nil
}

// classifyRead is the one place a card that cannot be read becomes card_unsupported (not
// a council card: no PIV application, no certificate, a key the kiosk cannot use) rather
// than card_unreadable.
func classifyRead(err error) error {
	if errors.Is(err, piv.ErrNotPIV) || errors.Is(err, pcsc.ErrNotFound) || errors.Is(err, piv.ErrUnsupportedKey) {
		return session.Fail(session.ErrCodeCardUnsupported, err)
	}
	return err
}

// Verify sends the PIN once. It keeps no copy: the buffer belongs to the machine, which
// zeroes it. An accepted PIN gives the credential for the portal.
func (c *pivCard) Verify(ctx context.Context, pin []byte) (session.PINAnswer, error) {
	if c.client == nil {
		return session.PINAnswer{}, errors.New("no card has been read")
	}
	err := c.client.VerifyPIN(ctx, pin)
	var wrong *pcsc.WrongPINError
	switch {
	case err == nil:
	case errors.As(err, &wrong):
		return session.PINAnswer{TriesLeft: wrong.Retries}, nil
	case errors.Is(err, pcsc.ErrAuthBlocked):
		return session.PINAnswer{TriesLeft: 0}, nil
	default:
		return session.PINAnswer{}, err
	}
	pub, err := signerKey(c.cert)
	if err != nil {
		return session.PINAnswer{}, err
	}
	inner, err := c.client.Signer(c.slot, pub)
	if err != nil {
		return session.PINAnswer{}, err
	}
	c.signer.end()
	c.signer = &cardSigner{inner: inner}
	return session.PINAnswer{Credential: &session.Credential{Certificate: c.cert, Signer: c.signer}}, nil
}

// Logout ends the credential, clears the card's verified state and drops the connection
// with a reset, which clears it even on a card that refuses VERIFY P1=FF.
func (c *pivCard) Logout(ctx context.Context) error {
	var err error
	if c.client != nil && c.signer != nil {
		c.signer.end()
		if lerr := c.client.Logout(ctx); lerr != nil && !errors.Is(lerr, piv.ErrLogoutUnsupported) &&
			!errors.Is(lerr, pcsc.ErrCardRemoved) {
			err = lerr
		}
	}
	c.drop()
	return err
}

func (c *pivCard) drop() {
	c.signer.end()
	if c.conn != nil {
		_ = c.conn.CloseReset()
	}
	c.conn, c.client, c.cert, c.signer = nil, nil, nil, nil
}

// errCredentialEnded is a signature asked of a credential after its session's Logout.
var errCredentialEnded = errors.New("the card key is no longer usable: the citizen's session has ended")

// cardSigner is the card key as a session.Credential's signer: the PIV signer, until the
// session's Logout ends it (docs/security.md, invariant 4). It may be used from any
// goroutine; the PIV client serialises the card operations.
type cardSigner struct {
	inner *piv.Signer
	ended atomic.Bool
}

func (s *cardSigner) Public() crypto.PublicKey { return s.inner.Public() }

func (s *cardSigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if s.ended.Load() {
		return nil, errCredentialEnded
	}
	return s.inner.Sign(rand, digest, opts)
}

// end stops the signer; a nil signer is already ended.
func (s *cardSigner) end() {
	if s != nil {
		s.ended.Store(true)
	}
}

func signerKey(cert *x509.Certificate) (crypto.PublicKey, error) {
	if cert == nil {
		return nil, fmt.Errorf("%w: no certificate", pcsc.ErrNotFound)
	}
	switch cert.PublicKeyAlgorithm {
	case x509.RSA, x509.ECDSA:
		return cert.PublicKey, nil
	default:
		return nil, fmt.Errorf("%w: %s", piv.ErrUnsupportedKey, cert.PublicKeyAlgorithm)
	}
}
