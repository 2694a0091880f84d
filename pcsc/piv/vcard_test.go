package piv

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"sync"
	"testing"
	"time"

	"smartpath/pcsc"
	"smartpath/testing/pki"
	"smartpath/testing/vcard"
)

// The tests in this file run the client against smartpath/testing/vcard, the full virtual
// card, in process. The integration tests run the same card through the real pcscd.

var testPKI = sync.OnceValues(func() (*pki.PKI, error) { return pki.New("pcsc/piv tests") })

// cardAlgs maps this package's algorithms to vcard's.
var cardAlgs = map[Algorithm]vcard.Alg{AlgRSA2048: vcard.AlgRSA2048, AlgECCP256: vcard.AlgP256, AlgECCP384: vcard.AlgP384}

// issuedCard is a virtual card personalised the way an issuer does it, through this
// package's own management commands.
type issuedCard struct {
	card  *vcard.Card
	cert  *x509.Certificate // slot 9A
	cert9 *x509.Certificate // slot 9C
}

// issueVCard makes a blank virtual card and issues it through a Client: management key,
// key generation in 9A and 9C, citizen certificates from the test PKI, and a CHUID.
func issueVCard(t testing.TB, alg Algorithm, opts vcard.Options) issuedCard {
	t.Helper()
	ctx := context.Background()
	card, err := vcard.New(opts)
	if err != nil {
		t.Fatalf("vcard.New: %v", err)
	}
	p, err := testPKI()
	if err != nil {
		t.Fatalf("test PKI: %v", err)
	}
	c, err := Open(ctx, card, Options{})
	if err != nil {
		t.Fatalf("Open a blank card: %v", err)
	}
	if err := c.AuthenticateManagementKey(ctx, Alg3DES, vcard.DefaultManagementKey); err != nil {
		t.Fatalf("AuthenticateManagementKey: %v", err)
	}
	out := issuedCard{card: card}
	for _, slot := range []Slot{Slot9A, Slot9C} {
		pub, err := c.GenerateKey(ctx, slot, alg)
		if err != nil {
			t.Fatalf("GenerateKey %s %s: %v", slot, alg, err)
		}
		cert, err := p.IssueCitizen("Jane Citizen", "C-1001-"+slot.String(), pub)
		if err != nil {
			t.Fatalf("IssueCitizen: %v", err)
		}
		if err := c.PutCertificate(ctx, slot, cert); err != nil {
			t.Fatalf("PutCertificate %s: %v", slot, err)
		}
		if slot == Slot9A {
			out.cert = cert
		} else {
			out.cert9 = cert
		}
	}
	guid := [16]byte{0xC0, 0x0C, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}
	if err := card.SetObject(vcard.TagCHUID, vcard.CHUIDObject(guid, time.Date(2040, 6, 30, 0, 0, 0, 0, time.UTC))); err != nil {
		t.Fatalf("SetObject CHUID: %v", err)
	}
	card.Reset()
	return out
}

// verifySignature checks sig over digest with the certificate's public key.
func verifySignature(t testing.TB, cert *x509.Certificate, digest, sig []byte, opts crypto.SignerOpts) {
	t.Helper()
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		var err error
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			err = rsa.VerifyPSS(pub, pss.Hash, digest, sig, pss)
		} else {
			err = rsa.VerifyPKCS1v15(pub, opts.HashFunc(), digest, sig)
		}
		if err != nil {
			t.Fatalf("RSA signature does not verify with the certificate: %v", err)
		}
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, digest, sig) {
			t.Fatal("ECDSA signature does not verify with the certificate")
		}
	default:
		t.Fatalf("certificate key %T", pub)
	}
}

