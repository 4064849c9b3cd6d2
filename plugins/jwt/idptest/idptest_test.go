package idptest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
)

// Self-tests of the harness against the real oidc-provider and chromium:
// what authx's end-to-end tests rely on works without authx.

func startTimed(t *testing.T, o Options) *IdP {
	t.Helper()
	start := time.Now()
	p := Start(t, o)
	// Logged, not asserted: a test that times a start fails on a busy
	// machine; Start's own deadline bounds it.
	t.Logf("IdP ready in %v at %s", time.Since(start).Round(time.Millisecond), p.Issuer)
	return p
}

func TestDiscovery(t *testing.T) {
	p := startTimed(t, Options{})
	var doc map[string]any
	getJSON(t, p.Issuer+"/.well-known/openid-configuration", &doc)
	if doc["issuer"] != p.Issuer {
		t.Errorf("issuer %v, want %s", doc["issuer"], p.Issuer)
	}
	for k, want := range map[string]string{
		"token_endpoint":                "/token",
		"authorization_endpoint":        "/auth",
		"device_authorization_endpoint": "/device/auth",
		"revocation_endpoint":           "/token/revocation",
		"introspection_endpoint":        "/token/introspection",
		"jwks_uri":                      "/jwks",
	} {
		if doc[k] != p.Issuer+want {
			t.Errorf("%s = %v, want %s", k, doc[k], p.Issuer+want)
		}
	}
	grants := fmt.Sprint(doc["grant_types_supported"])
	for _, g := range []string{"authorization_code", "refresh_token", "client_credentials", DeviceCode, TokenExchange} {
		if !strings.Contains(grants, g) {
			t.Errorf("grant_types_supported %s lacks %s", grants, g)
		}
	}
	if auth := fmt.Sprint(doc["token_endpoint_auth_methods_supported"]); !strings.Contains(auth, "private_key_jwt") {
		t.Errorf("token_endpoint_auth_methods_supported %s lacks private_key_jwt", auth)
	}
}

func TestClientCredentialsResourceAndExchange(t *testing.T) {
	p := startTimed(t, Options{AccessTokenTTL: 30 * time.Second})
	// client_secret_basic, resource selecting the audience.
	r := p.postForm(t, url.Values{"grant_type": {"client_credentials"}, "resource": {p.Resources[0]}, "scope": {"api:read"}},
		func(req *http.Request) { req.SetBasicAuth(SecretClientID, p.ClientSecret) })
	claims := jwtClaims(t, r.AccessToken, "at+jwt")
	if claims["aud"] != p.Resources[0] || claims["client_id"] != SecretClientID || r.ExpiresIn != 30 {
		t.Errorf("client_credentials token: %v, expires_in %d", claims, r.ExpiresIn)
	}
	// private_key_jwt, the other resource.
	r2 := p.postForm(t, url.Values{"grant_type": {"client_credentials"}, "resource": {p.Resources[1]},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {p.assertion(t)}}, nil)
	if c := jwtClaims(t, r2.AccessToken, "at+jwt"); c["aud"] != p.Resources[1] || c["client_id"] != KeyClientID {
		t.Errorf("private_key_jwt token: %v", c)
	}
	// Token exchange: the first token for one bound to the other resource.
	r3 := p.postForm(t, url.Values{"grant_type": {TokenExchange}, "subject_token": {r.AccessToken},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}, "resource": {p.Resources[1]}},
		func(req *http.Request) { req.SetBasicAuth(PostClientID, p.ClientSecret) })
	if c := jwtClaims(t, r3.AccessToken, "at+jwt"); c["aud"] != p.Resources[1] || c["sub"] != SecretClientID || r3.IssuedTokenType != "urn:ietf:params:oauth:token-type:access_token" {
		t.Errorf("exchanged token: %v (%s)", c, r3.IssuedTokenType)
	}
	// A made-up subject token is refused.
	if status, body := p.postFormRaw(t, url.Values{"grant_type": {TokenExchange}, "subject_token": {"forged"},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}, "resource": {p.Resources[1]}},
		func(req *http.Request) { req.SetBasicAuth(SecretClientID, p.ClientSecret) }); status != 400 || !strings.Contains(body, "invalid_grant") {
		t.Errorf("forged subject token: %d %s", status, body)
	}
	if n := p.CountEventually("grant.success", "client_credentials", 2); n != 2 {
		t.Errorf("%d client_credentials grants counted, want 2: %+v", n, p.Events())
	}
	if n := p.CountEventually("grant.success", TokenExchange, 1); n != 1 {
		t.Errorf("%d token exchanges counted, want 1", n)
	}
}

