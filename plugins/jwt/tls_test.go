package jwt

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/tlsconfig"
	"github.com/authx/authx/plugins/jwt/jwttest"
)

func newPKI(t *testing.T, clientCN string) *jwttest.PKI {
	t.Helper()
	p, err := jwttest.NewPKI(clientCN)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A token endpoint that requires a client certificate from the test CA,
// with tls_client_auth (RFC 8705): ca_file makes the server trusted,
// client_cert and client_key authenticate the client.
func TestOAuth2TLSClientAuth(t *testing.T) {
	pki := newPKI(t, "mtls-client")
	srv := jwttest.Start(jwttest.Options{
		TLS:        pki.ServerTLS(),
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
	caFile, certFile := write("ca.pem", pki.CAPEM), write("client.pem", pki.ClientPEM)
	otherPKI := newPKI(t, "mtls-client")
	tests := []struct {
		name string
		cfg  core.Config
		kind core.Kind
		msg  string
	}{
		{"tls_client_auth", core.Config{"client_id": "mtls", "client_auth": "tls_client_auth", "ca_file": caFile, "client_cert": certFile, "client_key": string(pki.ClientKey)}, 0, ""},
		{"a secret over mutual TLS", core.Config{"client_id": "cli", "client_secret": "s3cret-client", "ca_file": caFile, "client_cert": certFile, "client_key": string(pki.ClientKey)}, 0, ""},
		{"the certificate of another client", core.Config{"client_id": "other", "client_auth": "tls_client_auth", "ca_file": caFile, "client_cert": certFile, "client_key": string(pki.ClientKey)}, core.KindRejected, "(invalid_client)"},
		{"no client certificate", core.Config{"client_id": "cli", "client_secret": "s3cret-client", "ca_file": caFile}, core.KindNetwork, "token request " + srv.URL},
		{"no ca_file", core.Config{"client_id": "mtls", "client_auth": "tls_client_auth", "client_cert": certFile, "client_key": string(pki.ClientKey)}, core.KindNetwork, "certificate signed by unknown authority"},
		{"a key of another certificate", core.Config{"client_id": "mtls", "client_auth": "tls_client_auth", "ca_file": caFile, "client_cert": certFile, "client_key": string(otherPKI.ClientKey)}, core.KindConfig, "client_cert, client_key: the private key does not match the certificate"},
		{"client_key not PEM", core.Config{"client_id": "mtls", "client_auth": "tls_client_auth", "ca_file": caFile, "client_cert": certFile, "client_key": "hunter2-not-a-key"}, core.KindConfig, "client_key is not a PEM private key"},
		{"ca_file missing", core.Config{"client_id": "cli", "client_secret": "s3cret-client", "ca_file": filepath.Join(dir, "nope.pem")}, core.KindConfig, "ca_file: " + filepath.Join(dir, "nope.pem") + ": cannot read it: no such file or directory"},
		{"ca_file a directory", core.Config{"client_id": "cli", "client_secret": "s3cret-client", "ca_file": dir}, core.KindConfig, "not a regular file"},
		{"ca_file without a certificate", core.Config{"client_id": "cli", "client_secret": "s3cret-client", "ca_file": write("empty.pem", []byte("nothing here\n"))}, core.KindConfig, "holds no PEM certificate"},
		{"ca_file too large", core.Config{"client_id": "cli", "client_secret": "s3cret-client", "ca_file": write("big.pem", make([]byte, tlsconfig.MaxPEMFile+1))}, core.KindConfig, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := oauth2Login(t, New(), srv.URL+"/oauth/token", tt.cfg)
			if tt.kind != 0 {
				requireKind(t, err, tt.kind, tt.msg, []byte("hunter2"), pki.ClientKey[40:80])
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
	pki := newPKI(t, "c")
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, pki.CAPEM, 0o600)
	s := New()
	st := &settings{tls: tlsconfig.Settings{CAFile: caFile}}
	a, err := s.httpClient(st)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.httpClient(&settings{tls: tlsconfig.Settings{CAFile: caFile}})
	if a != b || a == s.client() {
		t.Fatalf("clients %p %p (default %p)", a, b, s.client())
	}
	if plain, _ := s.httpClient(&settings{}); plain != s.client() {
		t.Fatal("a profile without TLS settings should use the plain client")
	}
}
