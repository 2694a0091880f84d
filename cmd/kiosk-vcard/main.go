// Command kiosk-vcard makes virtual PIV cards for SmartPath tests and demos and inserts
// them into pcscd's virtual reader (vsmartcard-vpcd). Run `kiosk-vcard -h` for usage.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

const usage = `kiosk-vcard makes virtual PIV smart cards and inserts them into pcscd's virtual reader.

Usage:
  kiosk-vcard new-card [flags]   make a citizen card (key and certificate in 9A and 9C, CHUID, …)
  kiosk-vcard insert [flags]     insert a card into vpcd until interrupted (Ctrl-C removes it)
  kiosk-vcard show [flags]       describe a card file
  kiosk-vcard COMMAND -h         the flags of a command

Examples:
  kiosk-vcard new-card --name "Jane Citizen" --number C-1001 --pin 123456 --alg rsa2048 --pki ./pki --out jane.json
  kiosk-vcard insert --card jane.json --port 35963
  kiosk-vcard show --card jane.json

Exit status: 0 success, 1 failure, 2 wrong usage.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{"new-card": newCard, "insert": insert, "show": show}
	run, ok := cmds[os.Args[1]]
	if !ok {
		if h := os.Args[1]; h == "-h" || h == "--help" || h == "help" {
			fmt.Print(usage)
			return
		}
		fmt.Fprintf(os.Stderr, "kiosk-vcard: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err := run(os.Args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(os.Stderr, "kiosk-vcard %s: %v (see kiosk-vcard %s -h)\n", os.Args[1], err, os.Args[1])
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "kiosk-vcard %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

type usageError struct{ error }

// flags makes a flag set whose -h shows what the command does and an example.
func flags(name, about, example string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "kiosk-vcard %s: %s\n\nExample:\n  %s\n\nFlags:\n", name, about, example)
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}
