package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authx/authx/plugins/jwt/jwttest"
)

// A token endpoint behind mutual TLS with a private CA: the profile's
// ca_file, client_cert and client_key (a file: reference the host
// resolves) reach the plugin's requests; tls_client_auth authenticates the
// client by its certificate.
func TestJWTProfileTLS(t *testing.T) {
	pki, err := jwttest.NewPKI("reports-client")
	if err != nil {
		t.Fatal(err)
	}
	srv := startJWT(t, jwttest.Options{TLS: pki.ServerTLS(), TLSClients: map[string]string{"reports": "reports-client"}})
	e := newEnv(t)
	dir := filepath.Join(e.home, "pki")
	os.MkdirAll(dir, 0o700)
	for name, b := range map[string][]byte{"ca.pem": pki.CAPEM, "client.pem": pki.ClientPEM, "client.key": pki.ClientKey} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e.config(`profiles:
  reports:
    scheme: jwt
    url: ` + srv.URL + `
    config:
      mode: oauth2
      token_url: /oauth/token
      client_id: reports
      client_auth: tls_client_auth
      ca_file: ` + filepath.Join(dir, "ca.pem") + `
      client_cert: ` + filepath.Join(dir, "client.pem") + `
      client_key: file:` + filepath.Join(dir, "client.key") + `
  untrusted:
    scheme: jwt
    url: ` + srv.URL + `
    config: {mode: oauth2, token_url: /oauth/token, client_id: reports, client_auth: tls_client_auth,
      client_cert: ` + filepath.Join(dir, "client.pem") + `, client_key: "file:` + filepath.Join(dir, "client.key") + `"}
`)
	if r := e.run("token", "reports"); r.code != 0 || strings.Count(r.stdout, ".") != 2 || srv.Logins() != 1 {
		t.Fatalf("token reports: %+v, %d token requests", r, srv.Logins())
	}
	r := e.run("token", "untrusted")
	if r.code != 5 || !strings.Contains(r.stderr, "certificate signed by unknown authority") || strings.Contains(r.stderr, "PRIVATE KEY") {
		t.Fatalf("without ca_file: %+v", r)
	}
}
