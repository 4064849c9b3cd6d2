package jwt

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/plugins/jwt/jwttest"
)

// publicOf parses a test key's PEM public key.
func publicOf(t *testing.T, k testKey) crypto.PublicKey {
	t.Helper()
	b, _ := pem.Decode(k.pub)
	pub, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// oauth2Login logs in with an oauth2-mode profile against srv's token
// endpoint, cfg adding to the mode and token_url.
func oauth2Login(t *testing.T, s *Scheme, tokenURL string, cfg core.Config) (*core.Credential, error) {
	t.Helper()
	full := core.Config{"mode": "oauth2", "token_url": tokenURL}
	for k, v := range cfg {
		full[k] = v
	}
	if ds := s.Configure(context.Background(), full); len(ds) > 0 {
		t.Fatalf("Configure: %+v", ds)
	}
	return s.Login(context.Background(), core.LoginRequest{Config: full})
}

// claimsOf returns a token's claims, unverified.
func claimsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	j, err := parseJWS(token)
	if err != nil {
		t.Fatalf("not a JWT: %v", err)
	}
	return j.claims
}

// Every client_auth method against the emulator, which verifies client
// assertions for real (signature with the registered key, aud, exp, jti).
func TestOAuth2ClientAuthMethods(t *testing.T) {
	rsaKey, otherRSA := keysFor("RS256")
	ecKey, _ := keysFor("ES384")
	edKey, _ := keysFor("EdDSA")
	srv := jwttest.Start(jwttest.Options{
		Clients: map[string]string{"cli": "s3cret-client", "hmac": "a-client-secret-of-32-bytes-or-more!", "public": ""},
		ClientKeys: map[string]crypto.PublicKey{
			"rsa": publicOf(t, rsaKey), "ec": publicOf(t, ecKey), "ed": publicOf(t, edKey),
		},
	})
	defer srv.Close()
	tests := []struct {
		name string
		cfg  core.Config
		kind core.Kind // 0: success
		msg  string
	}{
		{"basic", core.Config{"client_id": "cli", "client_secret": "s3cret-client"}, 0, ""},
		{"body", core.Config{"client_id": "cli", "client_secret": "s3cret-client", "client_auth": "body"}, 0, ""},
		{"private_key_jwt RSA", core.Config{"client_id": "rsa", "client_auth": "private_key_jwt", "client_assertion_key": string(rsaKey.priv), "client_assertion_kid": "k1"}, 0, ""},
		{"private_key_jwt PS256", core.Config{"client_id": "rsa", "client_auth": "private_key_jwt", "client_assertion_key": string(rsaKey.priv), "client_assertion_alg": "PS256"}, 0, ""},
		{"private_key_jwt EC P-384", core.Config{"client_id": "ec", "client_auth": "private_key_jwt", "client_assertion_key": string(ecKey.priv)}, 0, ""},
		{"private_key_jwt Ed25519", core.Config{"client_id": "ed", "client_auth": "private_key_jwt", "client_assertion_key": string(edKey.priv)}, 0, ""},
		{"client_secret_jwt", core.Config{"client_id": "hmac", "client_secret": "a-client-secret-of-32-bytes-or-more!", "client_auth": "client_secret_jwt"}, 0, ""},
		{"client_secret_jwt HS512", core.Config{"client_id": "hmac", "client_secret": "a-client-secret-of-32-bytes-or-more!", "client_auth": "client_secret_jwt", "client_assertion_alg": "HS512"}, 0, ""},
		{"none, password grant", core.Config{"client_id": "public", "client_auth": "none", "grant": "password", "username": "alice", "password": "wonderland"}, 0, ""},
		{"private_key_jwt, another key", core.Config{"client_id": "rsa", "client_auth": "private_key_jwt", "client_assertion_key": string(otherRSA.priv)}, core.KindRejected, "(invalid_client)"},
		{"client_secret_jwt, wrong secret", core.Config{"client_id": "hmac", "client_secret": "not-the-secret-but-just-as-long-!!!", "client_auth": "client_secret_jwt"}, core.KindRejected, "(invalid_client)"},
		{"private_key_jwt for a secret client", core.Config{"client_id": "cli", "client_auth": "private_key_jwt", "client_assertion_key": string(rsaKey.priv)}, core.KindRejected, "(invalid_client)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := oauth2Login(t, New(), srv.URL+"/oauth/token", tt.cfg)
			if tt.kind != 0 {
				requireKind(t, err, tt.kind, tt.msg, []byte("a-client-secret"))
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := claimsOf(t, c.Token)["client_id"]; got != tt.cfg["client_id"] {
				t.Fatalf("token for client %v, want %v", got, tt.cfg["client_id"])
			}
		})
	}
}

