//go:build linux

package main

// End-to-end tests of DPoP (#12, point 7; must show 4) against the real
// oidc-provider (plugins/jwt/idptest) with DPoP nonces required, through
// `authx request` processes that start the real jwt plugin: the tokens are
// DPoP-bound (cnf.jkt, verified with the IdP's keys; introspection), every
// API request carries a fresh proof, and each DPoP-Nonce challenge, at the
// token endpoint and at the API, is answered by exactly one retry.

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/authx/authx/plugins/jwt/idptest"
	"github.com/authx/authx/plugins/jwt/jwttest"
)

// idpTokenJKT verifies an access token the IdP issued as a JWT (RS256 with
// a key of its JWKS, typ at+jwt, iss, aud the resource, not expired) and
// returns its cnf.jkt: what a resource server trusting the IdP does.
func idpTokenJKT(t *testing.T, p *idptest.IdP, resource string) func(string) (string, error) {
	t.Helper()
	resp, err := http.Get(p.Issuer + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ Kid, N, E string } `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("the IdP's JWKS: %v", err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		n, _ := base64.RawURLEncoding.DecodeString(k.N)
		e, _ := base64.RawURLEncoding.DecodeString(k.E)
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return func(token string) (string, error) {
		claims := gojwt.MapClaims{}
		_, err := gojwt.ParseWithClaims(token, claims, func(tk *gojwt.Token) (any, error) {
			if tk.Header["typ"] != "at+jwt" {
				return nil, errors.New("typ is not at+jwt")
			}
			kid, _ := tk.Header["kid"].(string)
			if k := keys[kid]; k != nil {
				return k, nil
			}
			return nil, errors.New("unknown kid")
		}, gojwt.WithValidMethods([]string{"RS256"}), gojwt.WithIssuer(p.Issuer), gojwt.WithAudience(resource), gojwt.WithExpirationRequired())
		if err != nil {
			return "", fmt.Errorf("the access token does not verify: %v", err)
		}
		cnf, _ := claims["cnf"].(map[string]any)
		jkt, _ := cnf["jkt"].(string)
		if jkt == "" {
			return "", errors.New("the access token is not DPoP-bound (no cnf.jkt)")
		}
		return jkt, nil
	}
}

// dpopSecrets returns, from the cache of e, the DPoP private key of every
// cached credential in the forms it could leak in: the PKCS #8 DER in
// base64 (as the state holds it) and the private scalar in base64url (as
// a JWK's d).
func dpopSecrets(t *testing.T, e *env) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(e.home, "cache", "authx", "*.json"))
	var out []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var entry struct {
			Credential struct {
				State []byte `json:"state"`
			} `json:"credential"`
		}
		var st struct {
			DPoP *struct{ Key []byte } `json:"dpop"`
		}
		if json.Unmarshal(raw, &entry) != nil || json.Unmarshal(entry.Credential.State, &st) != nil || st.DPoP == nil {
			continue
		}
		k, err := x509.ParsePKCS8PrivateKey(st.DPoP.Key)
		if err != nil {
			t.Fatalf("the cached DPoP key: %v", err)
		}
		out = append(out, base64.StdEncoding.EncodeToString(st.DPoP.Key))
		if ec, ok := k.(*ecdsa.PrivateKey); ok {
			out = append(out, base64.RawURLEncoding.EncodeToString(ec.D.FillBytes(make([]byte, 32))))
		}
	}
	if len(out) == 0 {
		t.Fatalf("no DPoP key in the cache %v", files)
	}
	return out
}

// Must show 4, the API side: a client_credentials token from oidc-provider
// (nonces required) for a resource (a JWT access token), used by separate
// `authx request` processes against a strict DPoP resource server. The
// token is bound to authx's key (cnf.jkt, signed by the IdP); each request
// carries a fresh proof (distinct jti, htm, htu without the query, ath);
// the token endpoint's nonce challenge and the API's are each answered by
// one retry, and the API's nonce is kept across processes. The private key
// appears in no output.
func TestDPoPClientCredentialsAPI(t *testing.T) {
	p := idptest.Start(t, idptest.Options{DPoPNonce: true})
	resource := p.Resources[0]
	rs := jwttest.NewDPoPResource()
	rs.TokenJKT = idpTokenJKT(t, p, resource)
	api := httptest.NewServer(rs)
	defer api.Close()
	profile := fmt.Sprintf(`  dp:
    scheme: jwt
    url: %s
    config:
      mode: oauth2
      issuer: %s
      grant: client_credentials
      client_id: %s
      client_secret: env:IDP_CLIENT_SECRET
      resource: [%s]
      scope: [api:read]
      dpop: true
`, api.URL, p.Issuer, idptest.SecretClientID, resource)
	e := ssoEnv(t, p, nil, profile)

	var outputs []string
	steps := []struct {
		method, path string
		rotate       bool // the API's nonce changes first
		challenges   int  // the API's nonce challenges so far
	}{
		{"GET", "/items?page=1", false, 1}, // no nonce yet
		{"GET", "/items?page=2", false, 1}, // the nonce the first process stored
		{"POST", "/items", false, 1},
		{"DELETE", "/items/1", true, 2}, // a new nonce: one more challenge, one retry
		{"GET", "/items", false, 2},
	}
	for i, s := range steps {
		if s.rotate {
			rs.RotateNonce()
		}
		args := []string{"request", "dp", s.method, s.path, "--log-level", "debug"}
		if s.method == "POST" {
			args = append(args, "--json", "-d", `{"a":1}`)
		}
		r := e.run(args...)
		outputs = append(outputs, r.stdout, r.stderr)
		if r.code != 0 || !strings.Contains(r.stdout, `"jti"`) {
			t.Fatalf("step %d: authx %s: exit %d\nstdout %s\nstderr %s\nrefusals %q", i, strings.Join(args, " "), r.code, r.stdout, r.stderr, rs.Refusals())
		}
		if n := rs.NonceChallenges(); n != s.challenges {
			t.Fatalf("step %d: %d nonce challenges from the API, want %d", i, n, s.challenges)
		}
	}
	if n := p.CountEventually("grant.success", "client_credentials", 1); n != 1 {
		t.Errorf("%d tokens issued, want 1 (cached across processes)", n)
	}
	if n := p.Count("dpop.nonce_challenge", "/token"); n != 1 {
		t.Errorf("%d nonce challenges at the token endpoint, want 1 (answered by one retry)", n)
	}
	if n := p.Count("grant.error", ""); n != 1 {
		t.Errorf("%d token endpoint errors, want 1 (the nonce challenge): %+v", n, p.Events())
	}
	proofs := rs.Proofs()
	if len(proofs) != len(steps) {
		t.Fatalf("%d requests served, want %d", len(proofs), len(steps))
	}
	jtis := map[string]bool{}
	for i, pr := range proofs {
		want := api.URL + strings.Split(steps[i].path, "?")[0]
		if pr.Htm != steps[i].method || pr.Htu != want || pr.Ath == "" || pr.Nonce == "" || pr.Alg != "ES256" || jtis[pr.Jti] || pr.JKT != proofs[0].JKT {
			t.Errorf("proof %d: %+v; want htm %s, htu %s, ath, the nonce, a new jti, the same key", i, pr, steps[i].method, want)
		}
		jtis[pr.Jti] = true
	}
	if r := rs.Refusals(); len(r) != 0 {
		t.Errorf("the API refused: %q", r)
	}

	secrets := dpopSecrets(t, e) // before the refusals below may drop the credential

	// A server whose nonce changes before every request: one retry, then
	// the plugin's diagnosis of the second refusal (protocol minor 4).
	rs.Stubborn = true
	before := rs.NonceChallenges()
	r := e.run("request", "dp", "GET", "/items")
	outputs = append(outputs, r.stdout, r.stderr)
	if r.code != 4 || !strings.Contains(r.stderr, "refused the retry that carried the DPoP nonce it had just sent") || rs.NonceChallenges() != before+2 {
		t.Errorf("a stubborn server: exit %d, %d more challenges\n%s; want exit 4 after one retry, with the plugin's diagnosis", r.code, rs.NonceChallenges()-before, r.stderr)
	}
	rs.Stubborn = false

	// What authx prints about the profile never holds the private key.
	for _, args := range [][]string{{"token", "dp"}, {"header", "dp"}, {"status"}, {"status", "--json"}, {"token", "dp", "--json"}} {
		r := e.run(append(args, "--log-level", "debug")...)
		outputs = append(outputs, r.stdout, r.stderr)
	}
	for _, secret := range append(secrets, dpopSecrets(t, e)...) {
		for _, out := range outputs {
			if strings.Contains(out, secret) {
				t.Fatalf("the DPoP private key appears in authx's output:\n%s", out)
			}
		}
	}
}

// Must show 4, the IdP's own resource: a browser login (authorization
// code, PKCE, dpop_jkt) at oidc-provider with nonces required; the token is
// DPoP-bound (introspection says token_type DPoP and cnf.jkt); `authx
// request` calls the IdP's userinfo, which verifies the proof, its nonce
// and the binding itself.
func TestDPoPBrowserLoginUserinfo(t *testing.T) {
	const ttl = 8 * time.Second
	p := idptest.Start(t, idptest.Options{DPoPNonce: true, AccessTokenTTL: ttl})
	b := idptest.NewBrowser(t, p, idptest.BrowserOptions{})
	profile := fmt.Sprintf(`  me:
    scheme: jwt
    url: %s
    config:
      mode: oauth2
      issuer: %s
      grant: authorization_code
      client_id: %s
      client_auth: none
      scope: [openid, profile, offline_access]
      prompt: consent
      dpop: true
`, p.Issuer, p.Issuer, idptest.NativeClientID)
	e := ssoEnv(t, p, b, profile)
	loginThroughBrowser(t, e, p, b, "me")
	obtained := time.Now()
	if opened := b.Opened(); len(opened) != 1 || !strings.Contains(opened[0], "dpop_jkt=") {
		t.Errorf("the authorization request %q lacks dpop_jkt (RFC 9449 §10)", opened)
	}
	if n := p.Count("dpop.nonce_challenge", "/token"); n != 1 {
		t.Errorf("%d nonce challenges at the token endpoint, want 1", n)
	}

	for i := range 3 {
		r := e.run("request", "me", "GET", "/me")
		if r.code != 0 || !strings.Contains(r.stdout, `"sub":"`+p.User+`"`) {
			t.Fatalf("request %d: authx request me GET /me: exit %d\n%s\n%s", i, r.code, r.stdout, r.stderr)
		}
	}
	var ok, refused int
	for _, ev := range p.Events() {
		if ev.Event == "userinfo" && ev.GrantType == "DPoP" {
			if ev.Error == "" {
				ok++
			} else {
				refused++
			}
		}
	}
	// The first request has no nonce for userinfo yet: one challenge, one
	// retry; the others carry the nonce kept in the credential's state.
	if ok != 3 || refused != 1 || p.Count("dpop.nonce_challenge", "/me") != 1 {
		t.Errorf("userinfo answered %d with DPoP and refused %d (%d nonce challenges); want 3 and 1", ok, refused, p.Count("dpop.nonce_challenge", "/me"))
	}

	// Introspection says the token is bound.
	first := introspectJKT(t, p, cachedToken(t, e))

	// Past the access token's expiry: a refresh, with a proof by the same
	// key (oidc-provider binds a public client's refresh token to it).
	time.Sleep(time.Until(obtained.Add(ttl + 300*time.Millisecond)))
	if r := e.run("request", "me", "GET", "/me"); r.code != 0 || !strings.Contains(r.stdout, `"sub":"`+p.User+`"`) {
		t.Fatalf("after expiry: authx request me GET /me: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if n := p.CountEventually("grant.success", "refresh_token", 1); n != 1 {
		t.Errorf("%d refreshes, want 1: %+v", n, p.Events())
	}
	if again := introspectJKT(t, p, cachedToken(t, e)); again != first {
		t.Errorf("the refreshed token is bound to %s, the first to %s; want the same key", again, first)
	}
	if n := p.Count("grant.error", ""); n != 1 {
		t.Errorf("%d token endpoint errors, want 1 (the login's nonce challenge; the refresh used the kept nonce): %+v", n, p.Events())
	}
}

// introspectJKT asks the IdP (as a confidential client) about token: it
// must be an active DPoP token; it returns its cnf.jkt.
func introspectJKT(t *testing.T, p *idptest.IdP, token string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", p.Issuer+"/token/introspection", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(idptest.SecretClientID, p.ClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var in struct {
		Active    bool   `json:"active"`
		TokenType string `json:"token_type"`
		Cnf       struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&in); err != nil || !in.Active || in.TokenType != "DPoP" || in.Cnf.JKT == "" {
		t.Fatalf("introspection: %+v %v; want an active DPoP token with cnf.jkt", in, err)
	}
	return in.Cnf.JKT
}

// A server that ignores DPoP issues a bearer token: authx refuses it (the
// profile asked for a bound token) with a clear message, and caches
// nothing.
func TestDPoPRefusesUnboundToken(t *testing.T) {
	p := idptest.Start(t, idptest.Options{NoDPoP: true})
	profile := fmt.Sprintf(`  dp:
    scheme: jwt
    url: https://api.authx.test
    config:
      mode: oauth2
      issuer: %s
      grant: client_credentials
      client_id: %s
      client_secret: env:IDP_CLIENT_SECRET
      dpop: true
`, p.Issuer, idptest.SecretClientID)
	e := ssoEnv(t, p, nil, profile)
	r := e.run("login", "dp")
	if r.code == 0 || !strings.Contains(r.stderr, "not DPoP: the server did not bind the token") {
		t.Fatalf("authx login with a server that ignores DPoP: exit %d\n%s", r.code, r.stderr)
	}
	if files, _ := filepath.Glob(filepath.Join(e.home, "cache", "authx", "*.json")); len(files) != 0 {
		t.Errorf("a refused token was cached: %v", files)
	}
}

// cachedToken is the access token of the only credential in e's cache.
func cachedToken(t *testing.T, e *env) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(e.home, "cache", "authx", "*.json"))
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		var entry struct {
			Credential struct {
				Token string `json:"token"`
			} `json:"credential"`
		}
		if json.Unmarshal(raw, &entry) == nil && entry.Credential.Token != "" {
			return entry.Credential.Token
		}
	}
	t.Fatalf("no cached token in %v", files)
	return ""
}
