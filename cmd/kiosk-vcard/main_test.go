package main

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"smartpath/testing/vcard"
)

func TestNewCardAndShow(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "jane.json")
	pkiDir := filepath.Join(dir, "pki")
	err := newCard([]string{"--name", "Jane Citizen", "--number", "C-1001", "--pin", "246810", "--alg", "p384", "--pki", pkiDir, "--out", out})
	if err != nil {
		t.Fatal(err)
	}
	c, err := vcard.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := c.Certificate(vcard.SlotSignature)
	if err != nil || cert.Subject.CommonName != "Jane Citizen" || cert.Subject.SerialNumber != "C-1001" {
		t.Fatalf("9C certificate %v, %v", cert, err)
	}
	if _, err := os.Stat(filepath.Join(pkiDir, "council-ca-bundle.pem")); err != nil {
		t.Errorf("PKI not made: %v", err)
	}
	if err := show([]string{"--card", out}); err != nil {
		t.Fatal(err)
	}
	// An existing card is not overwritten by accident.
	err = newCard([]string{"--name", "Other", "--pki", pkiDir, "--out", out})
	if err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("overwrite: %v, want advice to use --force", err)
	}
	var ue usageError
	for _, args := range [][]string{
		{"--pki", pkiDir, "--out", out + "2"},                   // no name
		{"--name", "X", "--alg", "rsa1024", "--out", out + "3"}, // bad algorithm
		{"--name", "X", "--bogus"},                              // unknown flag
	} {
		if err := newCard(args); !errors.As(err, &ue) {
			t.Errorf("new-card %v: err = %v, want a usage error", args, err)
		}
	}
	if err := newCard([]string{"--name", "X", "--pin", "12", "--pki", pkiDir, "--out", out + "4"}); err == nil || errors.As(err, &ue) {
		t.Errorf("short PIN: err = %v, want a card error", err)
	}
}

// TestInsertSavesChanges inserts a card into a fake vpcd reader, spends a PIN try, and checks
// that the card file follows; SIGINT removes the card.
func TestInsertSavesChanges(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "card.json")
	if err := newCard([]string{"--name", "Jane Citizen", "--pki", filepath.Join(dir, "pki"), "--out", path}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() { done <- insert([]string{"--card", path, "--addr", ln.Addr().String()}) }()
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	apdu := []byte{0x00, 0x20, 0x00, 0x80, 0x08, '9', '9', '9', '9', '9', '9', 0xFF, 0xFF}
	conn.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(apdu))), apdu...))
	var hdr [2]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		t.Fatal(err)
	}
	resp := make([]byte, binary.BigEndian.Uint16(hdr[:]))
	io.ReadFull(conn, resp)
	if string(resp) != "\x63\xC2" {
		t.Fatalf("wrong PIN answered %X", resp)
	}
	c, err := vcard.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.PINTriesLeft() != 2 {
		t.Errorf("card file says %d PIN tries left, want 2", c.PINTriesLeft())
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("insert: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("insert did not end on SIGINT")
	}
}
