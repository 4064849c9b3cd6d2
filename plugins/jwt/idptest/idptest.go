// Package idptest runs a real OpenID provider and a real headless browser
// for tests of authx's single sign-on: panva's oidc-provider (npm, pinned in
// testdata/idp/package-lock.json) under node, and Debian's chromium driven
// by puppeteer-core, which fills the provider's own login and consent pages
// the way a person does.
//
// It lives beside the jwt scheme, whose oauth2 mode it exercises, and not in
// core/internal, so that cmd/authx's end-to-end tests can use it too.
//
// Tests skip, saying why, when node, chromium or the node modules are
// missing; .ci/run installs all three (`npm ci` in testdata/idp) and sets
// AUTHX_REQUIRE_IDPTEST=1, which makes such a skip a failure, so CI never
// skips. Everything listens on 127.0.0.1 and needs no network.
package idptest

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The clients every IdP registers. Public clients must use PKCE (S256).
const (
	// NativeClientID is a public native client (no secret) for the
	// authorization code flow, with any loopback port (RFC 8252 §7.3) on the
	// path /callback: http://127.0.0.1:PORT/callback.
	NativeClientID = "authx-native"
	// DeviceClientID is a public client for the device flow (RFC 8628).
	DeviceClientID = "authx-device"
	// SecretClientID authenticates with client_secret_basic (ClientSecret)
	// for client_credentials and token exchange.
	SecretClientID = "authx-secret"
	// PostClientID is SecretClientID with client_secret_post.
	PostClientID = "authx-post"
	// KeyClientID authenticates with private_key_jwt (ClientKeyPEM) for
	// client_credentials, token exchange and the authorization code flow.
	KeyClientID = "authx-jwt"

	// TokenExchange is the RFC 8693 grant type the IdP registers.
	TokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	// DeviceCode is the RFC 8628 grant type.
	DeviceCode = "urn:ietf:params:oauth:grant-type:device_code"
)

// Options configure an IdP.
type Options struct {
	// AccessTokenTTL is the lifetime of every access token (default 5
	// minutes); a few seconds make refresh tests quick. Whole seconds.
	AccessTokenTTL time.Duration
	// DPoPNonce makes the IdP demand its nonce in every DPoP proof (RFC
	// 9449 §8, §9: features.dPoP.nonceSecret and requireNonce): a proof
	// without it gets use_dpop_nonce and a DPoP-Nonce header, at the token
	// endpoint and at userinfo. DPoP itself is on by default.
	DPoPNonce bool
	// NoDPoP turns DPoP off: the IdP ignores proofs and issues bearer
	// tokens.
	NoDPoP bool
}

// IdP is a running oidc-provider.
type IdP struct {
	// Issuer is http://127.0.0.1:PORT, the discovery document at
	// Issuer + "/.well-known/openid-configuration".
	Issuer string
	// User and Password log in on the IdP's login page.
	User, Password string
	// Resources are the resource servers (RFC 8707) the IdP knows: a
	// `resource` naming one gets a JWT access token (typ at+jwt) with that
	// audience and the scopes api:read and api:write.
	Resources []string
	// ClientSecret is the secret of SecretClientID and PostClientID.
	ClientSecret string
	// ClientKeyPEM is KeyClientID's RSA private key (PKCS #8 PEM), whose
	// public half the IdP holds; ClientKeyID is its kid.
	ClientKeyPEM []byte
	ClientKeyID  string

	pid    int // the node process, leader of its process group
	mu     sync.Mutex
	events []Event
	stderr bytes.Buffer
}

