package jwt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/plugins/jwt/jwttest"
)

// testPKI is a certificate authority with a server certificate for
// 127.0.0.1 and a client certificate, all generated in the test.
type testPKI struct {
	caPEM, serverPEM, serverKeyPEM, clientPEM, clientKeyPEM []byte
	pool                                                    *x509.CertPool
}

func newTestPKI(t *testing.T, clientCN string) testPKI {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	now := time.Now()
	caKey := key()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "authx test CA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, tmpl *x509.Certificate) ([]byte, []byte) {
		k := key()
		tmpl.SerialNumber, tmpl.NotBefore, tmpl.NotAfter = big.NewInt(serial), now.Add(-time.Hour), now.Add(time.Hour)
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return pemBlock("CERTIFICATE", der), pemPKCS8(k)
	}
	p := testPKI{caPEM: pemBlock("CERTIFICATE", caDER), pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.serverPEM, p.serverKeyPEM = issue(2, &x509.Certificate{Subject: pkix.Name{CommonName: "127.0.0.1"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	p.clientPEM, p.clientKeyPEM = issue(3, &x509.Certificate{Subject: pkix.Name{CommonName: clientCN}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return p
}

// A token endpoint that requires a client certificate from the test CA,
// with tls_client_auth (RFC 8705): ca_file makes the server trusted,
// client_cert and client_key authenticate the client.
func TestOAuth2TLSClientAuth(t *testing.T) {
	pki := newTestPKI(t, "mtls-client")
	serverCert, err := tls.X509KeyPair(pki.serverPEM, pki.serverKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	srv := jwttest.Start(jwttest.Options{
		TLS:        &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pki.pool},
		Clients:    map[string]string{"cli": "s3cret-client"},
		TLSClients: map[string]string{"mtls": "mtls-client", "other": "someone-else"},
	})
	defer srv.Close()
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caFile, certFile := write("ca.pem", pki.caPEM), write("client.pem", pki.clientPEM)
	otherPKI := newTestPKI(t, "mtls-client")
	tests := []struct {
		name string
		cfg  core.Config
		kind core.Kind
		msg  string
	}{
		{"tls_client_auth", core.Config{"client_id": "mtls", "client_auth": "tls_client_auth", "ca_file": caFile, "client_cert": certFile, "client_key": string(pki.clientKeyPEM)}, 0, ""},
		{"a secret over mutual TLS", core.Config{"client_id": "cli", "client_secret": "s3cret-client", "ca_file": caFile, "client_cert": certFile, "client_key": string(pki.clientKeyPEM)}, 0, ""},
		{"the certificate of another client", core.Config{"client_id": "other", "client_auth": "tls_client_auth", "ca_file": caFile, "client_cert": certFile, "client_key": string(pki.clientKeyPEM)}, core.KindRejected, "(invalid_client)"},
		{"no client certificate", core.Config{"client_id": "cli", "client_secret": "s3cret-client", "ca_file": caFile}, core.KindNetwork, "token request " + srv.URL},
		{"no ca_file", core.Config{"client_id": "mtls", "client_auth": "tls_client_auth", "client_cert": certFile, "client_key": string(pki.clientKeyPEM)}, core.KindNetwork, "certificate signed by unknown authority"},
		{"a key of another certificate", core.Config{"client_id": "mtls", "client_auth": "tls_client_auth", "ca_file": caFile, "client_cert": certFile, "client_key": string(otherPKI.clientKeyPEM)}, core.KindConfig, "client_cert, client_key: the private key does not match the certificate"},
		{"client_key not PEM", core.Config{"client_id": "mtls", "client_auth": "tls_client_auth", "ca_file": caFile, "client_cert": certFile, "client_key": "hunter2-not-a-key"}, core.KindConfig, "client_key is not a PEM private key"},
		{"ca_file missing", core.Config{"client_id": "cli", "client_secret": "s3cret-client", "ca_file": filepath.Join(dir, "nope.pem")}, core.KindConfig, "ca_file: " + filepath.Join(dir, "nope.pem") + ": cannot read it: no such file or directory"},
		{"ca_file a directory", core.Config{"client_id": "cli", "client_secret": "s3cret-client", "ca_file": dir}, core.KindConfig, "not a regular file"},
		{"ca_file without a certificate", core.Config{"client_id": "cli", "client_secret": "s3cret-client", "ca_file": write("empty.pem", []byte("nothing here\n"))}, core.KindConfig, "holds no PEM certificate"},
		{"ca_file too large", core.Config{"client_id": "cli", "client_secret": "s3cret-client", "ca_file": write("big.pem", make([]byte, maxPEMFile+1))}, core.KindConfig, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := oauth2Login(t, New(), srv.URL+"/oauth/token", tt.cfg)
			if tt.kind != 0 {
				requireKind(t, err, tt.kind, tt.msg, []byte("hunter2"), pki.clientKeyPEM[40:80])
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := claimsOf(t, c.Token)["client_id"]; got != tt.cfg["client_id"] {
				t.Fatalf("client_id %v", got)
			}
		})
	}
}

// One client per TLS setting: connections are reused, not rebuilt.
func TestHTTPClientReused(t *testing.T) {
	pki := newTestPKI(t, "c")
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, pki.caPEM, 0o600)
	s := New()
	st := &settings{caFile: caFile}
	a, err := s.httpClient(st)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.httpClient(&settings{caFile: caFile})
	if a != b || a == s.client() {
		t.Fatalf("clients %p %p (default %p)", a, b, s.client())
	}
	if plain, _ := s.httpClient(&settings{}); plain != s.client() {
		t.Fatal("a profile without TLS settings should use the plain client")
	}
}
