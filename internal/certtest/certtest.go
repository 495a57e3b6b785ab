// Package certtest makes the self-signed certificates tests need: an app
// registration's certificate credential, as a certificate with its RSA key,
// or as the one PEM file an administrator keeps them in.
package certtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// New returns a self-signed certificate and its 2048-bit RSA key, valid
// from an hour before now to a day after.
func New(tb testing.TB, now time.Time) (*x509.Certificate, *rsa.PrivateKey) {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bulkreset test"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return cert, key
}

// WritePEM writes a new certificate (see New) and its key, PKCS#8, as one
// PEM file of mode 0600 in a temporary directory, and returns its path and
// the certificate.
func WritePEM(tb testing.TB, now time.Time) (string, *x509.Certificate) {
	tb.Helper()
	cert, key := New(tb, now)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	path := filepath.Join(tb.TempDir(), "app.pem")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path, cert
}

// WriteCA writes cert, a server's self-signed certificate, as a PEM file in
// a temporary directory and returns its path: the file SSL_CERT_FILE names
// so that a client trusts that server.
func WriteCA(tb testing.TB, cert *x509.Certificate) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}
