package pcsc

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/ebfe/scard"
)

// exchange is one step of a scripted card: the command APDU the card expects (hex, spaces
// allowed) and its answer, or a transport error.
type exchange struct {
	cmd, resp string
	err       error
}

// scriptCard is an in-process card that plays a transcript and fails the test on any APDU
// that is not the next one expected.
type scriptCard struct {
	t      testing.TB
	script []exchange
	n      int
}

func (c *scriptCard) Transmit(_ context.Context, apdu []byte) ([]byte, error) {
	c.t.Helper()
	if c.n >= len(c.script) {
		c.t.Errorf("unexpected APDU %X after the script ended", apdu)
		return nil, errors.New("script exhausted")
	}
	ex := c.script[c.n]
	c.n++
	if want := unhex(c.t, ex.cmd); !bytes.Equal(apdu, want) {
		c.t.Errorf("APDU %d = %X, want %X", c.n, apdu, want)
	}
	if ex.err != nil {
		return nil, ex.err
	}
	return unhex(c.t, ex.resp), nil
}

// hx returns n bytes of b in hex, for long data in transcripts.
func hx(b byte, n int) string { return strings.Repeat(hex.EncodeToString([]byte{b}), n) }

func TestTransportDo(t *testing.T) {
	removed := wrapSCard("SCardTransmit", scard.ErrRemovedCard)
	tests := []struct {
		name   string
		opts   TransportOptions
		cmd    Command
		script []exchange
		want   string // response data in hex
		err    error  // errors.Is target; nil = success
		sw     uint16 // expected *StatusError SW when nonzero
	}{
		{
			name:   "plain",
			cmd:    Command{0x00, 0xCA, 0x00, 0x7F, nil, 256},
			script: []exchange{{cmd: "00CA007F00", resp: "0102 9000"}},
			want:   "0102",
		},
		{
			name:   "no data",
			cmd:    Command{0x00, 0xA4, 0x04, 0x00, []byte{0xA0}, 0},
			script: []exchange{{cmd: "00A4040001A0", resp: "9000"}},
			want:   "",
		},
		{
			name: "GET RESPONSE chain",
			cmd:  Command{0x00, 0xCB, 0x3F, 0xFF, unhex(t, "5C035FC105"), 256},
			script: []exchange{
				{cmd: "00CB3FFF055C035FC10500", resp: hx(1, 256) + "6100"},
				{cmd: "00C0000000", resp: hx(2, 256) + "6110"},
				{cmd: "00C0000010", resp: hx(3, 16) + "9000"},
			},
			want: hx(1, 256) + hx(2, 256) + hx(3, 16),
		},
		{
			name: "61xx on a case 3 command",
			cmd:  Command{0x00, 0x87, 0x07, 0x9A, []byte{0x7C, 0x00}, 0},
			script: []exchange{
				{cmd: "008707 9A027C00", resp: "6104"},
				{cmd: "00C0000004", resp: "7C028200 9000"},
			},
			want: "7C028200",
		},
		{
			name: "GET RESPONSE keeps the logical channel",
			cmd:  Command{0x01, 0xCA, 0x00, 0x7F, nil, 256},
			script: []exchange{
				{cmd: "01CA007F00", resp: "AA 6101"},
				{cmd: "01C0000001", resp: "BB 9000"},
			},
			want: "AABB",
		},
		{
			name: "6Cxx re-send",
			cmd:  Command{0x00, 0xCA, 0x01, 0x02, nil, 256},
			script: []exchange{
				{cmd: "00CA010200", resp: "6C03"},
				{cmd: "00CA010203", resp: "AABBCC 9000"},
			},
			want: "AABBCC",
		},
		{
			name: "6Cxx only once",
			cmd:  Command{0x00, 0xCA, 0x01, 0x02, nil, 256},
			script: []exchange{
				{cmd: "00CA010200", resp: "6C03"},
				{cmd: "00CA010203", resp: "6C04"},
			},
			err: ErrWrongLength, sw: 0x6C04,
		},
		{
			name: "6Cxx on GET RESPONSE",
			cmd:  Command{0x00, 0xCA, 0x01, 0x02, nil, 256},
			script: []exchange{
				{cmd: "00CA010200", resp: "AA 6100"},
				{cmd: "00C0000000", resp: "6C02"},
				{cmd: "00C0000002", resp: "BBCC 9000"},
			},
			want: "AABBCC",
		},
		{
			name: "command chaining",
			cmd:  Command{0x00, 0xDB, 0x3F, 0xFF, bytes.Repeat([]byte{0xAB}, 600), 0},
			script: []exchange{
				{cmd: "10DB3FFFFF" + hx(0xAB, 255), resp: "9000"},
				{cmd: "10DB3FFFFF" + hx(0xAB, 255), resp: "9000"},
				{cmd: "00DB3FFF5A" + hx(0xAB, 90), resp: "9000"},
			},
			want: "",
		},
		{
			name: "chaining then GET RESPONSE",
			cmd:  Command{0x00, 0x87, 0x07, 0x9A, bytes.Repeat([]byte{0x01}, 256), 256},
			script: []exchange{
				{cmd: "1087079AFF" + hx(1, 255), resp: "9000"},
				{cmd: "0087079A01" + "01" + "00", resp: hx(9, 256) + "6102"},
				{cmd: "00C0000002", resp: "0909 9000"},
			},
			want: hx(9, 258),
		},
		{
			name: "chaining refused",
			cmd:  Command{0x00, 0xDB, 0x3F, 0xFF, bytes.Repeat([]byte{0xAB}, 300), 0},
			script: []exchange{
				{cmd: "10DB3FFFFF" + hx(0xAB, 255), resp: "6884"},
			},
			err: ErrChainingNotSupported, sw: 0x6884,
		},
		{
			name: "extended length",
			opts: TransportOptions{Extended: true},
			cmd:  Command{0x00, 0xDB, 0x3F, 0xFF, bytes.Repeat([]byte{0xAB}, 600), 0},
			script: []exchange{
				{cmd: "00DB3FFF000258" + hx(0xAB, 600), resp: "9000"},
			},
			want: "",
		},
		{
			name: "extended Le",
			opts: TransportOptions{Extended: true},
			cmd:  Command{0x00, 0xCB, 0x3F, 0xFF, nil, 1000},
			script: []exchange{
				{cmd: "00CB3FFF0003E8", resp: hx(7, 1000) + "9000"},
			},
			want: hx(7, 1000),
		},
		{
			name: "extended transport sends short APDUs when they fit",
			opts: TransportOptions{Extended: true},
			cmd:  Command{0x00, 0xCB, 0x3F, 0xFF, nil, 256},
			script: []exchange{
				{cmd: "00CB3FFF00", resp: "01 9000"},
			},
			want: "01",
		},
		{
			name: "Le above 256 without extended length",
			cmd:  Command{0x00, 0xCB, 0x3F, 0xFF, nil, 65536},
			script: []exchange{
				{cmd: "00CB3FFF00", resp: hx(7, 256) + "612C"},
				{cmd: "00C000002C", resp: hx(7, 44) + "9000"},
			},
			want: hx(7, 300),
		},
		{
			name: "oversize across GET RESPONSE",
			opts: TransportOptions{MaxResponse: 300},
			cmd:  Command{0x00, 0xCB, 0x3F, 0xFF, nil, 256},
			script: []exchange{
				{cmd: "00CB3FFF00", resp: hx(7, 256) + "6100"},
				{cmd: "00C0000000", resp: hx(7, 256) + "6100"},
			},
			err: ErrResponseTooLarge,
		},
		{
			name: "GET RESPONSE without data",
			cmd:  Command{0x00, 0xCB, 0x3F, 0xFF, nil, 256},
			script: []exchange{
				{cmd: "00CB3FFF00", resp: "6110"},
				{cmd: "00C0000010", resp: "6110"},
			},
			err: ErrMalformedResponse,
		},
		{
			name:   "response without status word",
			cmd:    Command{0x00, 0xCB, 0x3F, 0xFF, nil, 256},
			script: []exchange{{cmd: "00CB3FFF00", resp: "90"}},
			err:    ErrMalformedResponse,
		},
		{
			name:   "not found",
			cmd:    Command{0x00, 0xCB, 0x3F, 0xFF, unhex(t, "5C035FC10A"), 256},
			script: []exchange{{cmd: "00CB3FFF055C035FC10A00", resp: "6A82"}},
			err:    ErrNotFound, sw: 0x6A82,
		},
		{
			name:   "wrong PIN",
			cmd:    Command{0x00, 0x20, 0x00, 0x80, nil, 0},
			script: []exchange{{cmd: "00200080", resp: "63C2"}},
			err:    ErrWrongPIN, sw: 0x63C2,
		},
		{
			name:   "warning keeps data",
			cmd:    Command{0x00, 0xB0, 0x00, 0x00, nil, 16},
			script: []exchange{{cmd: "00B0000010", resp: "0102 6282"}},
			want:   "0102", err: ErrWarning, sw: 0x6282,
		},
		{
			name:   "card removed",
			cmd:    Command{0x00, 0xCB, 0x3F, 0xFF, nil, 256},
			script: []exchange{{cmd: "00CB3FFF00", err: removed}},
			err:    ErrCardRemoved,
		},
		{
			name: "card removed during GET RESPONSE",
			cmd:  Command{0x00, 0xCB, 0x3F, 0xFF, nil, 256},
			script: []exchange{
				{cmd: "00CB3FFF00", resp: "01 6100"},
				{cmd: "00C0000000", err: removed},
			},
			err: ErrCardRemoved,
		},
		{
			name: "command too long",
			cmd:  Command{0x00, 0xDB, 0x3F, 0xFF, make([]byte, 65536), 0},
			err:  ErrCommandTooLong,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			card := &scriptCard{t: t, script: tt.script}
			tr := NewTransport(card, tt.opts)
			got, err := tr.Do(context.Background(), tt.cmd)
			if card.n != len(tt.script) {
				t.Errorf("%d of %d scripted APDUs sent", card.n, len(tt.script))
			}
			if st := tr.Stats(); st.APDUs != uint64(card.n) {
				t.Errorf("Stats().APDUs = %d, card saw %d", st.APDUs, card.n)
			}
			if tt.err == nil {
				if err != nil {
					t.Fatalf("Do: %v", err)
				}
			} else if !errors.Is(err, tt.err) {
				t.Fatalf("Do error = %v, want %v", err, tt.err)
			}
			if tt.sw != 0 {
				var se *StatusError
				if !errors.As(err, &se) || se.SW != tt.sw {
					t.Errorf("Do error = %v, want status %04X", err, tt.sw)
				}
			}
			if tt.want != "" || tt.err == nil {
				if !bytes.Equal(got, unhex(t, tt.want)) {
					t.Errorf("data = %X, want %s", got, tt.want)
				}
			}
		})
	}
}

