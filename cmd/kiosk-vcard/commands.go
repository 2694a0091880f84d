// The commands: new-card, insert and show.

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"smartpath/pcsc/piv"
	"smartpath/testing/pki"
	"smartpath/testing/vcard"
)

func newCard(args []string) error {
	fs := flags("new-card", "make a citizen card: a key and a certificate from the council PKI in 9A and 9C,\n"+
		"a CHUID with a random GUID, CCC, printed information and discovery; saved as JSON.\n"+
		"The PKI is made in --pki DIR (from --seed) when DIR holds none.",
		`kiosk-vcard new-card --name "Jane Citizen" --number C-1001 --pin 123456 --puk 12345678 --alg p256 --pki ./pki --out jane.json`)
	name := fs.String("name", "", "citizen's name: certificate CN and printed name (required)")
	number := fs.String("number", "C-1001", "citizen number: certificate subject serialNumber")
	pin := fs.String("pin", vcard.DefaultPIN, fmt.Sprintf("PIN, %d to %d digits", piv.PINMinLen, piv.PINMaxLen))
	puk := fs.String("puk", vcard.DefaultPUK, "PUK, 6 to 8 digits")
	alg := fs.String("alg", "p256", "key algorithm: rsa2048, p256 or p384")
	pkiDir := fs.String("pki", "pki", "directory of the council PKI (created when missing)")
	seed := fs.String("seed", pki.DefaultSeed, "seed of a new PKI (the same seed gives the same CA)")
	out := fs.String("out", "CARD.json", "card file to write")
	force := fs.Bool("force", false, "overwrite --out if it exists")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *name == "" {
		return usageError{errors.New("--name is required")}
	}
	a, err := vcard.ParseAlg(*alg)
	if err != nil {
		return usageError{err}
	}
	if _, err := os.Stat(*out); err == nil && !*force {
		return fmt.Errorf("%s exists; choose another --out or pass --force to replace that card", *out)
	}
	p, err := pki.LoadOrCreate(*pkiDir, *seed)
	if err != nil {
		return err
	}
	c, err := vcard.NewCitizenCard(p, vcard.Citizen{Name: *name, Number: *number, Alg: a,
		Options: vcard.Options{PIN: *pin, PUK: *puk}})
	if err != nil {
		return err
	}
	if err := c.Save(*out); err != nil {
		return err
	}
	fmt.Printf("wrote %s (PKI in %s)\n%s", *out, *pkiDir, c.Summary())
	return nil
}

func insert(args []string) error {
	fs := flags("insert", "insert the card into pcscd's vpcd reader while this runs; SIGINT or SIGTERM removes it.\n"+
		"PIN tries and other changes are saved back to --card as they happen. Reconnects when pcscd restarts.",
		"kiosk-vcard insert --card jane.json --port 35963")
	path := fs.String("card", "CARD.json", "card file (made by new-card)")
	addr := fs.String("addr", vcard.DefaultVPCDAddr, "vpcd reader address host:port")
	port := fs.Int("port", 0, "vpcd reader port on 127.0.0.1 (overrides --addr; 35963 is reader 0, 35964 reader 1)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *port != 0 {
		*addr = "127.0.0.1:" + strconv.Itoa(*port)
	}
	c, err := vcard.Load(*path)
	if err != nil {
		return err
	}
	c.SetOnChange(func() {
		if err := c.Save(*path); err != nil {
			fmt.Fprintf(os.Stderr, "kiosk-vcard: %v\n", err)
		}
	})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Printf("inserting card %d into vpcd at %s; Ctrl-C removes it\n", c.Serial(), *addr)
	err = vcard.Serve(ctx, c, *addr, func(err error) {
		fmt.Fprintf(os.Stderr, "kiosk-vcard: %v; inserting again\n", err)
	})
	if serr := c.Save(*path); serr != nil && err == nil {
		err = serr
	}
	if err == nil {
		fmt.Println("card removed")
	}
	return err
}

func show(args []string) error {
	fs := flags("show", "describe a card file: serial, PIN and PUK tries, keys, certificates, data objects.",
		"kiosk-vcard show --card jane.json")
	path := fs.String("card", "CARD.json", "card file")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, err := vcard.Load(*path)
	if err != nil {
		return err
	}
	_, err = io.WriteString(os.Stdout, c.Summary())
	return err
}
