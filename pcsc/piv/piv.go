package piv

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"time"

	"smartpath/pcsc"
)

// Instruction bytes, SP 800-73-4 Part 2 §3.
const (
	insSelect              = 0xA4
	insGetData             = 0xCB
	insVerify              = 0x20
	insChangeReference     = 0x24
	insResetRetryCounter   = 0x2C
	insGeneralAuthenticate = 0x87
	insPutData             = 0xDB
	insGenerateKeyPair     = 0x47
)

// aidPIV is the PIV application identifier with version (SP 800-73-4 Part 1 §2.2).
var aidPIV = []byte{0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00}

// Defaults for [Options].
const (
	DefaultMaxObjectSize      = 16 << 10
	DefaultMaxCertificateSize = 16 << 10
	DefaultSignTimeout        = 20 * time.Second
)

// Options tune a [Client]. The zero value is right for most cards.
type Options struct {
	// Extended sends extended-length APDUs (one command and one response for a whole
	// certificate or RSA block) instead of command chaining and GET RESPONSE. Open turns it
	// on by itself when the card advertises extended Lc/Le in its ATR (a card with an
	// ATR() []byte method, such as *pcsc.Conn) and does not run T=0; set ShortAPDUs to
	// prevent that, for a reader that cannot carry them.
	Extended bool
	// ShortAPDUs keeps to short APDUs whatever the ATR says (Extended wins if both are set).
	ShortAPDUs bool
	// MaxObjectSize bounds one data object read from the card, in bytes
	// (default DefaultMaxObjectSize).
	MaxObjectSize int
	// MaxCertificateSize bounds a certificate after gzip decompression
	// (default DefaultMaxCertificateSize).
	MaxCertificateSize int
	// SignTimeout bounds [Signer.Sign], which has no context of its own
	// (default DefaultSignTimeout). SignContext uses the caller's context instead.
	SignTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxObjectSize <= 0 {
		o.MaxObjectSize = DefaultMaxObjectSize
	}
	if o.MaxCertificateSize <= 0 {
		o.MaxCertificateSize = DefaultMaxCertificateSize
	}
	if o.SignTimeout <= 0 {
		o.SignTimeout = DefaultSignTimeout
	}
	return o
}

// Application is what the card says about its PIV application in the Application Property
// Template (tag 61) of the SELECT response.
type Application struct {
	// AID is the application identifier the card reports (tag 4F; often only the PIX).
	AID []byte
	// Authority is the coexistent tag allocation authority template (tag 79), raw.
	Authority []byte
	// Label is the application label (tag 50), e.g. "PIV applet"; empty when absent.
	Label string
	// Algorithms lists the cryptographic algorithm identifiers the card advertises (tag AC,
	// each 80 entry). Empty when the card does not say.
	Algorithms []Algorithm
}

// Client talks to the PIV application of one inserted card. Create it with [Open]; it is
// safe for concurrent use (commands are serialised) and is meant to live as long as the card
// stays in the reader.
type Client struct {
	card pcsc.Card
	tr   *pcsc.Transport
	opts Options
	app  Application

	// sem serialises every exchange with the card (and so signing, SP 800-73 being a
	// one-command-at-a-time protocol). It is a channel so waiting honours the context.
	sem chan struct{}

	cacheMu sync.Mutex
	certs   map[byte]*x509.Certificate // certificates already read, by key reference
}

// Open selects the PIV application on card (once) and returns a Client for it. The caller
// keeps ownership of card: a Client holds no resources and needs no Close; when the card
// leaves, disconnect it (with a reset, to clear the PIN) and drop the Client.
//
// A card without a PIV application gives an error wrapping [ErrNotPIV].
func Open(ctx context.Context, card pcsc.Card, opts Options) (*Client, error) {
	opts = opts.withDefaults()
	if !opts.Extended && !opts.ShortAPDUs {
		opts.Extended = extendedLengthOf(card)
	}
	c := &Client{
		card:  card,
		tr:    pcsc.NewTransport(card, pcsc.TransportOptions{Extended: opts.Extended, MaxResponse: opts.MaxObjectSize + 16}),
		opts:  opts,
		sem:   make(chan struct{}, 1),
		certs: map[byte]*x509.Certificate{},
	}
	resp, err := c.tr.Do(ctx, pcsc.Command{CLA: 0x00, INS: insSelect, P1: 0x04, P2: 0x00, Data: aidPIV, Le: 256})
	if err != nil {
		if errors.Is(err, pcsc.ErrNotFound) {
			return nil, fmt.Errorf("piv: select: %w (%w)", ErrNotPIV, err)
		}
		return nil, fmt.Errorf("piv: select the PIV application: %w", err)
	}
	app, err := parseApplication(resp)
	if err != nil {
		return nil, fmt.Errorf("piv: select: %w", err)
	}
	c.app = app
	return c, nil
}

// ErrNotPIV means the card has no PIV application (SELECT answered 6A82).
var ErrNotPIV = errors.New("the card has no PIV application")

// App returns what the card reported when the application was selected.
func (c *Client) App() Application { return c.app }

// parseApplication decodes the SELECT response: an Application Property Template (61), or
// nothing at all from minimal cards.
func parseApplication(resp []byte) (Application, error) {
	var app Application
	if len(resp) == 0 {
		return app, nil
	}
	fields, err := templateFields(resp, 0x61, "application property template")
	if err != nil {
		return app, err
	}
	for _, f := range fields {
		switch f.tag {
		case 0x4F:
			app.AID = bytes.Clone(f.value)
		case 0x79:
			app.Authority = bytes.Clone(f.value)
		case 0x50:
			app.Label = printable(f.value, 64)
		case 0xAC:
			algs, err := parseTLVs(f.value)
			if err != nil {
				return app, fmt.Errorf("algorithm list: %w", err)
			}
			for _, a := range algs {
				if a.tag == 0x80 && len(a.value) == 1 && len(app.Algorithms) < 32 {
					app.Algorithms = append(app.Algorithms, Algorithm(a.value[0]))
				}
			}
		}
	}
	return app, nil
}

// printable keeps the printable ASCII of b, at most max bytes, so card-supplied labels are
// safe to show and log.
func printable(b []byte, max int) string {
	out := make([]byte, 0, min(len(b), max))
	for _, c := range b {
		if len(out) == max {
			break
		}
		if c >= 0x20 && c < 0x7F {
			out = append(out, c)
		}
	}
	return string(out)
}

// lock takes the card for one operation, giving up when ctx ends.
func (c *Client) lock(ctx context.Context) error {
	select {
	case c.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("piv: waiting for the card: %w", context.Cause(ctx))
	}
}

func (c *Client) unlock() { <-c.sem }

// exclusive runs fn holding the Client's lock and, around it, a card transaction, so that
// several APDUs in a row cannot be interleaved with another application's. fn must not wait
// for a person.
func (c *Client) exclusive(ctx context.Context, fn func(ctx context.Context) error) error {
	if err := c.lock(ctx); err != nil {
		return err
	}
	defer c.unlock()
	return c.tr.WithTransaction(ctx, fn)
}
