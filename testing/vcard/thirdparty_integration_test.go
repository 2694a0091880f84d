//go:build integration

package vcard

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"smartpath/testing/pcscdtest"
)

const opensсPKCS11 = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"

// tool runs a third-party client with a timeout and returns its combined output.
func tool(t *testing.T, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is not installed: run `make deps` (apt-get install opensc yubico-piv-tool openssl)", name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func wantOutput(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s output lacks %q:\n%s", what, w, out)
		}
	}
}

// TestThirdPartyClients checks that common PIV tools accept the virtual card through the
// real pcscd: OpenSC names it and lists its objects, its PKCS#11 module logs in and signs
// with 9A (openssl verifies with the certificate), and yubico-piv-tool shows its status.
func TestThirdPartyClients(t *testing.T) {
	if _, err := os.Stat(opensсPKCS11); err != nil {
		t.Fatalf("OpenSC's PKCS#11 module is missing (%v): run `make deps` (apt-get install opensc)", err)
	}
	d := pcscdtest.Start(t)
	for _, alg := range []Alg{AlgRSA2048, AlgP256, AlgP384} {
		t.Run(alg.String(), func(t *testing.T) {
			c, _ := citizenCard(t, alg)
			in := insertCard(t, d, 0, c)
			defer in.remove(t, d, 0)
			dir := t.TempDir()

			out := tool(t, "opensc-tool", "--reader", "0", "--name")
			wantOutput(t, "opensc-tool --name", out, "Personal Identity Verification Card")

			out = tool(t, "pkcs15-tool", "--reader", "0", "-D")
			wantOutput(t, "pkcs15-tool -D", out, "X.509 Certificate [Certificate for PIV Authentication]",
				"X.509 Certificate [Certificate for Digital Signature]", "Jane Citizen")

			// pkcs11-tool signs with the 9A key (ID 01); openssl verifies with its certificate.
			msg := filepath.Join(dir, "msg.txt")
			os.WriteFile(msg, []byte("SmartPath third-party signature test\n"), 0o644)
			certDER := filepath.Join(dir, "cert.der")
			tool(t, "pkcs11-tool", "--module", opensсPKCS11, "--read-object", "--type", "cert", "--id", "01", "-o", certDER)
			der, err := os.ReadFile(certDER)
			if err != nil {
				t.Fatal(err)
			}
			cert, err := c.Certificate(SlotAuthentication)
			if err != nil || !bytes.Equal(der, cert.Raw) {
				t.Fatalf("pkcs11-tool read a different 9A certificate (%v)", err)
			}
			certPEM := filepath.Join(dir, "cert.pem")
			os.WriteFile(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
			sig := filepath.Join(dir, "sig.bin")
			before := c.Signatures()
			if alg == AlgRSA2048 {
				tool(t, "pkcs11-tool", "--module", opensсPKCS11, "--login", "--pin", DefaultPIN, "--sign",
					"--mechanism", "RSA-PKCS", "--id", "01", "-i", msg, "-o", sig)
				tool(t, "openssl", "pkeyutl", "-verify", "-certin", "-inkey", certPEM, "-in", msg, "-sigfile", sig,
					"-pkeyopt", "rsa_padding_mode:pkcs1")
			} else {
				// Mechanism ECDSA signs a digest; the openssl format is DER, as openssl expects.
				data, _ := os.ReadFile(msg)
				var digest []byte
				if alg == AlgP256 {
					s := sha256.Sum256(data)
					digest = s[:]
				} else {
					s := sha512.Sum384(data)
					digest = s[:]
				}
				hashFile := filepath.Join(dir, "msg.hash")
				os.WriteFile(hashFile, digest, 0o644)
				tool(t, "pkcs11-tool", "--module", opensсPKCS11, "--login", "--pin", DefaultPIN, "--sign",
					"--mechanism", "ECDSA", "--signature-format", "openssl", "--id", "01", "-i", hashFile, "-o", sig)
				tool(t, "openssl", "pkeyutl", "-verify", "-certin", "-inkey", certPEM, "-in", hashFile, "-sigfile", sig)
			}
			if n := c.Signatures() - before; n != 1 {
				t.Errorf("pkcs11-tool made %d card signatures, want 1", n)
			}

			out = tool(t, "yubico-piv-tool", "-r", "Virtual", "-a", "status")
			wantOutput(t, "yubico-piv-tool -a status", out, "Slot 9a:", "Slot 9c:", "CN=Jane Citizen",
				"PIN tries left:\t3", "CHUID:", "Serial Number:\t12345678")
		})
	}
}