func TestTransportContext(t *testing.T) {
	card := &scriptCard{t: t}
	tr := NewTransport(card, TransportOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tr.Do(ctx, Command{INS: 0xCA}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Do with a cancelled context = %v", err)
	}
	if card.n != 0 {
		t.Fatal("an APDU was sent with a cancelled context")
	}
}

// txCard is a scripted card that is also a Transactor.
type txCard struct {
	scriptCard
	beginErr     error
	begun, ended int
	inTx         bool
}

func (c *txCard) BeginTransaction(context.Context) error {
	if c.beginErr != nil {
		return c.beginErr
	}
	if c.inTx {
		c.t.Error("BeginTransaction inside a transaction")
	}
	c.begun++
	c.inTx = true
	return nil
}

func (c *txCard) EndTransaction() error {
	c.ended++
	c.inTx = false
	return nil
}

func TestWithTransaction(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")

	card := &txCard{scriptCard: scriptCard{t: t, script: []exchange{{cmd: "00CA007F00", resp: "9000"}}}}
	tr := NewTransport(card, TransportOptions{})
	err := tr.WithTransaction(ctx, func(ctx context.Context) error {
		if !card.inTx {
			t.Error("fn runs outside the transaction")
		}
		// Nested calls reuse the outer transaction.
		return tr.WithTransaction(ctx, func(ctx context.Context) error {
			_, err := tr.Do(ctx, Command{INS: 0xCA, P2: 0x7F, Le: 256})
			return err
		})
	})
	if err != nil || card.begun != 1 || card.ended != 1 {
		t.Fatalf("err=%v begun=%d ended=%d", err, card.begun, card.ended)
	}

	if err := tr.WithTransaction(ctx, func(context.Context) error { return boom }); !errors.Is(err, boom) || card.ended != 2 {
		t.Fatalf("fn error: err=%v ended=%d", err, card.ended)
	}

	func() {
		defer func() { _ = recover() }()
		_ = tr.WithTransaction(ctx, func(context.Context) error { panic("fn panicked") })
	}()
	if card.ended != 3 || card.inTx {
		t.Fatalf("transaction left open after a panic: ended=%d", card.ended)
	}

	card.beginErr = wrapSCard("SCardBeginTransaction", scard.ErrRemovedCard)
	called := false
	err = tr.WithTransaction(ctx, func(context.Context) error { called = true; return nil })
	if !errors.Is(err, ErrCardRemoved) || called {
		t.Fatalf("begin failure: err=%v called=%v", err, called)
	}

	// A card without transactions just runs fn.
	plain := NewTransport(&scriptCard{t: t}, TransportOptions{})
	if err := plain.WithTransaction(ctx, func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

// fuzzCard answers every APDU with the next response cut from the fuzz input (2-byte length,
// then that many bytes), and 9000 once the input is used up.
type fuzzCard struct {
	in    []byte
	apdus int
}

func (c *fuzzCard) Transmit(_ context.Context, apdu []byte) ([]byte, error) {
	c.apdus++
	if len(c.in) < 2 {
		return []byte{0x90, 0x00}, nil
	}
	n := int(c.in[0])<<8 | int(c.in[1])
	c.in = c.in[2:]
	if n > len(c.in) {
		n = len(c.in)
	}
	resp := c.in[:n]
	c.in = c.in[n:]
	return resp, nil
}

func FuzzTransportResponses(f *testing.F) {
	frame := func(parts ...string) []byte {
		var b []byte
		for _, p := range parts {
			d := unhex(f, p)
			b = append(b, byte(len(d)>>8), byte(len(d)))
			b = append(b, d...)
		}
		return b
	}
	f.Add(frame("01029000"))
	f.Add(frame(hx(1, 256)+"6100", hx(2, 16)+"6110", "9000"))
	f.Add(frame("6C03", "AABBCC9000"))
	f.Add(frame("6110", "6110"))
	f.Add(frame("90"))
	f.Add(frame("63C2"))
	f.Fuzz(func(t *testing.T, in []byte) {
		const max = 4096
		card := &fuzzCard{in: in}
		tr := NewTransport(card, TransportOptions{MaxResponse: max})
		data, err := tr.Do(context.Background(), Command{INS: 0xCB, P1: 0x3F, P2: 0xFF, Le: 256})
		if len(data) > max {
			t.Fatalf("%d bytes returned, max %d", len(data), max)
		}
		if err == nil && data == nil {
			t.Fatal("success with nil data")
		}
		// Every APDU but the last consumed one framed response (or hit the 9000 default).
		if limit := len(in)/2 + 2; card.apdus > limit {
			t.Fatalf("%d APDUs for %d input bytes", card.apdus, len(in))
		}
	})
}

func FuzzSplitResponse(f *testing.F) {
	f.Add([]byte{0x90, 0x00})
	f.Add([]byte{1, 2, 0x61, 0x00})
	f.Add([]byte{0x6A})
	f.Fuzz(func(t *testing.T, resp []byte) {
		data, sw, err := SplitResponse(resp)
		if err != nil {
			return
		}
		if len(data)+2 != len(resp) || byte(sw>>8) != resp[len(resp)-2] || byte(sw) != resp[len(resp)-1] {
			t.Fatalf("SplitResponse(%X) = %X, %04X", resp, data, sw)
		}
	})
}

// keepingCard answers 9000 and keeps every APDU slice it was given, as a careless Card
// might, so a test can see what stays in memory.
type keepingCard struct{ seen [][]byte }

func (c *keepingCard) Transmit(_ context.Context, apdu []byte) ([]byte, error) {
	c.seen = append(c.seen, apdu)
	return []byte{0x90, 0x00}, nil
}

func TestTransportZeroesEncodedAPDUs(t *testing.T) {
	secret := bytes.Repeat([]byte{'7'}, 300) // long enough to be chained in two blocks
	card := &keepingCard{}
	tr := NewTransport(card, TransportOptions{})
	if _, err := tr.Do(context.Background(), Command{INS: 0x20, P2: 0x80, Data: secret}); err != nil {
		t.Fatal(err)
	}
	if len(card.seen) != 2 {
		t.Fatalf("%d APDUs sent, want 2 (a chain)", len(card.seen))
	}
	for i, apdu := range card.seen {
		if !bytes.Equal(apdu, make([]byte, len(apdu))) {
			t.Errorf("APDU %d still holds %X after Do returned", i+1, apdu)
		}
	}
	if !bytes.Equal(secret, bytes.Repeat([]byte{'7'}, 300)) {
		t.Error("Do changed the caller's command data")
	}
}
