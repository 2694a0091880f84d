package pcsc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// transcript is an APDU exchange recorded in testdata/transcripts/*.txt:
//
//	# comment
//	opts extended max=N        (optional)
//	do CLA INS P1 P2 [data=HEX] [le=N]
//	> command APDU the transport must send (hex)
//	< response the card gives (hex)
//	want HEX                   (the data Do returns) or
//	error SW                   (the status word of the *StatusError Do returns)
type transcript struct {
	opts    TransportOptions
	cmd     Command
	script  []exchange
	want    []byte
	wantErr uint16
}

func parseTranscript(t *testing.T, path string) transcript {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var tr transcript
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		word, rest, _ := strings.Cut(line, " ")
		fields := strings.Fields(rest)
		switch word {
		case "opts":
			for _, o := range fields {
				switch {
				case o == "extended":
					tr.opts.Extended = true
				case strings.HasPrefix(o, "max="):
					tr.opts.MaxResponse, err = strconv.Atoi(o[4:])
				default:
					t.Fatalf("%s:%d: unknown option %q", path, n, o)
				}
			}
		case "do":
			if len(fields) < 4 {
				t.Fatalf("%s:%d: do needs CLA INS P1 P2", path, n)
			}
			hdr := unhex(t, strings.Join(fields[:4], ""))
			tr.cmd = Command{CLA: hdr[0], INS: hdr[1], P1: hdr[2], P2: hdr[3]}
			for _, o := range fields[4:] {
				switch {
				case strings.HasPrefix(o, "data="):
					tr.cmd.Data = unhex(t, o[5:])
				case strings.HasPrefix(o, "le="):
					tr.cmd.Le, err = strconv.Atoi(o[3:])
				default:
					t.Fatalf("%s:%d: unknown field %q", path, n, o)
				}
			}
		case ">":
			tr.script = append(tr.script, exchange{cmd: rest})
		case "<":
			if len(tr.script) == 0 || tr.script[len(tr.script)-1].resp != "" {
				t.Fatalf("%s:%d: response without a command", path, n)
			}
			tr.script[len(tr.script)-1].resp = rest
		case "want":
			tr.want = unhex(t, rest)
		case "error":
			sw, perr := strconv.ParseUint(rest, 16, 16)
			if perr != nil {
				t.Fatalf("%s:%d: %v", path, n, perr)
			}
			tr.wantErr = uint16(sw)
		default:
			t.Fatalf("%s:%d: unknown line %q", path, n, word)
		}
		if err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestTranscripts(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "transcripts", "*.txt"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no transcripts in testdata/transcripts: %v", err)
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			tc := parseTranscript(t, path)
			card := &scriptCard{t: t, script: tc.script}
			tr := NewTransport(card, tc.opts)
			got, err := tr.Do(context.Background(), tc.cmd)
			if card.n != len(tc.script) {
				t.Errorf("%d of %d APDUs of the transcript sent", card.n, len(tc.script))
			}
			if tc.wantErr != 0 {
				var se *StatusError
				if !errors.As(err, &se) || se.SW != tc.wantErr {
					t.Fatalf("Do = %v, want status %04X", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("Do returned %d bytes, want %d", len(got), len(tc.want))
			}
		})
	}
}