func TestVirtualCardSession(t *testing.T) {
	for _, alg := range []Algorithm{AlgRSA2048, AlgECCP256, AlgECCP384} {
		for _, extended := range []bool{false, true} {
			name := alg.String()
			if extended {
				name += "/extended"
			}
			t.Run(name, func(t *testing.T) {
				ctx := context.Background()
				ic := issueVCard(t, alg, vcard.Options{ExtendedLength: extended})
				c, err := Open(ctx, ic.card, Options{Extended: extended})
				if err != nil {
					t.Fatal(err)
				}
				id, err := c.ReadIdentity(ctx)
				if err != nil {
					t.Fatalf("ReadIdentity: %v", err)
				}
				if !id.Certificate.Equal(ic.cert) || id.CHUID == nil || id.CHUID.GUID[0] != 0xC0 ||
					id.CHUID.Expiry.Year() != 2040 || id.PIN != (PINStatus{Retries: 3}) {
					t.Fatalf("identity = %+v (CHUID %+v)", id, id.CHUID)
				}
				d, err := c.Discovery(ctx)
				if err != nil || !d.PINPolicy.ApplicationPIN {
					t.Fatalf("Discovery = %+v, %v", d, err)
				}

				err = c.VerifyPIN(ctx, []byte("999999"))
				var wp *pcsc.WrongPINError
				if !errors.As(err, &wp) || wp.Retries != 2 {
					t.Fatalf("wrong PIN: %v", err)
				}
				if st, err := c.PINRetries(ctx); err != nil || st.Retries != 2 {
					t.Fatalf("PINRetries = %+v, %v", st, err)
				}
				if err := c.VerifyPIN(ctx, []byte(vcard.DefaultPIN)); err != nil {
					t.Fatalf("right PIN: %v", err)
				}
				if st, err := c.PINRetries(ctx); err != nil || !st.Verified {
					t.Fatalf("PINRetries after VERIFY = %+v, %v", st, err)
				}

				s, err := c.Signer(Slot9A, id.Certificate.PublicKey)
				if err != nil {
					t.Fatal(err)
				}
				digest := sha256.Sum256([]byte("TLS 1.3 CertificateVerify"))
				opts := []crypto.SignerOpts{crypto.SHA256}
				if alg == AlgRSA2048 {
					opts = append(opts, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
				}
				for _, o := range opts {
					before := ic.card.Signatures()
					sig, err := s.SignContext(ctx, rand.Reader, digest[:], o)
					if err != nil {
						t.Fatalf("SignContext(%T): %v", o, err)
					}
					verifySignature(t, id.Certificate, digest[:], sig, o)
					if n := ic.card.Signatures() - before; n != 1 {
						t.Fatalf("%d card signatures for one Sign", n)
					}
				}

				// 9C wants the PIN right before each signature.
				cert9, err := c.Certificate(ctx, Slot9C)
				if err != nil {
					t.Fatal(err)
				}
				s9, _ := c.Signer(Slot9C, cert9.PublicKey)
				if _, err := s9.SignContext(ctx, rand.Reader, digest[:], crypto.SHA256); !errors.Is(err, ErrPINRequired) {
					t.Fatalf("9C without a prompt: %v", err)
				}
				s9.SetPINPrompt(func(context.Context) ([]byte, error) { return []byte(vcard.DefaultPIN), nil })
				sig, err := s9.SignContext(ctx, rand.Reader, digest[:], crypto.SHA256)
				if err != nil {
					t.Fatalf("9C with a prompt: %v", err)
				}
				verifySignature(t, cert9, digest[:], sig, crypto.SHA256)

				if err := c.Logout(ctx); err != nil {
					t.Fatalf("Logout: %v", err)
				}
				if _, err := s.SignContext(ctx, rand.Reader, digest[:], crypto.SHA256); !errors.Is(err, ErrPINRequired) {
					t.Fatalf("sign after Logout: %v, want ErrPINRequired", err)
				}
			})
		}
	}
}

func TestVirtualCardBlockAndUnblock(t *testing.T) {
	ctx := context.Background()
	ic := issueVCard(t, AlgECCP256, vcard.Options{})
	c, err := Open(ctx, ic.card, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for want := 2; want >= 0; want-- {
		err := c.VerifyPIN(ctx, []byte("000000"))
		var wp *pcsc.WrongPINError
		if !errors.As(err, &wp) || wp.Retries != want {
			t.Fatalf("wrong PIN: %v, want %d left", err, want)
		}
	}
	if st, err := c.PINRetries(ctx); err != nil || !st.Blocked {
		t.Fatalf("PINRetries on a blocked card = %+v, %v", st, err)
	}
	if err := c.VerifyPIN(ctx, []byte(vcard.DefaultPIN)); !errors.Is(err, pcsc.ErrAuthBlocked) {
		t.Fatalf("right PIN on a blocked card: %v", err)
	}
	if err := c.UnblockPIN(ctx, []byte(vcard.DefaultPUK), []byte("246810")); err != nil {
		t.Fatalf("UnblockPIN: %v", err)
	}
	if err := c.VerifyPIN(ctx, []byte("246810")); err != nil {
		t.Fatalf("new PIN: %v", err)
	}
	if err := c.ChangePIN(ctx, []byte("246810"), []byte("13572468")); err != nil {
		t.Fatalf("ChangePIN: %v", err)
	}
	if err := c.VerifyPIN(ctx, []byte("13572468")); err != nil {
		t.Fatalf("changed PIN: %v", err)
	}
}

func TestVirtualCardFaults(t *testing.T) {
	ctx := context.Background()
	ic := issueVCard(t, AlgRSA2048, vcard.Options{})
	c, err := Open(ctx, ic.card, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.VerifyPIN(ctx, []byte(vcard.DefaultPIN)); err != nil {
		t.Fatal(err)
	}
	s, _ := c.Signer(Slot9A, ic.cert.PublicKey)
	digest := sha256.Sum256([]byte("x"))

	// Pulled at the second block of the chained GENERAL AUTHENTICATE.
	ic.card.SetEmulation(vcard.Emulation{DropAtAPDU: 2})
	if _, err := s.SignContext(ctx, rand.Reader, digest[:], crypto.SHA256); !errors.Is(err, vcard.ErrRemoved) {
		t.Fatalf("card dropped mid-sign: %v", err)
	}
	ic.card.Reset()

	// A mute card: the context bounds the wait.
	ic.card.SetEmulation(vcard.Emulation{Mute: true})
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := s.SignContext(tctx, rand.Reader, digest[:], crypto.SHA256); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("mute card: %v", err)
	}

	// Garbage answers are errors.
	ic.card.SetEmulation(vcard.Emulation{Garbage: true})
	if _, err := c.PINRetries(ctx); err == nil {
		t.Fatal("garbage accepted as a PIN status")
	}
	if _, err := Open(ctx, ic.card, Options{}); err == nil {
		t.Fatal("garbage accepted as a SELECT answer")
	}
}

// TestConcurrentUse signs and reads from several goroutines at once: the Client serialises
// them, every signature verifies, and the card counts one signature per call.
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	ic := issueVCard(t, AlgECCP256, vcard.Options{})
	c, err := Open(ctx, ic.card, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.VerifyPIN(ctx, []byte(vcard.DefaultPIN)); err != nil {
		t.Fatal(err)
	}
	s, _ := c.Signer(Slot9A, ic.cert.PublicKey)
	digest := sha256.Sum256([]byte("parallel"))
	const n = 8
	errs := make(chan error, 2*n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			sig, err := s.SignContext(ctx, rand.Reader, digest[:], crypto.SHA256)
			if err == nil && !ecdsa.VerifyASN1(ic.cert.PublicKey.(*ecdsa.PublicKey), digest[:], sig) {
				err = errors.New("signature does not verify")
			}
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := c.PINRetries(ctx)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := ic.card.Signatures(); got != n {
		t.Fatalf("card made %d signatures, want %d", got, n)
	}
}
