package graphsim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"time"
)

// Server is a Sim served over TLS on a loopback port. azidentity only accepts
// https authority hosts, so the emulator always speaks TLS, with a self-signed
// certificate made at Start.
type Server struct {
	// URL is both the Graph root (append /v1.0) and the authority host, e.g.
	// https://127.0.0.1:41234.
	URL string
	// Client trusts the server's certificate; it speaks HTTP/1.1.
	Client *http.Client
	// CertPool holds only the server's certificate.
	CertPool *x509.CertPool
	// Certificate is the server's self-signed certificate.
	Certificate *x509.Certificate

	srv *http.Server
}

// Start serves the Sim on 127.0.0.1 on a free port until Close.
func (s *Sim) Start() (*Server, error) { return serve(s.Handler()) }

// serve serves h on 127.0.0.1 over TLS on a free port until Close.
func serve(h http.Handler) (*Server, error) {
	cert, leaf, err := selfSignedCert(time.Now())
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("graphsim: listen: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)

	// HTTP/1.1 only, so that a dropped connection is exactly that (HTTP/2 would
	// reset one stream instead).
	var http1 http.Protocols
	http1.SetHTTP1(true)
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
		Protocols:         &http1,
	}
	tlsLn := tls.NewListener(ln, &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	})
	go func() { _ = srv.Serve(tlsLn) }() // returns ErrServerClosed on Close

	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		Protocols:           &http1,
		MaxIdleConns:        100,
		MaxIdleConnsPerHost: 100,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}}
	return &Server{
		URL:         "https://" + ln.Addr().String(),
		Client:      client,
		CertPool:    pool,
		Certificate: leaf,
		srv:         srv,
	}, nil
}

// Close stops the server at once: it closes the listener and every connection,
// which ends the requests still held (their contexts are cancelled).
func (s *Server) Close() {
	_ = s.srv.Close() // its only error is from closing the listener, which no caller can act on
	s.Client.CloseIdleConnections()
}

// selfSignedCert makes a P-256 certificate for 127.0.0.1, ::1 and localhost.
func selfSignedCert(now time.Time) (tls.Certificate, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("graphsim: certificate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("graphsim: certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "graphsim loopback", Organization: []string{"bulkreset graphsim"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("graphsim: certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("graphsim: certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf, nil
}
