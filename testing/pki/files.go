package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// File names in a PKI directory.
const (
	RootFile       = "council-root.pem"
	RootKeyFile    = "council-root-key.pem"
	IssuingFile    = "council-issuing.pem"
	IssuingKeyFile = "council-issuing-key.pem"
	BundleFile     = "council-ca-bundle.pem" // root then issuing CA
	ServerFile     = "server.pem"            // server leaf then issuing CA
	ServerKeyFile  = "server-key.pem"
)

// maxPEMFile bounds what is read from a PKI directory.
const maxPEMFile = 64 << 10

var caFiles = []string{RootFile, RootKeyFile, IssuingFile, IssuingKeyFile, BundleFile}

// LoadOrCreate returns the council PKI kept in dir. When dir holds none of the CA files, the
// PKI is derived from seed and its files written (dir is created, mode 0700; keys 0600). When
// dir holds all of them they are loaded as they are, and seed is used only for server keys.
// A directory with some of the files missing is an error.
func LoadOrCreate(dir, seed string) (*PKI, error) {
	if dir == "" {
		return nil, errors.New("pki: empty directory name")
	}
	var present, missing []string
	for _, name := range caFiles {
		_, err := os.Stat(filepath.Join(dir, name))
		switch {
		case err == nil:
			present = append(present, name)
		case errors.Is(err, fs.ErrNotExist):
			missing = append(missing, name)
		default:
			return nil, fmt.Errorf("pki: %w", err)
		}
	}
	switch {
	case len(present) == len(caFiles):
		return load(dir, seed)
	case len(present) > 0:
		return nil, fmt.Errorf("pki: %s holds an incomplete CA (missing %s); restore the files or empty the directory to make a new CA",
			dir, strings.Join(missing, ", "))
	}
	p, err := New(seed)
	if err != nil {
		return nil, err
	}
	p.dir = dir
	if err := p.writeCA(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *PKI) writeCA() error {
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	rootKey, err := keyPEM(p.rootKey)
	if err != nil {
		return err
	}
	issuingKey, err := keyPEM(p.issuingKey)
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{RootKeyFile, rootKey, 0o600},
		{IssuingKeyFile, issuingKey, 0o600},
		{RootFile, certPEM(p.root), 0o644},
		{IssuingFile, certPEM(p.issuing), 0o644},
		{BundleFile, append(certPEM(p.root), certPEM(p.issuing)...), 0o644},
	}
	for _, f := range files {
		if err := writeFileAtomic(filepath.Join(p.dir, f.name), f.data, f.mode); err != nil {
			return err
		}
	}
	return nil
}

func load(dir, seed string) (*PKI, error) {
	root, err := readCert(filepath.Join(dir, RootFile))
	if err != nil {
		return nil, err
	}
	issuing, err := readCert(filepath.Join(dir, IssuingFile))
	if err != nil {
		return nil, err
	}
	rootKey, err := readKey(filepath.Join(dir, RootKeyFile), root)
	if err != nil {
		return nil, err
	}
	issuingKey, err := readKey(filepath.Join(dir, IssuingKeyFile), issuing)
	if err != nil {
		return nil, err
	}
	if err := issuing.CheckSignatureFrom(root); err != nil {
		return nil, fmt.Errorf("pki: %s is not signed by %s: %w", IssuingFile, RootFile, err)
	}
	org := "SmartPath Test Council"
	if o := issuing.Subject.Organization; len(o) > 0 {
		org = o[0]
	}
	if seed == "" {
		seed = DefaultSeed
	}
	return &PKI{dir: dir, seed: seed, org: org, root: root, issuing: issuing, rootKey: rootKey, issuingKey: issuingKey}, nil
}

// WriteServer issues the server certificate of [PKI.IssueServer] and writes it to server.pem
// (leaf then issuing CA) and its key to server-key.pem (0600) in the PKI's directory,
// returning both paths.
func (p *PKI) WriteServer(names ...string) (certFile, keyFile string, err error) {
	if p.dir == "" {
		return "", "", errors.New("pki: this PKI has no directory; use LoadOrCreate")
	}
	cert, err := p.IssueServer(names...)
	if err != nil {
		return "", "", err
	}
	key, err := keyPEM(cert.PrivateKey.(crypto.Signer))
	if err != nil {
		return "", "", err
	}
	var chain []byte
	for _, der := range cert.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	certFile, keyFile = filepath.Join(p.dir, ServerFile), filepath.Join(p.dir, ServerKeyFile)
	if err := writeFileAtomic(keyFile, key, 0o600); err != nil {
		return "", "", err
	}
	if err := writeFileAtomic(certFile, chain, 0o644); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func keyPEM(k crypto.Signer) ([]byte, error) {
	if d, ok := k.(deterministicSigner); ok {
		k = d.key
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("pki: encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func readPEM(path, want string) ([]byte, error) {
	data, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != want {
		return nil, fmt.Errorf("pki: %s: no %s PEM block; restore the file or empty the directory", path, want)
	}
	return block.Bytes, nil
}

func readCert(path string) (*x509.Certificate, error) {
	der, err := readPEM(path, "CERTIFICATE")
	if err != nil {
		return nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: %s: %w", path, err)
	}
	if !c.IsCA {
		return nil, fmt.Errorf("pki: %s is not a CA certificate", path)
	}
	return c, nil
}

// readKey reads a PKCS#8 key and checks that it belongs to cert.
func readKey(path string, cert *x509.Certificate) (crypto.Signer, error) {
	der, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("pki: %s: %w", path, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("pki: %s: key of type %T cannot sign", path, k)
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if pub, ok := signer.Public().(equaler); !ok || !pub.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("pki: %s does not match the certificate next to it", path)
	}
	if ec, ok := signer.(*ecdsa.PrivateKey); ok {
		return deterministicSigner{ec}, nil
	}
	return signer, nil
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPEMFile+1))
	if err != nil {
		return nil, fmt.Errorf("pki: read %s: %w", path, err)
	}
	if len(data) > maxPEMFile {
		return nil, fmt.Errorf("pki: %s is larger than %d bytes; it is not a PKI file", path, maxPEMFile)
	}
	return data, nil
}

// writeFileAtomic writes data to a temporary file next to path and renames it into place.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("pki: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	return nil
}