// Event is one event of the provider, as it reported it: "grant.success"
// with the grant type (one per answered token request), "grant.error" with
// the error, "refresh_token.consumed" (a refresh token used, and rotated),
// "revocation.success" (one per revocation request answered 200) with
// "refresh_token.destroyed" or "access_token.destroyed" for the token it
// revoked and "grant.revoked", "login.failed" (a wrong password),
// "dpop.nonce_challenge" (a use_dpop_nonce answer; GrantType holds the
// path), "userinfo" (one per answer of /me; GrantType holds the
// Authorization scheme, Error the status when not 200), ...
type Event struct {
	Event     string `json:"event"`
	GrantType string `json:"grant_type,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Error     string `json:"error,omitempty"`
	// TokenKind is the token's kind (RefreshToken, AccessToken,
	// ClientCredentials, DeviceCode) in its events: refresh_token.destroyed
	// after a revocation, ...
	TokenKind string `json:"token_kind,omitempty"`
}

// dir is testdata/idp beside this file: the node project.
func dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", "idp")
}

// RequireEnv names the environment variable that turns a skip for a
// missing node, chromium or node modules into a failure: .ci/run sets it,
// so that CI never skips the single sign-on tests.
const RequireEnv = "AUTHX_REQUIRE_IDPTEST"

// missing skips the test, or fails it under RequireEnv, saying what is
// missing.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv(RequireEnv) != "" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// needNode skips the test unless node and the node modules are there.
func needNode(t testing.TB) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "idptest: node is not installed (.ci/run installs it)")
	}
	if _, err := os.Stat(filepath.Join(dir(), "node_modules", "oidc-provider")); err != nil {
		missing(t, "idptest: the IdP's node modules are missing: run `npm ci --omit=dev` in %s (.ci/run does)", dir())
	}
	return node
}

// Start starts an IdP for the test and stops it (its whole process group)
// when the test ends. It fails the test if the IdP is not ready within 30
// seconds.
func Start(t testing.TB, o Options) *IdP {
	t.Helper()
	node := needNode(t)
	ttl := o.AccessTokenTTL
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p := &IdP{
		User:         "alice",
		Password:     "wonderland-" + randomString(8),
		Resources:    []string{"https://api.authx.test", "https://other.authx.test"},
		ClientSecret: "client-secret-" + randomString(16),
		ClientKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		ClientKeyID:  "authx-test-key",
	}
	cfgPath := filepath.Join(t.TempDir(), "idp.json")
	if err := os.WriteFile(cfgPath, p.config(&key.PublicKey, int(ttl/time.Second), o), 0o600); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(node, filepath.Join(dir(), "provider.mjs"), cfgPath)
	cmd.Dir = dir()
	cmd.Env = append(os.Environ(), "NODE_ENV=test")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = &lockedWriter{mu: &p.mu, w: &p.stderr}
	stdin, err := cmd.StdinPipe() // closed at cleanup: the IdP exits
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.pid = cmd.Process.Pid
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(2 * time.Second):
		}
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the group: nothing left behind
		<-exited
		if t.Failed() {
			t.Logf("idptest: IdP events: %+v\nIdP stderr:\n%s", p.Events(), p.Stderr())
		}
	})

	ready := make(chan string, 1)
	go p.read(stdout, ready)
	select {
	case issuer := <-ready:
		p.Issuer = issuer
	case <-exited:
		t.Fatalf("idptest: the IdP exited before it was ready: %s", p.Stderr())
	case <-time.After(30 * time.Second):
		t.Fatalf("idptest: the IdP was not ready within 30s: %s", p.Stderr())
	}
	return p
}

// config is the JSON file provider.mjs reads.
func (p *IdP) config(pub *rsa.PublicKey, ttlSeconds int, o Options) []byte {
	loopback := []string{"http://127.0.0.1/callback"}
	clients := []map[string]any{
		{"client_id": NativeClientID, "application_type": "native", "token_endpoint_auth_method": "none",
			"redirect_uris": loopback, "grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"}},
		{"client_id": DeviceClientID, "application_type": "native", "token_endpoint_auth_method": "none",
			"redirect_uris": []string{}, "grant_types": []string{DeviceCode, "refresh_token"}, "response_types": []string{}},
		{"client_id": SecretClientID, "client_secret": p.ClientSecret, "token_endpoint_auth_method": "client_secret_basic",
			"redirect_uris": []string{}, "grant_types": []string{"client_credentials", TokenExchange}, "response_types": []string{}},
		{"client_id": PostClientID, "client_secret": p.ClientSecret, "token_endpoint_auth_method": "client_secret_post",
			"redirect_uris": []string{}, "grant_types": []string{"client_credentials", TokenExchange}, "response_types": []string{}},
		{"client_id": KeyClientID, "application_type": "native", "token_endpoint_auth_method": "private_key_jwt",
			"jwks": map[string]any{"keys": []map[string]string{{
				"kty": "RSA", "kid": p.ClientKeyID, "use": "sig", "alg": "RS256",
				"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
			}}},
			"redirect_uris": loopback, "grant_types": []string{"client_credentials", TokenExchange, "authorization_code", "refresh_token"},
			"response_types": []string{"code"}},
	}
	b, _ := json.Marshal(map[string]any{
		"port": 0, "user": p.User, "password": p.Password, "resources": p.Resources,
		"access_token_ttl": ttlSeconds, "clients": clients, "dpop": !o.NoDPoP, "dpop_nonce": o.DPoPNonce,
	})
	return b
}

// read takes the ready line, then records the events.
func (p *IdP) read(r io.Reader, ready chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	for sc.Scan() {
		var line struct {
			Ready  bool   `json:"ready"`
			Issuer string `json:"issuer"`
			Event
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		if line.Ready {
			ready <- line.Issuer
			continue
		}
		p.mu.Lock()
		p.events = append(p.events, line.Event)
		p.mu.Unlock()
	}
}

// Events returns the events so far.
func (p *IdP) Events() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Event(nil), p.events...)
}

// Count is the number of events named event, of the grant type grantType
// if it is not empty: Count("grant.success", "refresh_token") is the number
// of refreshes the IdP answered. Events are printed as they happen, so a
// count may lag an answer by a moment; CountEventually waits for it.
func (p *IdP) Count(event, grantType string) int {
	n := 0
	for _, e := range p.Events() {
		if e.Event == event && (grantType == "" || e.GrantType == grantType) {
			n++
		}
	}
	return n
}

// CountEventually waits up to a second for Count to reach want, and
// returns it then (more than want, as soon as that is seen).
func (p *IdP) CountEventually(event, grantType string, want int) int {
	deadline := time.Now().Add(time.Second)
	for {
		n := p.Count(event, grantType)
		if n >= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stderr is what the IdP printed on stderr (warnings, errors).
func (p *IdP) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w.Len() < 1<<20 {
		l.w.Write(b)
	}
	return len(b), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return strings.ToLower(base64.RawURLEncoding.EncodeToString(b))[:n]
}
