// Package pki is the test public-key infrastructure of SmartPath: a council root CA and an
// issuing CA, citizen certificates for the virtual PIV card, and server certificates for the
// demo council portal.
//
// # Determinism
//
// Everything is derived from a seed string. The CA and server keys are ECDSA keys whose
// scalars come from HKDF-SHA256 over the seed (ecdsa.ParseRawPrivateKey), and every
// certificate is signed with deterministic RFC 6979 ECDSA, with fixed validity dates and
// serial numbers derived from the certificate contents. The same seed therefore gives
// byte-identical CA certificates, server certificates and (for the same public key) citizen
// certificates, in any directory, on any machine.
//
// The PKI itself holds no RSA key. Since Go 1.26 crypto/rsa ignores a custom random reader
// when generating keys, so RSA keys cannot be derived from a seed with the standard library;
// RSA keys (card keys of an RSA-2048 card) are random and persisted by whoever owns them (the
// virtual card saves its keys in its CARD.json).
//
// # Files
//
// [LoadOrCreate] keeps the CA in a directory as PEM files: council-root.pem,
// council-issuing.pem, council-ca-bundle.pem (root then issuing) and the keys
// council-root-key.pem and council-issuing-key.pem (mode 0600). [PKI.WriteServer] adds
// server.pem (leaf then issuing CA) and server-key.pem.
//
// This package is for tests and demos only; production code never imports it.
package pki
