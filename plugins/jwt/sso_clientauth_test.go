package jwt

import (
	"context"
	"crypto"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/plugins/jwt/jwttest"
)

// The OIDC logins with the client authentication methods: a device login
// of a private_key_jwt client authenticates at the device authorization
// endpoint, at each poll and at revocation, each time with a fresh client
// assertion whose aud is the token endpoint (the emulator verifies it as
// oidc-provider does, and refuses a bare client_id for such a client).
func TestDeviceLoginAndLogoutWithPrivateKeyJWT(t *testing.T) {
	key, _ := keysFor("ES256")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	clk := &fakeClock{t: time.Now()}
	s := jwttest.Start(jwttest.Options{Now: clk.Now, RotateRefresh: true,
		ClientKeys: map[string]crypto.PublicKey{"svc": publicOf(t, key)}})
	t.Cleanup(s.Close)
	b := &fakeBrowser{noOpen: true}
	clk.onSleep = func(i int) {
		if i == 1 {
			b.mu.Lock()
			opened := b.opened[0]
			b.mu.Unlock()
			b.visit(opened)
		}
	}
	sch := &Scheme{Now: clk.Now, Sleep: clk.Sleep}
	cfg := core.Config{"mode": "oauth2", "issuer": s.URL, "grant": "device_code", "client_id": "svc",
		"client_auth": "private_key_jwt", "client_assertion_key": string(key.priv), "scope": "offline_access"}
	if ds := sch.Configure(context.Background(), cfg); len(ds) > 0 {
		t.Fatalf("Configure: %+v", ds)
	}
	c, err := sch.Login(context.Background(), core.LoginRequest{Config: cfg, UI: b})
	if err != nil {
		t.Fatal(err)
	}
	if c.IDToken == "" || stateOf(c).RefreshToken == "" || claimsOf(t, c.Token)["client_id"] != "svc" {
		t.Fatalf("credential %+v", c)
	}
	if err := sch.Logout(context.Background(), core.LogoutRequest{Config: cfg, Credential: c}); err != nil {
		t.Fatal(err)
	}
	if !s.Revoked(stateOf(c).RefreshToken) {
		t.Fatal("the refresh token was not revoked")
	}
}

// A browser login's authorization request carries the resource
// indicators and extra_params, as its token request does: the access token
// is for the resource.
func TestAuthorizationCodeResourceAndExtraParams(t *testing.T) {
	s := startIdP(t, jwttest.Options{})
	b := &fakeBrowser{}
	cfg := oidcProfile(s, "authorization_code", core.Config{
		"resource":     []any{"https://api.example.com/"},
		"extra_params": map[string]any{"acr_values": "mfa", "ui_locales": "de en"},
	})
	c, err := (&Scheme{BrowserTimeout: 20 * time.Second}).Login(context.Background(), core.LoginRequest{Config: cfg, UI: b})
	if err != nil {
		t.Fatal(err)
	}
	b.done()
	u, _ := url.Parse(b.opened[0])
	q := u.Query()
	if q.Get("resource") != "https://api.example.com/" || q.Get("acr_values") != "mfa" || !slices.Equal(q["ui_locales"], []string{"de en"}) {
		t.Fatalf("authorization request %s", u.RawQuery)
	}
	if aud := claimsOf(t, c.Token)["aud"]; aud != "https://api.example.com/" {
		t.Fatalf("aud %v", aud)
	}
}

// Auth0 picks the API of a browser login's access token from the audience
// parameter of the authorization request: a profile's one audience goes
// there, as it goes into its token requests.
func TestAuthorizationCodeAudience(t *testing.T) {
	s := startIdP(t, jwttest.Options{})
	b := &fakeBrowser{}
	cfg := oidcProfile(s, "authorization_code", core.Config{"audience": []any{"https://api.example.com/"}})
	if _, err := (&Scheme{BrowserTimeout: 20 * time.Second}).Login(context.Background(), core.LoginRequest{Config: cfg, UI: b}); err != nil {
		t.Fatal(err)
	}
	b.done()
	u, _ := url.Parse(b.opened[0])
	if got := u.Query()["audience"]; !slices.Equal(got, []string{"https://api.example.com/"}) {
		t.Fatalf("authorization request %s: audience %q", u.RawQuery, got)
	}
}

// The profile's TLS applies to discovery and to the JWKS that checks the
// id_token, not only to the token endpoint: an issuer served with a
// private CA that wants a client certificate works with ca_file,
// client_cert and client_key, and fails without them.
func TestDiscoveryAndJWKSUseTheProfileTLS(t *testing.T) {
	pki := newPKI(t, "c")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	s := jwttest.Start(jwttest.Options{TLS: pki.ServerTLS(), Clients: map[string]string{"cli": "s3cret-client"},
		Scopes: []string{"openid", "read"}})
	t.Cleanup(s.Close)
	dir := t.TempDir()
	caFile, certFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "client.pem")
	if os.WriteFile(caFile, pki.CAPEM, 0o600) != nil || os.WriteFile(certFile, pki.ClientPEM, 0o600) != nil {
		t.Fatal("cannot write the PEM files")
	}
	cfg := core.Config{"mode": "oauth2", "issuer": s.URL, "grant": "password", "client_id": "cli", "client_secret": "s3cret-client",
		"username": "alice", "password": "wonderland", "scope": []any{"openid", "read"}}
	if _, err := New().Login(context.Background(), core.LoginRequest{Config: cfg}); core.KindOf(err) != core.KindNetwork {
		t.Fatalf("without the TLS settings: %v, want a TLS failure of the discovery", err)
	}
	cfg["ca_file"], cfg["client_cert"], cfg["client_key"] = caFile, certFile, string(pki.ClientKey)
	c, err := New().Login(context.Background(), core.LoginRequest{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if c.IDToken == "" {
		t.Fatal("no id_token: the JWKS was not exercised")
	}
}