func TestAuthorizationCodeThroughBrowser(t *testing.T) {
	p := startTimed(t, Options{AccessTokenTTL: 5 * time.Second})
	b := NewBrowser(t, p, BrowserOptions{})

	// The loopback listener a native app opens (RFC 8252 §7.3).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	redirect := fmt.Sprintf("http://%s/callback", ln.Addr())
	got := make(chan url.Values, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/callback" {
			io.WriteString(w, "signed in, you may close this window")
			got <- r.URL.Query()
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	verifier := randomString(43)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id": {NativeClientID}, "response_type": {"code"}, "redirect_uri": {redirect},
		"scope": {"openid offline_access profile"}, "prompt": {"consent"}, "state": {"st-123"}, "nonce": {"n-456"},
		"code_challenge": {b64(sum[:])}, "code_challenge_method": {"S256"},
	}
	start := time.Now()
	if out, err := exec.Command(b.Path, p.Issuer+"/auth?"+q.Encode()).CombinedOutput(); err != nil {
		t.Fatalf("$BROWSER: %v %s", err, out)
	}
	var cb url.Values
	select {
	case cb = <-got:
	case <-time.After(30 * time.Second):
		t.Fatalf("no redirect within 30s: %+v", b.Runs(0))
	}
	t.Logf("browser login took %v", time.Since(start).Round(time.Millisecond))
	if cb.Get("state") != "st-123" || cb.Get("code") == "" || cb.Get("iss") != p.Issuer {
		t.Fatalf("callback %v", cb)
	}
	if runs := b.Runs(10 * time.Second); len(runs) != 1 || runs[0].Status != 0 || !strings.HasPrefix(runs[0].Out, "landed "+redirect) ||
		!strings.HasSuffix(runs[0].Out, "\npage: signed in, you may close this window") {
		t.Errorf("browser runs %+v", runs)
	}
	if o := b.Opened(); len(o) != 1 || !strings.HasPrefix(o[0], p.Issuer+"/auth?") {
		t.Errorf("opened %v", o)
	}

	// Without the verifier: refused (PKCE).
	if status, body := p.postFormRaw(t, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
		"redirect_uri": {redirect}, "client_id": {NativeClientID}}, nil); status != 400 {
		t.Errorf("code without verifier: %d %s", status, body)
	}
	// A refused exchange leaves the code unused: now with the verifier.
	tok := p.postForm(t, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")}, "redirect_uri": {redirect},
		"client_id": {NativeClientID}, "code_verifier": {verifier}}, nil)
	if tok.RefreshToken == "" || tok.IDToken == "" || tok.AccessToken == "" {
		t.Fatalf("token response lacks a token: %+v", tok)
	}
	if c := jwtClaims(t, tok.IDToken, ""); c["nonce"] != "n-456" || c["sub"] != p.User || c["aud"] != NativeClientID {
		t.Errorf("id_token claims %v", c)
	}

	// Refresh rotates; the old refresh token is then refused.
	r2 := p.postForm(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {NativeClientID}}, nil)
	if r2.RefreshToken == "" || r2.RefreshToken == tok.RefreshToken || r2.AccessToken == tok.AccessToken {
		t.Errorf("refresh did not rotate: %+v", r2)
	}
	if status, body := p.postFormRaw(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {NativeClientID}}, nil); status != 400 || !strings.Contains(body, "invalid_grant") {
		t.Errorf("replayed refresh token: %d %s", status, body)
	}
	if n := p.CountEventually("grant.success", "refresh_token", 1); n != 1 {
		t.Errorf("%d refreshes counted, want 1", n)
	}
}

