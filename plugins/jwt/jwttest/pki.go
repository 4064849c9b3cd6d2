package jwttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"time"
)

// PKI is a throwaway certificate authority with a server certificate for
// 127.0.0.1 and a client certificate, for tests of TLS settings (ca_file,
// client_cert, client_key) and of tls_client_auth (RFC 8705). Keys are
// P-256; every PEM is what a real deployment would hold in its files.
type PKI struct {
	CAPEM                []byte // the CA certificate: a ca_file
	ServerPEM, ServerKey []byte // 127.0.0.1's certificate and PKCS#8 key
	ClientPEM, ClientKey []byte // the client certificate and its PKCS#8 key
	ClientCN             string // the client certificate's subject common name
	pool                 *x509.CertPool
}

// NewPKI makes a PKI whose client certificate has subject common name
// clientCN. Certificates are valid from an hour ago for a day.
func NewPKI(clientCN string) (*PKI, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "jwttest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	issue := func(serial int64, tmpl *x509.Certificate) (certPEM, keyPEM []byte, err error) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		tmpl.SerialNumber, tmpl.NotBefore, tmpl.NotAfter = big.NewInt(serial), caTmpl.NotBefore, caTmpl.NotAfter
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			return nil, nil, err
		}
		pkcs8, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, nil, err
		}
		return pemOf("CERTIFICATE", der), pemOf("PRIVATE KEY", pkcs8), nil
	}
	p := &PKI{CAPEM: pemOf("CERTIFICATE", caDER), ClientCN: clientCN, pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	if p.ServerPEM, p.ServerKey, err = issue(2, &x509.Certificate{Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return nil, err
	}
	if p.ClientPEM, p.ClientKey, err = issue(3, &x509.Certificate{Subject: pkix.Name{CommonName: clientCN},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return nil, err
	}
	return p, nil
}

// ServerTLS is a server configuration for Options.TLS: the server
// certificate, and client certificates of this CA required and verified.
func (p *PKI) ServerTLS() *tls.Config {
	cert, err := tls.X509KeyPair(p.ServerPEM, p.ServerKey)
	if err != nil {
		panic("jwttest: the PKI's own server key pair: " + err.Error())
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.pool}
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
