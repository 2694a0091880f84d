package agent

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"smartpath/agent/session"
	"smartpath/pcsc"
	"smartpath/pcsc/piv"
)

// pivCard is the citizen's card as the session machine sees it (session.Card): a PC/SC
// connection and the PIV client over it, from Read until Logout. The machine calls its
// methods one at a time; the portal asks it for the client certificate from another
// goroutine, hence the mutex.
type pivCard struct {
	slot   piv.Slot
	logger *slog.Logger
	now    func() time.Time
	// connect opens the reader; tests may replace it.
	connect func(ctx context.Context, reader string) (cardConn, error)

	mu       sync.Mutex
	conn     cardConn
	client   *piv.Client
	cert     *x509.Certificate
	verified bool
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
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropLocked()
	conn, err := c.connect(ctx, reader)
	if err != nil {
		return session.CardInfo{}, fmt.Errorf("connect to the card: %w", err)
	}
	client, err := piv.Open(ctx, conn, piv.Options{})
	if err != nil {
		_ = conn.CloseReset()
		if errors.Is(err, piv.ErrNotPIV) {
			return session.CardInfo{}, fmt.Errorf("%w: %w", session.ErrCardUnsupported, err)
		}
		return session.CardInfo{}, err
	}
	id, err := client.ReadIdentity(ctx)
	if err != nil {
		_ = conn.CloseReset()
		if errors.Is(err, pcsc.ErrNotFound) || errors.Is(err, piv.ErrUnsupportedKey) {
			return session.CardInfo{}, fmt.Errorf("%w: %w", session.ErrCardUnsupported, err)
		}
		return session.CardInfo{}, err
	}
	if c.slot != piv.Slot9A && id.Certificate != nil {
		// ReadIdentity reads the PIV Authentication certificate; another slot was configured.
		if id.Certificate, err = client.Certificate(ctx, c.slot); err != nil {
			_ = conn.CloseReset()
			return session.CardInfo{}, fmt.Errorf("%w: %w", session.ErrCardUnsupported, err)
		}
	}
	if id.Certificate == nil {
		_ = conn.CloseReset()
		return session.CardInfo{}, fmt.Errorf("%w: no certificate in slot %s", session.ErrCardUnsupported, c.slot)
	}
	if _, err := signerKey(id.Certificate); err != nil {
		_ = conn.CloseReset()
		return session.CardInfo{}, fmt.Errorf("%w: %w", session.ErrCardUnsupported, err)
	}
	c.conn, c.client, c.cert = conn, client, id.Certificate
	now := c.now()
	info := session.CardInfo{
		Name:         id.Certificate.Subject.CommonName,
		PINTriesLeft: id.PIN.Retries,
		Expired:      now.After(id.Certificate.NotAfter) || (id.CHUID != nil && id.CHUID.Expired(now)),
	}
	if id.PIN.Blocked {
		info.PINTriesLeft = 0
	}
	return info, nil
}

// Verify sends the PIN once. It keeps no copy: the buffer belongs to the machine, which
// zeroes it.
func (c *pivCard) Verify(ctx context.Context, pin []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == nil {
		return errors.New("no card has been read")
	}
	err := c.client.VerifyPIN(ctx, pin)
	var wrong *pcsc.WrongPINError
	switch {
	case err == nil:
		c.verified = true
		return nil
	case errors.As(err, &wrong):
		if wrong.Retries == 0 {
			return session.ErrBlocked
		}
		return &session.WrongPINError{Left: wrong.Retries}
	case errors.Is(err, pcsc.ErrAuthBlocked):
		return session.ErrBlocked
	default:
		return err
	}
}

// Logout clears the card's verified state and drops the connection with a reset, which
// clears it even on a card that refuses VERIFY P1=FF.
func (c *pivCard) Logout(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	if c.client != nil && c.verified {
		if lerr := c.client.Logout(ctx); lerr != nil && !errors.Is(lerr, piv.ErrLogoutUnsupported) &&
			!errors.Is(lerr, pcsc.ErrCardRemoved) {
			err = lerr
		}
	}
	c.dropLocked()
	return err
}

func (c *pivCard) dropLocked() {
	if c.conn != nil {
		_ = c.conn.CloseReset()
	}
	c.conn, c.client, c.cert, c.verified = nil, nil, nil, false
}

// clientCertificate is the card's certificate with the card key as its signer, for the
// portal's TLS client. It exists only after a successful VERIFY (docs/security.md, invariant 4).
func (c *pivCard) clientCertificate() (tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == nil || !c.verified {
		return tls.Certificate{}, errors.New("the card key is only used after the citizen's PIN was verified")
	}
	pub, err := signerKey(c.cert)
	if err != nil {
		return tls.Certificate{}, err
	}
	signer, err := c.client.Signer(c.slot, pub)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{c.cert.Raw}, PrivateKey: signer, Leaf: c.cert}, nil
}

func signerKey(cert *x509.Certificate) (crypto.PublicKey, error) {
	switch cert.PublicKeyAlgorithm {
	case x509.RSA, x509.ECDSA:
		return cert.PublicKey, nil
	default:
		return nil, fmt.Errorf("%w: %s", piv.ErrUnsupportedKey, cert.PublicKeyAlgorithm)
	}
}