// The assertion the plugin makes is single-use, bound to the endpoint and
// short-lived: the emulator refuses a replay, another audience and an
// expired one, as oidc-provider does.
func TestOAuth2ClientAssertionClaims(t *testing.T) {
	key, _ := keysFor("ES256")
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	clock := now
	srv := jwttest.Start(jwttest.Options{ClientKeys: map[string]crypto.PublicKey{"svc": publicOf(t, key)}, Now: func() time.Time { return clock }})
	defer srv.Close()
	s := &Scheme{Now: func() time.Time { return now }}
	cfg := core.Config{"mode": "oauth2", "token_url": srv.URL + "/oauth/token", "client_id": "svc", "client_auth": "private_key_jwt", "client_assertion_key": string(key.priv)}
	st, err := settingsFor(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	post := func(assertion string) int {
		resp, err := http.PostForm(srv.URL+"/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {assertionType}, "client_assertion": {assertion}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	a1, err := s.clientAssertion(st, srv.URL+"/oauth/token")
	if err != nil {
		t.Fatal(err)
	}
	c := claimsOf(t, a1)
	if c["iss"] != "svc" || c["sub"] != "svc" || c["aud"] != srv.URL+"/oauth/token" || c["jti"] == "" {
		t.Fatalf("assertion claims %v", c)
	}
	exp, _ := c["exp"].(json.Number).Int64()
	iat, _ := c["iat"].(json.Number).Int64()
	nbf, _ := c["nbf"].(json.Number).Int64()
	if exp-iat != int64(assertionTTL.Seconds()) || iat != now.Unix() || nbf != iat {
		t.Fatalf("iat %v nbf %v exp %v", iat, nbf, exp)
	}
	if code := post(a1); code != 200 {
		t.Fatalf("first use: HTTP %d", code)
	}
	if code := post(a1); code != 401 {
		t.Fatalf("replayed jti: HTTP %d, want 401", code)
	}
	a2, _ := s.clientAssertion(st, srv.URL) // the issuer is an audience too
	if code := post(a2); code != 200 {
		t.Fatalf("aud = issuer: HTTP %d", code)
	}
	a3, _ := s.clientAssertion(st, "https://elsewhere.example.com/token")
	if code := post(a3); code != 401 {
		t.Fatalf("another aud: HTTP %d, want 401", code)
	}
	a4, _ := s.clientAssertion(st, srv.URL+"/oauth/token")
	clock = now.Add(assertionTTL + time.Second)
	if code := post(a4); code != 401 {
		t.Fatalf("expired: HTTP %d, want 401", code)
	}
}

// The refresh goes through the same client authentication as the grant.
func TestOAuth2RefreshAuthenticatesTheClient(t *testing.T) {
	var forms []url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		forms = append(forms, r.PostForm)
		io.WriteString(w, `{"access_token":"at","token_type":"bearer","refresh_token":"rt2","expires_in":60}`)
	}))
	defer srv.Close()
	cfg := core.Config{"mode": "oauth2", "token_url": srv.URL, "grant": "password", "username": "alice", "password": "pw",
		"client_id": "hmac", "client_secret": "a-client-secret-of-32-bytes-or-more!", "client_auth": "client_secret_jwt",
		"resource": []any{"https://a.example.com/", "https://b.example.com/"}, "extra_params": map[string]any{"acr_values": "mfa", "claims_locales": []any{"de", "en"}}}
	s := New()
	c, err := s.Login(context.Background(), core.LoginRequest{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Refresh(context.Background(), core.RefreshRequest{Config: cfg, Credential: c}); err != nil {
		t.Fatal(err)
	}
	for i, f := range forms {
		if f.Get("client_assertion_type") != assertionType || f.Get("client_assertion") == "" || f.Get("client_id") != "hmac" || f.Has("client_secret") {
			t.Errorf("request %d lacks the client assertion: %v", i, f)
		}
		if !slices.Equal(f["resource"], []string{"https://a.example.com/", "https://b.example.com/"}) {
			t.Errorf("request %d resource = %q, want one parameter per resource", i, f["resource"])
		}
		if f.Get("acr_values") != "mfa" || !slices.Equal(f["claims_locales"], []string{"de", "en"}) {
			t.Errorf("request %d lacks extra_params: %v", i, f)
		}
	}
	if len(forms) != 2 || forms[1].Get("grant_type") != "refresh_token" || forms[0].Get("client_assertion") == forms[1].Get("client_assertion") {
		t.Fatalf("forms %v", forms)
	}
}

// resource selects the token's audience (RFC 8707), one parameter each.
func TestOAuth2Resource(t *testing.T) {
	srv := jwttest.Start(jwttest.Options{})
	defer srv.Close()
	for _, tt := range []struct {
		resource []any
		want     any
	}{
		{[]any{"https://api.example.com/"}, "https://api.example.com/"},
		{[]any{"https://a.example.com/", "https://b.example.com/"}, []any{"https://a.example.com/", "https://b.example.com/"}},
	} {
		c, err := oauth2Login(t, New(), srv.URL+"/oauth/token", core.Config{"client_id": "cli", "client_secret": "s3cret-client", "resource": tt.resource})
		if err != nil {
			t.Fatal(err)
		}
		if got := claimsOf(t, c.Token)["aud"]; !equalJSON(got, tt.want) {
			t.Errorf("resource %v: aud = %v, want %v", tt.resource, got, tt.want)
		}
	}
}

func equalJSON(a, b any) bool {
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok && bok {
		return slices.Equal(as, bs)
	}
	return a == b
}

// Configure refuses what would send a wrong request: extra_params that
// replace what authx sets, a resource that is not an absolute URI, client
// authentication without what it needs, keys of another method or grant.
func TestOAuth2ConfigureClientAuthAndParams(t *testing.T) {
	rsaKey, _ := keysFor("RS256")
	base := func(extra core.Config) core.Config {
		c := core.Config{"mode": "oauth2", "token_url": "https://idp.example.com/token", "client_id": "c", "client_secret": "s"}
		for k, v := range extra {
			if v == nil {
				delete(c, k)
				continue
			}
			c[k] = v
		}
		return c
	}
	tests := []struct {
		name       string
		cfg        core.Config
		field, msg string
	}{
		{"grant_type in extra_params", base(core.Config{"extra_params": map[string]any{"grant_type": "password"}}), "extra_params.grant_type", "authx sets grant_type itself"},
		{"client_assertion in extra_params", base(core.Config{"extra_params": map[string]any{"client_assertion": "x"}}), "extra_params.client_assertion", "use client_auth: private_key_jwt"},
		{"code_verifier in extra_params", base(core.Config{"extra_params": map[string]any{"code_verifier": "x"}}), "extra_params.code_verifier", "authx sets code_verifier itself"},
		{"resource in extra_params", base(core.Config{"extra_params": map[string]any{"resource": "https://x/"}}), "extra_params.resource", "use the resource key"},
		{"extra_params number", base(core.Config{"extra_params": map[string]any{"max_age": 3}}), "extra_params.max_age", "expected a string or a list of strings"},
		{"relative resource", base(core.Config{"resource": []any{"api"}}), "resource", "not an absolute URI"},
		{"resource with fragment", base(core.Config{"resource": []any{"https://api.example.com/#x"}}), "resource", "without a fragment"},
		{"private_key_jwt without key", base(core.Config{"client_auth": "private_key_jwt", "client_secret": nil}), "client_assertion_key", "needs the PEM private key"},
		{"private_key_jwt, an HMAC alg", base(core.Config{"client_auth": "private_key_jwt", "client_secret": nil, "client_assertion_key": string(rsaKey.priv), "client_assertion_alg": "HS256"}), "client_assertion_alg", "does not fit the key"},
		{"private_key_jwt, not PEM", base(core.Config{"client_auth": "private_key_jwt", "client_secret": nil, "client_assertion_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}), "client_assertion_key", "cannot be read"},
		{"private_key_jwt with a secret", base(core.Config{"client_auth": "private_key_jwt", "client_assertion_key": string(rsaKey.priv)}), "client_secret", "sends no client secret"},
		{"client_secret_jwt, RS256", base(core.Config{"client_auth": "client_secret_jwt", "client_assertion_alg": "RS256"}), "client_assertion_alg", "HS256, HS384 or HS512"},
		{"key with basic", base(core.Config{"client_assertion_key": "file:/k.pem"}), "client_assertion_key", "is for client_auth private_key_jwt"},
		{"tls_client_auth without cert", base(core.Config{"client_auth": "tls_client_auth", "client_secret": nil}), "client_cert", "needs client_cert and client_key"},
		{"client_cert without key", base(core.Config{"client_cert": "/c.pem"}), "client_cert", "go together"},
		{"none with client_credentials", base(core.Config{"client_auth": "none", "client_secret": nil}), "client_auth", "needs an authenticated client"},
		{"subject_token without the grant", base(core.Config{"subject_token": "t"}), "subject_token", "is for grant token_exchange"},
		{"token_exchange without subject_token", base(core.Config{"grant": "token_exchange"}), "subject_token", "needs subject_token"},
		{"actor_token_type alone", base(core.Config{"grant": "token_exchange", "subject_token": "t", "actor_token_type": tokenTypeAccess}), "actor_token_type", "without actor_token"},
		{"a token type that is no URI", base(core.Config{"grant": "token_exchange", "subject_token": "t", "requested_token_type": "jwt"}), "requested_token_type", "not a token type URI"},
	}
	for _, tt := range tests {
		ds := New().Configure(context.Background(), tt.cfg)
		if len(ds) == 0 || ds[0].Field != tt.field || !strings.Contains(ds[0].Message, tt.msg) {
			t.Errorf("%s: diagnostics %+v, want %s: …%s…", tt.name, ds, tt.field, tt.msg)
		}
	}
	ok := base(core.Config{"client_auth": "private_key_jwt", "client_secret": nil, "client_assertion_key": "file:~/k.pem", "extra_params": map[string]any{"acr_values": "mfa"}})
	if ds := New().Configure(context.Background(), ok); len(ds) != 0 {
		t.Errorf("a valid profile: %+v", ds)
	}
}

// grant: token_exchange swaps another token for one of this client, with
// an actor and a requested token type (RFC 8693).
func TestOAuth2TokenExchange(t *testing.T) {
	srv := jwttest.Start(jwttest.Options{Clients: map[string]string{"cli": "s3cret-client", "gateway": "gw-secret"}})
	defer srv.Close()
	user, err := oauth2Login(t, New(), srv.URL+"/oauth/token", core.Config{"grant": "password", "client_id": "cli", "client_secret": "s3cret-client", "username": "alice", "password": "wonderland"})
	if err != nil {
		t.Fatal(err)
	}
	actor, err := oauth2Login(t, New(), srv.URL+"/oauth/token", core.Config{"client_id": "gateway", "client_secret": "gw-secret"})
	if err != nil {
		t.Fatal(err)
	}
	exchange := core.Config{"grant": "token_exchange", "client_id": "gateway", "client_secret": "gw-secret", "subject_token": user.Token,
		"resource": []any{"https://orders.example.com/"}, "scope": []any{"read"}}
	c, err := oauth2Login(t, New(), srv.URL+"/oauth/token", exchange)
	if err != nil {
		t.Fatal(err)
	}
	claims := claimsOf(t, c.Token)
	if claims["sub"] != "alice" || claims["client_id"] != "gateway" || claims["aud"] != "https://orders.example.com/" || claims["scope"] != "read" {
		t.Fatalf("exchanged token claims %v", claims)
	}
	exchange["actor_token"], exchange["requested_token_type"] = actor.Token, "urn:ietf:params:oauth:token-type:jwt"
	if c, err = oauth2Login(t, New(), srv.URL+"/oauth/token", exchange); err != nil { // token_type N_A
		t.Fatal(err)
	}
	if act, _ := claimsOf(t, c.Token)["act"].(map[string]any); act["sub"] != "gateway" {
		t.Fatalf("act = %v", claimsOf(t, c.Token)["act"])
	}
	exchange["subject_token"] = "not-a-token-of-this-server"
	delete(exchange, "actor_token")
	_, err = oauth2Login(t, New(), srv.URL+"/oauth/token", exchange)
	requireKind(t, err, core.KindRejected, "The subject token is invalid or expired (invalid_grant)", []byte("not-a-token-of-this-server"))
}

// TestClientAssertionCertThumbprints: with client_assertion_cert, the
// assertion names its certificate by x5t#S256 and x5t (Entra ID's
// certificate credentials), the server still accepts it, and a
// certificate of another key is refused before anything is sent.
func TestClientAssertionCertThumbprints(t *testing.T) {
	key, other := keysFor("ES256")
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	certFor := func(k testKey) (string, []byte) {
		block, _ := pem.Decode(k.priv)
		priv, err := parsePrivateKey(block)
		if err != nil {
			t.Fatal(err)
		}
		signer := priv.(crypto.Signer)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "svc"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "client.crt")
		os.WriteFile(p, pemBlock("CERTIFICATE", der), 0o600)
		return p, der
	}
	certPath, der := certFor(key)
	srv := jwttest.Start(jwttest.Options{ClientKeys: map[string]crypto.PublicKey{"svc": publicOf(t, key)}, Now: func() time.Time { return now }})
	defer srv.Close()
	s := &Scheme{Now: func() time.Time { return now }}
	cfg := core.Config{"mode": "oauth2", "token_url": srv.URL + "/oauth/token", "client_id": "svc", "client_auth": "private_key_jwt",
		"client_assertion_key": string(key.priv), "client_assertion_cert": certPath}
	st, err := settingsFor(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.clientAssertion(st, srv.URL+"/oauth/token")
	if err != nil {
		t.Fatal(err)
	}
	header, _, _ := strings.Cut(a, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(header)
	var h map[string]any
	json.Unmarshal(raw, &h)
	sum256, sum1 := sha256.Sum256(der), sha1.Sum(der)
	if h["x5t#S256"] != base64.RawURLEncoding.EncodeToString(sum256[:]) || h["x5t"] != base64.RawURLEncoding.EncodeToString(sum1[:]) {
		t.Fatalf("header %v", h)
	}
	resp, err := http.PostForm(srv.URL+"/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {assertionType}, "client_assertion": {a}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	otherCert, _ := certFor(other)
	cfg["client_assertion_cert"] = otherCert
	if st, err = settingsFor(cfg, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.clientAssertion(st, srv.URL+"/oauth/token"); core.KindOf(err) != core.KindConfig || !strings.HasPrefix(err.Error(), "client_assertion_cert: ") || strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Fatalf("a certificate of another key: %v", err)
	}
}