func TestDeniedConsent(t *testing.T) {
	p := startTimed(t, Options{})
	b := NewBrowser(t, p, BrowserOptions{Deny: true})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	redirect := fmt.Sprintf("http://%s/callback", ln.Addr())
	got := make(chan url.Values, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/callback" {
			got <- r.URL.Query()
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	q := url.Values{"client_id": {NativeClientID}, "response_type": {"code"}, "redirect_uri": {redirect}, "scope": {"openid"},
		"state": {"s"}, "code_challenge": {b64(make([]byte, 32))}, "code_challenge_method": {"S256"}}
	if _, err := b.Visit(context.Background(), p.Issuer+"/auth?"+q.Encode()); err != nil {
		t.Fatal(err)
	}
	select {
	case cb := <-got:
		if cb.Get("error") != "access_denied" {
			t.Errorf("callback %v, want error=access_denied", cb)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no redirect")
	}
}

func TestDeviceFlowApproval(t *testing.T) {
	p := startTimed(t, Options{})
	b := NewBrowser(t, p, BrowserOptions{})
	var da struct {
		DeviceCode              string `json:"device_code"`
		UserCode                string `json:"user_code"`
		VerificationURIComplete string `json:"verification_uri_complete"`
	}
	resp, err := http.PostForm(p.Issuer+"/device/auth", url.Values{"client_id": {DeviceClientID}, "scope": {"openid offline_access"}})
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&da)
	resp.Body.Close()
	if da.DeviceCode == "" || !strings.Contains(da.VerificationURIComplete, "user_code=") {
		t.Fatalf("device authorization %+v", da)
	}
	poll := url.Values{"grant_type": {DeviceCode}, "device_code": {da.DeviceCode}, "client_id": {DeviceClientID}}
	if status, body := p.postFormRaw(t, poll, nil); status != 400 || !strings.Contains(body, "authorization_pending") {
		t.Errorf("before approval: %d %s", status, body)
	}
	start := time.Now()
	out, err := b.Visit(context.Background(), da.VerificationURIComplete)
	if err != nil || out != "success" {
		t.Fatalf("approval: %q %v", out, err)
	}
	t.Logf("device approval took %v", time.Since(start).Round(time.Millisecond))
	tok := p.postForm(t, poll, nil)
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.IDToken == "" {
		t.Errorf("device token %+v", tok)
	}
}

// tokenResponse is a token endpoint's answer.
type tokenResponse struct {
	AccessToken     string `json:"access_token"`
	RefreshToken    string `json:"refresh_token"`
	IDToken         string `json:"id_token"`
	ExpiresIn       int    `json:"expires_in"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
}

func (p *IdP) postFormRaw(t *testing.T, form url.Values, auth func(*http.Request)) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", p.Issuer+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if auth != nil {
		auth(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body)
}

func (p *IdP) postForm(t *testing.T, form url.Values, auth func(*http.Request)) tokenResponse {
	t.Helper()
	status, body := p.postFormRaw(t, form, auth)
	var r tokenResponse
	if status != 200 || json.Unmarshal([]byte(body), &r) != nil {
		t.Fatalf("token endpoint (%s): %d %s", form.Get("grant_type"), status, body)
	}
	return r
}

// assertion is a private_key_jwt client assertion (RFC 7523) of KeyClientID.
func (p *IdP) assertion(t *testing.T) string {
	t.Helper()
	block, _ := pem.Decode(p.ClientKeyPEM)
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	jti := make([]byte, 16)
	rand.Read(jti)
	tok := gojwt.NewWithClaims(gojwt.SigningMethodRS256, gojwt.MapClaims{
		"iss": KeyClientID, "sub": KeyClientID, "aud": p.Issuer + "/token", "jti": b64(jti),
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix(),
	})
	tok.Header["kid"] = p.ClientKeyID
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// jwtClaims decodes a JWT's claims (unverified) and checks its typ header
// when typ is not empty.
func jwtClaims(t *testing.T, token, typ string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %.20s...", token)
	}
	var header, claims map[string]any
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	c, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if json.Unmarshal(h, &header) != nil || json.Unmarshal(c, &claims) != nil {
		t.Fatalf("undecodable JWT %.20s...", token)
	}
	if typ != "" && header["typ"] != typ {
		t.Errorf("typ %v, want %s", header["typ"], typ)
	}
	return claims
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(v) != nil {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
}

func TestRevocationEvents(t *testing.T) {
	p := startTimed(t, Options{})
	r := p.postForm(t, url.Values{"grant_type": {"client_credentials"}}, func(req *http.Request) { req.SetBasicAuth(SecretClientID, p.ClientSecret) })
	req, _ := http.NewRequest("POST", p.Issuer+"/token/revocation", strings.NewReader(url.Values{"token": {r.AccessToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(SecretClientID, p.ClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || p.CountEventually("revocation.success", "", 1) != 1 || p.CountEventually("client_credentials.destroyed", "", 1) != 1 {
		t.Errorf("revocation: %s, events %+v", resp.Status, p.Events())
	}
}

func TestWrongPasswordIsRefused(t *testing.T) {
	p := startTimed(t, Options{})
	b := NewBrowser(t, p, BrowserOptions{Password: "not-" + p.Password})
	q := url.Values{"client_id": {NativeClientID}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1:9/callback"}, "scope": {"openid"},
		"state": {"s"}, "code_challenge": {b64(make([]byte, 32))}, "code_challenge_method": {"S256"}}
	out, err := b.Visit(context.Background(), p.Issuer+"/auth?"+q.Encode())
	if err == nil || !strings.Contains(err.Error(), "Wrong login or password") {
		t.Errorf("a wrong password: %q, %v; want the IdP's refusal", out, err)
	}
	if n := p.CountEventually("login.failed", "", 1); n != 1 {
		t.Errorf("%d failed logins, want 1", n)
	}
}

// TestNothingLeftBehind: when a test ends, the IdP's process group and
// every browser $BROWSER started, finished or not, are gone.
func TestNothingLeftBehind(t *testing.T) {
	var idpPID int
	var groups []int
	var profiles string
	ran := t.Run("run", func(t *testing.T) {
		p := Start(t, Options{})
		b := NewBrowser(t, p, BrowserOptions{})
		idpPID, profiles = p.pid, b.dir
		// A page that never loads: the browser waits until its own
		// timeout, long after this test.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		if out, err := exec.Command(b.Path, "http://"+ln.Addr().String()+"/").CombinedOutput(); err != nil {
			t.Fatalf("$BROWSER: %v %s", err, out)
		}
		deadline := time.Now().Add(5 * time.Second)
		for len(b.groups()) == 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		groups = b.groups()
		if len(groups) != 1 {
			t.Fatalf("browser groups %v, want 1", groups)
		}
		for len(processesNaming(profiles)) == 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if len(processesNaming(profiles)) == 0 {
			t.Fatal("chromium did not start")
		}
	})
	if !ran || profiles == "" {
		t.Skip("the run did not complete")
	}
	deadline := time.Now().Add(2 * time.Second)
	for _, pgid := range append(groups, idpPID) {
		for live := alive(pgid); len(live) > 0; live = alive(pgid) {
			if time.Now().After(deadline) {
				t.Fatalf("process group %d still running after the test: %v", pgid, live)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for c := processesNaming(profiles); len(c) > 0; c = processesNaming(profiles) {
		if time.Now().After(deadline) {
			t.Fatalf("chromium still running after the test: %v", c)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// alive lists the processes of group pgid that are not zombies (a killed
// process whose parent is gone waits for init to reap it).
func alive(pgid int) []string {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var live []string
	for _, f := range stats {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:]) // state ppid pgrp ...
		if len(fields) > 2 && fields[2] == strconv.Itoa(pgid) && fields[0] != "Z" {
			live = append(live, s[:i+1])
		}
	}
	return live
}

// dpopProver makes DPoP proofs (RFC 9449 §4.2) with a P-256 key.
type dpopProver struct {
	key *ecdsa.PrivateKey
	jwk map[string]any
	jkt string
}

func newDPoPProver(t *testing.T) dpopProver {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pt, _ := key.PublicKey.ECDH()
	raw := pt.Bytes()
	jwk := map[string]any{"crv": "P-256", "kty": "EC", "x": b64(raw[1:33]), "y": b64(raw[33:])}
	canon, _ := json.Marshal(jwk)
	sum := sha256.Sum256(canon)
	return dpopProver{key: key, jwk: jwk, jkt: b64(sum[:])}
}

func (d dpopProver) proof(t *testing.T, htu, nonce string) string {
	t.Helper()
	claims := gojwt.MapClaims{"htm": "POST", "htu": htu, "iat": time.Now().Unix(), "jti": randomString(20)}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	tok := gojwt.NewWithClaims(gojwt.SigningMethodES256, claims)
	tok.Header["typ"], tok.Header["jwk"] = "dpop+jwt", d.jwk
	s, err := tok.SignedString(d.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// With DPoPNonce the token endpoint wants its nonce (400 use_dpop_nonce
// and a DPoP-Nonce header, reported as an event), then binds the token to
// the proof's key (token_type DPoP, cnf.jkt); with NoDPoP it ignores the
// proof and issues a bearer token.
func TestDPoPOptions(t *testing.T) {
	for _, o := range []Options{{DPoPNonce: true}, {NoDPoP: true}} {
		p := startTimed(t, o)
		d := newDPoPProver(t)
		form := url.Values{"grant_type": {"client_credentials"}, "resource": {p.Resources[0]}, "scope": {"api:read"}}
		post := func(nonce string) (*http.Response, tokenResponse) {
			req, _ := http.NewRequest("POST", p.Issuer+"/token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("DPoP", d.proof(t, p.Issuer+"/token", nonce))
			req.SetBasicAuth(SecretClientID, p.ClientSecret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var r tokenResponse
			json.NewDecoder(resp.Body).Decode(&r)
			return resp, r
		}
		resp, r := post("")
		if o.NoDPoP {
			if resp.StatusCode != 200 || r.TokenType != "Bearer" || jwtClaims(t, r.AccessToken, "at+jwt")["cnf"] != nil {
				t.Errorf("NoDPoP: HTTP %d, token_type %q; want 200 and an unbound Bearer token", resp.StatusCode, r.TokenType)
			}
			continue
		}
		nonce := resp.Header.Get("DPoP-Nonce")
		if resp.StatusCode != 400 || nonce == "" || p.CountEventually("dpop.nonce_challenge", "/token", 1) != 1 {
			t.Fatalf("a proof without a nonce: HTTP %d, DPoP-Nonce %q, events %+v; want 400 use_dpop_nonce with a nonce", resp.StatusCode, nonce, p.Events())
		}
		resp, r = post(nonce)
		cnf, _ := jwtClaims(t, r.AccessToken, "at+jwt")["cnf"].(map[string]any)
		if resp.StatusCode != 200 || r.TokenType != "DPoP" || cnf["jkt"] != d.jkt {
			t.Errorf("with the nonce: HTTP %d, token_type %q, cnf %v; want a DPoP token bound to %s", resp.StatusCode, r.TokenType, cnf, d.jkt)
		}
	}
}
