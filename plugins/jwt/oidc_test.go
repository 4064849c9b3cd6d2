package jwt

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/plugins/jwt/jwttest"
)

// fakeBrowser is the host's UI in tests: OpenURL does in the background
// what a browser does with the URL (GET it, following redirects, here to
// the loopback listener); rewrite, when set, may change each redirect's
// target first (a tampered or stale redirect). Notify records the message.
type fakeBrowser struct {
	rewrite func(*url.URL)
	noOpen  bool // the user never acts

	mu      sync.Mutex
	opened  []string
	notices []string
	pages   []string // the final page of each URL opened
	wg      sync.WaitGroup
}

func (b *fakeBrowser) Notify(_ context.Context, msg string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.notices = append(b.notices, msg)
	return nil
}

func (b *fakeBrowser) OpenURL(_ context.Context, target string) error {
	b.mu.Lock()
	b.opened = append(b.opened, target)
	b.mu.Unlock()
	if b.noOpen {
		return nil
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		page := b.visit(target)
		b.mu.Lock()
		b.pages = append(b.pages, page)
		b.mu.Unlock()
	}()
	return nil
}

// visit GETs target and the redirects it leads to, and returns the final
// page as "STATUS body".
func (b *fakeBrowser) visit(target string) string {
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for range 5 {
		resp, err := c.Get(target)
		if err != nil {
			return "error " + err.Error()
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode/100 != 3 || loc == "" {
			return resp.Status + " " + string(body)
		}
		u, _ := resp.Request.URL.Parse(loc)
		if b.rewrite != nil {
			b.rewrite(u)
		}
		target = u.String()
	}
	return "too many redirects"
}

// done waits for the pages and returns them.
func (b *fakeBrowser) done() []string {
	b.wg.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.pages...)
}

// fakeClock is a clock that the device flow's sleeps advance, shared with
// the emulator.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
	// onSleep runs after each sleep with its index.
	onSleep func(i int)
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.sleeps = append(c.sleeps, d)
	i, f := len(c.sleeps), c.onSleep
	c.mu.Unlock()
	if f != nil {
		f(i)
	}
	return ctx.Err()
}

// oidcProfile is an oauth2-mode profile of the public client "native" at
// the emulator's issuer, with extra keys.
func oidcProfile(s *jwttest.Server, grant string, extra core.Config) core.Config {
	cfg := core.Config{"mode": "oauth2", "issuer": s.URL, "grant": grant, "client_id": "native"}
	for k, v := range extra {
		cfg[k] = v
	}
	return cfg
}

// startIdP starts the emulator with a public native client and a
// confidential one, and a private cache directory.
func startIdP(t *testing.T, o jwttest.Options) *jwttest.Server {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	o.Clients = map[string]string{"native": "", "cli": "s3cret-client"}
	o.RotateRefresh = true
	s := jwttest.Start(o)
	t.Cleanup(s.Close)
	return s
}

func TestAuthorizationCodeLogin(t *testing.T) {
	s := startIdP(t, jwttest.Options{})
	b := &fakeBrowser{}
	sch := New()
	cfg := oidcProfile(s, "authorization_code", core.Config{"scope": []any{"offline_access"}})
	c, err := sch.Login(context.Background(), core.LoginRequest{Config: cfg, UI: b})
	if err != nil {
		t.Fatal(err)
	}
	pages := b.done()
	if len(pages) != 1 || !strings.HasPrefix(pages[0], "200 ") || !strings.Contains(pages[0], "authx: signed in, you can close this tab") {
		t.Fatalf("landing page: %q", pages)
	}
	// The authorization request, as a real IdP reads it.
	u, _ := url.Parse(b.opened[0])
	q := u.Query()
	for k, want := range map[string]string{"response_type": "code", "client_id": "native", "code_challenge_method": "S256",
		"scope": "openid offline_access", "prompt": "consent"} {
		if q.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, q.Get(k), want)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if v := q.Get(k); len(v) != 43 || strings.ContainsAny(v, "+/=") {
			t.Errorf("%s = %q: want 32 random bytes in base64url without padding", k, v)
		}
	}
	if r, _ := url.Parse(q.Get("redirect_uri")); r.Scheme != "http" || r.Hostname() != "127.0.0.1" || r.Port() == "" || r.Path != "/callback" {
		t.Errorf("redirect_uri = %s", q.Get("redirect_uri"))
	}
	if c.Token == "" || c.IDToken == "" || stateOf(c).RefreshToken == "" || c.ExpiresAt.IsZero() {
		t.Fatalf("credential: %+v", c)
	}
	// The session lives on with the rotated refresh token, and no browser.
	first := stateOf(c).RefreshToken
	r, err := sch.Refresh(context.Background(), core.RefreshRequest{Config: cfg, Credential: c})
	if err != nil {
		t.Fatal(err)
	}
	if got := stateOf(r).RefreshToken; got == "" || got == first || r.IDToken == "" {
		t.Fatalf("refresh: rotated %q (was %q), id_token %t", got, first, r.IDToken != "")
	}
	if len(b.opened) != 1 {
		t.Fatalf("the refresh opened a browser: %v", b.opened)
	}
	// Logout revokes the refresh token and the access token.
	if err := sch.Logout(context.Background(), core.LogoutRequest{Config: cfg, Credential: r}); err != nil {
		t.Fatal(err)
	}
	if !s.Revoked(stateOf(r).RefreshToken) || !s.Revoked(r.Token) {
		t.Fatalf("not revoked: refresh %t, access %t", s.Revoked(stateOf(r).RefreshToken), s.Revoked(r.Token))
	}
	if _, err := sch.Refresh(context.Background(), core.RefreshRequest{Config: cfg, Credential: r}); core.KindOf(err) != core.KindLoginRequired {
		t.Fatalf("refresh after logout: %v", err)
	}
}

// Without offline_access the IdP issues no refresh token: the prompt is
// not forced, and the next login needs the browser again.
func TestAuthorizationCodeWithoutOfflineAccess(t *testing.T) {
	s := startIdP(t, jwttest.Options{})
	b := &fakeBrowser{}
	c, err := New().Login(context.Background(), core.LoginRequest{Config: oidcProfile(s, "authorization_code", nil), UI: b})
	if err != nil {
		t.Fatal(err)
	}
	b.done()
	q, _ := url.Parse(b.opened[0])
	if q.Query().Has("prompt") || q.Query().Get("scope") != "openid" {
		t.Fatalf("authorization request: %s", q.RawQuery)
	}
	if stateOf(c).RefreshToken != "" || c.IDToken == "" {
		t.Fatalf("credential: %+v", c)
	}
}

func TestAuthorizationCodeErrors(t *testing.T) {
	deny := func(url.Values) (string, string) { return "", "access_denied" }
	tests := []struct {
		name    string
		opts    jwttest.Options
		cfg     core.Config
		browser *fakeBrowser
		noUI    bool
		kind    core.Kind
		want    string
		page    string // the landing page holds it; "" when no page is expected
	}{
		{name: "access denied", opts: jwttest.Options{Authorize: deny}, kind: core.KindRejected,
			want: "browser login: the identity provider answered: End-User aborted interaction (access_denied)", page: "authx: sign-in failed"},
		{name: "state mismatch", browser: &fakeBrowser{rewrite: func(u *url.URL) {
			if q := u.Query(); q.Has("state") {
				q.Set("state", "forged")
				u.RawQuery = q.Encode()
			}
		}}, kind: core.KindTimeout, want: "browser login: no sign-in within 200ms", page: "not for the sign-in authx is waiting for"}, // a forged redirect does not end the login
		{name: "mix-up: another issuer", browser: &fakeBrowser{rewrite: func(u *url.URL) {
			if q := u.Query(); q.Has("iss") {
				q.Set("iss", "https://evil.example")
				u.RawQuery = q.Encode()
			}
		}}, kind: core.KindRejected, want: `the redirect comes from the issuer "https://evil.example"`, page: "sign-in failed"},
		{name: "nonce mismatch", opts: jwttest.Options{BadNonce: true}, kind: core.KindTokenInvalid,
			want: "the id_token: token is invalid: nonce is not the one authx sent", page: "sign-in failed"},
		{name: "wrong issuer in discovery", opts: jwttest.Options{DiscoveryIssuer: "https://idp.example.com"}, kind: core.KindBadAnswer,
			want: `the metadata is for the issuer "https://idp.example.com", not http://127.0.0.1:`},
		{name: "prompt none without a session", cfg: core.Config{"prompt": "none"}, kind: core.KindLoginRequired,
			want: "End-User authentication is required (login_required)", page: "sign-in failed"},
		{name: "unregistered redirect path: the IdP shows an error page, the login times out", cfg: core.Config{"redirect_path": "/cb"}, kind: core.KindTimeout,
			want: "browser login: no sign-in within 200ms"},
		{name: "no UI", noUI: true, kind: core.KindLoginRequired, want: "and this run cannot reach them (no terminal, --no-input or CI): run: authx login"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startIdP(t, tc.opts)
			b := tc.browser
			if b == nil {
				b = &fakeBrowser{}
			}
			req := core.LoginRequest{Config: oidcProfile(s, "authorization_code", tc.cfg), UI: b}
			if tc.noUI {
				req.UI = nil
			}
			sch := &Scheme{BrowserTimeout: 200 * time.Millisecond}
			c, err := sch.Login(context.Background(), req)
			if c != nil {
				t.Fatalf("credential %+v", c)
			}
			requireKind(t, err, tc.kind, tc.want)
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error not one line: %q", err)
			}
			pages := b.done()
			if tc.page != "" && (len(pages) != 1 || !strings.Contains(pages[0], tc.page)) {
				t.Fatalf("pages %q, want %q", pages, tc.page)
			}
			if tc.noUI && s.Requests("/.well-known/openid-configuration") != 0 {
				t.Fatalf("a login that cannot happen fetched the metadata")
			}
		})
	}
}

func TestDeviceCodeLogin(t *testing.T) {
	clk := &fakeClock{t: time.Now()}
	s := startIdP(t, jwttest.Options{Now: clk.Now})
	b := &fakeBrowser{noOpen: true}
	clk.onSleep = func(i int) {
		if i == 3 { // the user approves after two pending polls
			b.mu.Lock()
			opened := b.opened[0]
			b.mu.Unlock()
			b.visit(opened)
		}
	}
	sch := &Scheme{Now: clk.Now, Sleep: clk.Sleep}
	cfg := oidcProfile(s, "device_code", core.Config{"scope": "offline_access"})
	c, err := sch.Login(context.Background(), core.LoginRequest{Config: cfg, UI: b})
	if err != nil {
		t.Fatal(err)
	}
	if c.IDToken == "" || stateOf(c).RefreshToken == "" {
		t.Fatalf("credential %+v", c)
	}
	if len(b.notices) != 1 || !strings.Contains(b.notices[0], "open "+s.URL+"/device and enter the code ") ||
		!strings.Contains(b.notices[0], "(or open "+s.URL+"/device?user_code=") {
		t.Fatalf("notices %q", b.notices)
	}
	if len(b.opened) != 1 || !strings.HasPrefix(b.opened[0], s.URL+"/device?user_code=") {
		t.Fatalf("opened %q", b.opened)
	}
	// oidc-provider sends no interval: every 5 s, as RFC 8628 says.
	if want := []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second}; !equalDurations(clk.sleeps, want) {
		t.Fatalf("sleeps %v, want %v", clk.sleeps, want)
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDeviceCodeErrors(t *testing.T) {
	tests := []struct {
		name      string
		opts      jwttest.Options
		approveAt int // the sleep after which the browser acts; 0 never
		noUI      bool
		kind      core.Kind
		want      string
		sleeps    []time.Duration // when not nil
	}{
		{name: "slow_down", opts: jwttest.Options{SlowDown: 2}, approveAt: 1,
			sleeps: []time.Duration{5 * time.Second, 10 * time.Second, 15 * time.Second}},
		{name: "interval enforced", opts: jwttest.Options{DeviceInterval: 7 * time.Second}, approveAt: 2,
			sleeps: []time.Duration{7 * time.Second, 7 * time.Second}},
		{name: "access_denied", opts: jwttest.Options{Authorize: func(url.Values) (string, string) { return "", "access_denied" }}, approveAt: 1,
			kind: core.KindRejected, want: "device login: the sign-in was refused (access_denied)"},
		{name: "expired", kind: core.KindTimeout, want: "the code was not approved within 10m0s"},
		{name: "no UI", noUI: true, kind: core.KindLoginRequired, want: "a device login (grant device_code) needs the user"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := &fakeClock{t: time.Now()}
			tc.opts.Now = clk.Now
			s := startIdP(t, tc.opts)
			b := &fakeBrowser{noOpen: true}
			clk.onSleep = func(i int) {
				if i == tc.approveAt {
					b.visit(b.opened[0])
				}
			}
			req := core.LoginRequest{Config: oidcProfile(s, "device_code", nil), UI: b}
			if tc.noUI {
				req.UI = nil
			}
			c, err := (&Scheme{Now: clk.Now, Sleep: clk.Sleep}).Login(context.Background(), req)
			if tc.kind == 0 {
				if err != nil || c == nil {
					t.Fatalf("login: %v", err)
				}
			} else {
				requireKind(t, err, tc.kind, tc.want)
			}
			if tc.sleeps != nil && !equalDurations(clk.sleeps, tc.sleeps) {
				t.Fatalf("sleeps %v, want %v", clk.sleeps, tc.sleeps)
			}
		})
	}
}

// expired_token from the server ends the wait before the client's own
// deadline.
func TestDeviceExpiredToken(t *testing.T) {
	doc := map[string]any{"device_code": "dc", "user_code": "ABCD-EFGH", "verification_uri": "https://idp.example/device", "expires_in": 1800.0}
	da, err := parseDeviceAuthorization(doc, "x")
	if err != nil || da.lifetime != 30*time.Minute || da.interval != 5*time.Second {
		t.Fatalf("%+v %v", da, err)
	}
	srv := newTokenServer(t, `{"error":"expired_token","error_description":"device code is expired"}`)
	st, err := settingsFor(core.Config{"mode": "oauth2", "token_url": srv, "client_id": "x", "grant": "device_code", "device_authorization_url": srv}, "")
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{t: time.Now()}
	_, err = (&Scheme{Now: clk.Now, Sleep: clk.Sleep}).pollDevice(context.Background(), st, da)
	requireKind(t, err, core.KindTimeout, "the code expired before it was approved (expired_token)")
}

func TestParseDeviceAuthorizationRefuses(t *testing.T) {
	for _, doc := range []map[string]any{
		{"device_code": "dc", "user_code": "AB"},
		{"device_code": "dc", "user_code": "AB\r\nX", "verification_uri": "https://idp.example/device"},
		{"device_code": "dc", "user_code": "AB", "verification_uri": "javascript:alert(1)"},
	} {
		if _, err := parseDeviceAuthorization(doc, "x"); core.KindOf(err) != core.KindBadAnswer {
			t.Errorf("%v: %v", doc, err)
		}
	}
	// Google's spelling.
	da, err := parseDeviceAuthorization(map[string]any{"device_code": "dc", "user_code": "AB", "verification_url": "https://www.google.com/device", "interval": 5.0}, "x")
	if err != nil || da.verificationURI != "https://www.google.com/device" {
		t.Fatalf("%+v %v", da, err)
	}
}

func TestDiscovery(t *testing.T) {
	s := startIdP(t, jwttest.Options{NoOIDCDiscovery: true, DiscoveryCacheControl: "public, max-age=3600"})
	sch := New()
	cfg := core.Config{"mode": "oauth2", "issuer": s.URL, "client_id": "cli", "client_secret": "s3cret-client"}
	for range 2 {
		if _, err := sch.Login(context.Background(), core.LoginRequest{Config: cfg}); err != nil {
			t.Fatal(err)
		}
	}
	// RFC 8414 after OIDC Discovery's 404, once: the second login read the cache.
	if a, b := s.Requests("/.well-known/openid-configuration"), s.Requests("/.well-known/oauth-authorization-server"); a != 1 || b != 1 {
		t.Fatalf("metadata fetched %d + %d times", a, b)
	}
	if fi, err := os.Stat(metadataCachePath(jwksCacheDir(), s.URL)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("cache file: %v %v", fi, err)
	}
	// An explicit token_url wins over the metadata.
	cfg["token_url"] = s.URL + "/nowhere"
	_, err := sch.Login(context.Background(), core.LoginRequest{Config: cfg})
	requireKind(t, err, core.KindConfig, "/nowhere: HTTP 404")
}

func TestDiscoveryNoStore(t *testing.T) {
	s := startIdP(t, jwttest.Options{DiscoveryCacheControl: "no-store"})
	cfg := core.Config{"mode": "oauth2", "issuer": s.URL, "client_id": "cli", "client_secret": "s3cret-client"}
	for range 2 {
		if _, err := New().Login(context.Background(), core.LoginRequest{Config: cfg}); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.Requests("/.well-known/openid-configuration"); n != 2 {
		t.Fatalf("metadata fetched %d times, want 2 (no-store)", n)
	}
}

func TestMetadataURLs(t *testing.T) {
	for iss, want := range map[string][2]string{
		"https://idp.example.com":             {"https://idp.example.com/.well-known/openid-configuration", "https://idp.example.com/.well-known/oauth-authorization-server"},
		"https://idp.example.com/realms/main": {"https://idp.example.com/realms/main/.well-known/openid-configuration", "https://idp.example.com/.well-known/oauth-authorization-server/realms/main"},
		"https://tenant.auth0.com/":           {"https://tenant.auth0.com/.well-known/openid-configuration", "https://tenant.auth0.com/.well-known/oauth-authorization-server"},
		"http://127.0.0.1:8080/oidc":          {"http://127.0.0.1:8080/oidc/.well-known/openid-configuration", "http://127.0.0.1:8080/.well-known/oauth-authorization-server/oidc"},
	} {
		if got := metadataURLs(iss); got[0] != want[0] || got[1] != want[1] {
			t.Errorf("%s: %v, want %v", iss, got, want)
		}
	}
}

func TestFreshness(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	date := now.Format(http.TimeFormat)
	for _, tc := range []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{}, defaultJWKSTTL},
		{http.Header{"Cache-Control": {"public, max-age=600"}}, 10 * time.Minute},
		{http.Header{"Cache-Control": {"max-age=99999999"}}, maxMetadataTTL},
		{http.Header{"Cache-Control": {"no-cache, must-revalidate, no-transform, no-store"}}, 0}, // Keycloak
		{http.Header{"Expires": {now.Add(time.Hour).Format(http.TimeFormat)}, "Date": {date}}, time.Hour},
		{http.Header{"Expires": {"0"}}, 0},
		{http.Header{"Expires": {now.Add(-time.Hour).Format(http.TimeFormat)}, "Date": {date}}, 0},
		{http.Header{"Cache-Control": {"max-age=60"}, "Expires": {now.Add(time.Hour).Format(http.TimeFormat)}}, time.Minute},
	} {
		if got := freshness(tc.h, now); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.h, got, tc.want)
		}
	}
}

func TestParseMetadata(t *testing.T) {
	const iss = "https://idp.example.com/realms/main"
	for _, tc := range []struct {
		doc, want string
	}{
		{`{"issuer":"https://idp.example.com/realms/main/"}`, `for the issuer "https://idp.example.com/realms/main/", not`},
		{`{"issuer":"https://IDP.example.com/realms/main"}`, "character for character"},
		{`{}`, "the metadata has no issuer"},
		{`[]`, "not a JSON object"},
		{`{"issuer":"` + iss + `","token_endpoint":"http://idp.example.com/token"}`, "token_endpoint uses plain http"},
		{`{"issuer":"` + iss + `","jwks_uri":7}`, "jwks_uri is not a string"},
		{`{"issuer":"` + iss + `","authorization_endpoint":"/auth"}`, "authorization_endpoint is not an absolute URL"},
	} {
		if _, err := parseMetadata([]byte(tc.doc), iss); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.doc, err, tc.want)
		}
	}
	md, err := parseMetadata([]byte(`{"issuer":"`+iss+`","token_endpoint":"https://idp.example.com/t","device_authorization_endpoint":null}`), iss)
	if err != nil || md.TokenEndpoint != "https://idp.example.com/t" || md.DeviceAuthorizationEndpoint != "" {
		t.Fatalf("%+v %v", md, err)
	}
}

func TestOIDCConfigDiagnostics(t *testing.T) {
	for _, tc := range []struct {
		cfg         core.Config
		field, want string
	}{
		{core.Config{"mode": "oauth2", "grant": "authorization_code", "client_id": "c", "token_url": "https://idp.example/t"}, "issuer", "needs the issuer"},
		{core.Config{"mode": "oauth2", "grant": "device_code", "client_id": "c", "token_url": "https://idp.example/t"}, "issuer", "or device_authorization_url"},
		{core.Config{"mode": "oauth2", "grant": "device_code", "issuer": "http://idp.example"}, "client_id", "the device_code grant needs client_id"},
		{core.Config{"mode": "oauth2", "issuer": "http://idp.example", "client_id": "c", "client_secret": "s"}, "issuer", "must use https"},
		{core.Config{"mode": "oauth2", "issuer": "https://idp.example?x=1", "client_id": "c", "client_secret": "s"}, "issuer", "no query"},
		{core.Config{"mode": "oauth2", "issuer": "https://idp.example", "grant": "authorization_code", "client_id": "c", "redirect_port": 70000}, "redirect_port", "is not a port"},
		{core.Config{"mode": "oauth2", "issuer": "https://idp.example", "grant": "authorization_code", "client_id": "c", "redirect_path": "cb"}, "redirect_path", "is not a URL path"},
		{core.Config{"mode": "oauth2", "issuer": "https://idp.example", "client_id": "c", "client_secret": "s", "revocation_url": "http://idp.example/r"}, "revocation_url", "must use https"},
		{core.Config{"mode": "login", "login_url": "https://x/l", "username": "u", "password": "p", "redirect_port": 1}, "redirect_port", "is for mode oauth2"},
	} {
		ds := New().Configure(context.Background(), tc.cfg)
		found := false
		for _, d := range ds {
			found = found || d.Field == tc.field && strings.Contains(d.Message, tc.want)
		}
		if !found {
			t.Errorf("%v: %v, want %s: %q", tc.cfg, ds, tc.field, tc.want)
		}
	}
	// A sign-mode issuer is still the iss claim; an oauth2 profile with an
	// issuer needs no token_url.
	if ds := New().Configure(context.Background(), core.Config{"mode": "oauth2", "issuer": "https://idp.example", "client_id": "c", "client_secret": "s"}); len(ds) != 0 {
		t.Fatalf("%v", ds)
	}
}

func TestPKCEChallenge(t *testing.T) {
	// RFC 7636 Appendix B.
	if got := pkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Fatalf("S256 challenge %s", got)
	}
	v := randomToken()
	sum := sha256.Sum256([]byte(v))
	if len(v) != 43 || base64.RawURLEncoding.EncodeToString(sum[:]) != pkceChallenge(v) || v == randomToken() {
		t.Fatalf("random token %q", v)
	}
}

func TestParseCallback(t *testing.T) {
	const state, iss = "s-123", "https://idp.example"
	for _, tc := range []struct {
		query       string
		kind        core.Kind
		want        string
		issRequired bool
	}{
		{"code=abc&state=s-123", 0, "abc", false},
		{"code=abc&state=s-123", core.KindRejected, "carries no iss", true},
		{"code=abc&state=s-123&iss=https%3A%2F%2Fidp.example", 0, "abc", true},
		{"code=abc&state=s-123&iss=https%3A%2F%2Fidp.example", 0, "abc", false},
		{"code=abc&state=other", core.KindRejected, "another state", false},
		{"code=abc", core.KindRejected, "another state", false},
		{"code=abc&state=s-123&iss=https%3A%2F%2Fevil", core.KindRejected, "RFC 9207", false},
		{"code=&state=s-123", core.KindBadAnswer, "no single code", false},
		{"code=a&code=b&state=s-123", core.KindBadAnswer, "no single code", false},
		{"error=access_denied&error_description=The+user+said+no%0D%0AX-Evil:+1&state=s-123", core.KindRejected, "The user said no X-Evil: 1 (access_denied)", false},
		{"error=access_denied&state=other", core.KindRejected, "another state", false},
		{"error=consent_required&state=s-123", core.KindLoginRequired, "answered: consent_required", false},
		{"error=temporarily_unavailable&state=s-123", core.KindHTTPServer, "temporarily_unavailable", false},
		{"error=invalid_scope&error_description=%00bad&state=s-123", core.KindConfig, "bad (invalid_scope)", false},
	} {
		q, _ := url.ParseQuery(tc.query)
		code, err := parseCallback(q, state, iss, tc.issRequired)
		if tc.kind == 0 {
			if err != nil || code != tc.want {
				t.Errorf("%s: %q %v", tc.query, code, err)
			}
			continue
		}
		if core.KindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.want) || strings.ContainsAny(err.Error(), "\r\n\x00") {
			t.Errorf("%s: %v (kind %v), want %v %q", tc.query, err, core.KindOf(err), tc.kind, tc.want)
		}
	}
}

func TestIDTokenClaims(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{"iss": "i", "sub": "alice", "aud": "native", "exp": 1.0, "nonce": "n1"}
	}
	for _, tc := range []struct {
		edit func(map[string]any)
		want string
	}{
		{func(c map[string]any) { delete(c, "sub") }, "sub is missing"},
		{func(c map[string]any) { delete(c, "exp") }, "exp is missing"},
		{func(c map[string]any) { c["azp"] = "other" }, `azp is "other", not "native"`},
		{func(c map[string]any) { c["nonce"] = "n2" }, "nonce is not the one authx sent"},
		{func(c map[string]any) { delete(c, "nonce") }, "nonce is not the one authx sent"},
		{func(c map[string]any) { c["aud"] = []any{"native", "other-client"} }, "aud names several audiences and azp is missing"},
	} {
		c := base()
		tc.edit(c)
		if err := checkIDClaims(c, "native", "n1"); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", c, err, tc.want)
		}
	}
	if err := checkIDClaims(base(), "native", "n1"); err != nil {
		t.Fatal(err)
	}
	several := base()
	several["aud"], several["azp"] = []any{"native", "other-client"}, "native"
	if err := checkIDClaims(several, "native", "n1"); err != nil {
		t.Fatalf("several audiences with azp: %v", err)
	}
}

func TestResourceJWT(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	at := enc(`{"alg":"RS256","typ":"at+jwt"}`) + "." + enc(`{"sub":"a"}`) + "." + enc("sig")
	plain := enc(`{"alg":"RS256","typ":"JWT"}`) + "." + enc(`{"sub":"a"}`) + "." + enc("sig")
	if !resourceJWT(at) || resourceJWT(plain) || resourceJWT("opaque-token") {
		t.Fatal("resourceJWT")
	}
}

// newTokenServer answers every request with HTTP 400 and body.
func newTokenServer(t *testing.T, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestSameSubject(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tok := func(claims string) string { return enc(`{"alg":"ES256"}`) + "." + enc(claims) + "." + enc("sig") }
	alice := tok(`{"iss":"i","sub":"alice"}`)
	for _, tc := range []struct {
		prev, next string
		ok         bool
	}{
		{"", alice, true},
		{alice, tok(`{"iss":"i","sub":"alice","exp":2}`), true},
		{alice, tok(`{"iss":"i","sub":"bob"}`), false},
		{alice, tok(`{"iss":"j","sub":"alice"}`), false},
		{alice, tok(`{"iss":"i","sub":{"x":1}}`), false},
	} {
		if err := sameSubject(tc.prev, tc.next); (err == nil) != tc.ok {
			t.Errorf("%s after %s: %v", tc.next, tc.prev, err)
		}
	}
}

func TestRedirectPortTaken(t *testing.T) {
	s := startIdP(t, jwttest.Options{})
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	b := &fakeBrowser{}
	_, err = New().Login(context.Background(), core.LoginRequest{Config: oidcProfile(s, "authorization_code", core.Config{"redirect_port": port}), UI: b})
	requireKind(t, err, core.KindConfig, fmt.Sprintf("redirect_port: cannot listen on 127.0.0.1:%d for the browser's redirect: bind: address already in use", port))
	if len(b.opened) != 0 {
		t.Fatal("a browser was opened")
	}
}

// A server that quotes the device code in its error does not put it in the
// message.
func TestDevicePollScrubsTheCode(t *testing.T) {
	srv := newTokenServer(t, `{"error":"invalid_grant","error_description":"device code dc-0123456789 is unknown"}`)
	st, err := settingsFor(core.Config{"mode": "oauth2", "token_url": srv, "client_id": "x", "grant": "device_code", "device_authorization_url": srv}, "")
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{t: time.Now()}
	da := deviceAuthorization{deviceCode: "dc-0123456789", interval: time.Second, lifetime: time.Minute}
	_, err = (&Scheme{Now: clk.Now, Sleep: clk.Sleep}).pollDevice(context.Background(), st, da)
	requireKind(t, err, core.KindRejected, "device code *** is unknown (invalid_grant)", []byte("dc-0123456789"))
}

// The host's call_timeout ends a wait for the user with a timeout, not an
// interruption; a cancellation is an interruption.
func TestLoginWaitEnded(t *testing.T) {
	s := startIdP(t, jwttest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := New().Login(ctx, core.LoginRequest{Config: oidcProfile(s, "authorization_code", nil), UI: &fakeBrowser{noOpen: true}})
	requireKind(t, err, core.KindTimeout, "browser login: the host stopped waiting (call_timeout) before the sign-in completed")

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	clk := &fakeClock{t: time.Now()}
	_, err = (&Scheme{Now: clk.Now, Sleep: clk.Sleep}).pollDevice(ctx, &settings{}, deviceAuthorization{interval: time.Second, lifetime: time.Minute})
	requireKind(t, err, core.KindInterrupted, "device login: canceled before the code was approved")
}

// Only the first redirect counts, however many arrive at once.
func TestCallbackHandlerFirstOnly(t *testing.T) {
	out := make(chan callback, 1)
	h := callbackHandler("/callback", "S", "", false, out)
	var wg sync.WaitGroup
	codes := make(chan int, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/callback?code=c&state=S", nil))
			codes <- rec.Code
		}()
	}
	cb := <-out
	cb.reply <- nil
	wg.Wait()
	close(codes)
	ok, gone := 0, 0
	for c := range codes {
		switch c {
		case http.StatusOK:
			ok++
		case http.StatusGone:
			gone++
		}
	}
	if ok != 1 || gone != 7 || cb.code != "c" {
		t.Fatalf("%d answered 200, %d 410, code %q", ok, gone, cb.code)
	}
	// A request with another state (any local process or web page may send
	// one) is refused and does not take the login's one redirect.
	h2 := callbackHandler("/callback", "S", "", false, out)
	for _, forged := range []string{"/callback?error=access_denied&state=x", "/callback?code=c&state=", "/callback?code=c"} {
		rec := httptest.NewRecorder()
		h2.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, forged, nil))
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("%s: %d, want 400", forged, rec.Code)
		}
	}
	go func() { cb := <-out; cb.reply <- nil }()
	rec2 := httptest.NewRecorder()
	h2.ServeHTTP(rec2, httptest.NewRequest(http.MethodGet, "/callback?code=c2&state=S", nil))
	if rec2.Code != http.StatusOK {
		t.Fatalf("the real redirect after forged ones: %d, want 200", rec2.Code)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/favicon.ico", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("favicon: %d", rec.Code)
	}
}

// TestDeviceCodeGitHubStyle: GitHub's device flow (OAuth2, no discovery)
// answers a pending poll with HTTP 200 and {"error":"authorization_pending"}:
// authx keeps polling, as for the RFC 8628 400 answer, and slow_down the
// same way.
func TestDeviceCodeGitHubStyle(t *testing.T) {
	var polls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/login/device/code":
			io.WriteString(w, `{"device_code":"dc-1","user_code":"ABCD-1234","verification_uri":"https://github.com/login/device","expires_in":900,"interval":5}`)
		case "/login/oauth/access_token":
			switch polls.Add(1) {
			case 1:
				io.WriteString(w, `{"error":"authorization_pending","error_description":"The authorization request is still pending."}`)
			case 2:
				io.WriteString(w, `{"error":"slow_down","error_description":"Too many requests have been made in the same timeframe.","interval":10}`)
			default:
				io.WriteString(w, `{"access_token":"gho_16C7e42F292c6912E7710c838347Ae178B4a","token_type":"bearer","scope":"repo"}`)
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	clk := &fakeClock{t: time.Now()}
	b := &fakeBrowser{noOpen: true}
	sch := &Scheme{Now: clk.Now, Sleep: clk.Sleep}
	cfg := core.Config{"mode": "oauth2", "grant": "device_code", "client_id": "Iv1.8a61f9b3a7aba766", "client_auth": "none",
		"token_url": srv.URL + "/login/oauth/access_token", "device_authorization_url": srv.URL + "/login/device/code", "scope": []any{"repo"}}
	c, err := sch.Login(context.Background(), core.LoginRequest{Config: cfg, UI: b})
	if err != nil {
		t.Fatal(err)
	}
	if c.Token != "gho_16C7e42F292c6912E7710c838347Ae178B4a" || polls.Load() != 3 {
		t.Fatalf("token %q after %d polls", c.Token, polls.Load())
	}
	if want := []time.Duration{5 * time.Second, 5 * time.Second, 10 * time.Second}; !equalDurations(clk.sleeps, want) {
		t.Fatalf("sleeps %v, want %v", clk.sleeps, want)
	}
}

// TestTokenErrorWith200IsScrubbed: an error a token endpoint sends with
// HTTP 200 is scrubbed of everything the request carried, the device code
// included, as a 4xx one is.
func TestTokenErrorWith200IsScrubbed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/device" {
			io.WriteString(w, `{"device_code":"DEVCODE-SECRET-123","user_code":"ABCD-1234","verification_uri":"https://idp.example/device","expires_in":900,"interval":5}`)
			return
		}
		r.ParseForm()
		fmt.Fprintf(w, `{"error":"invalid_request","error_description":"echo dc=%s"}`, r.PostForm.Get("device_code"))
	}))
	defer srv.Close()
	clk := &fakeClock{t: time.Now()}
	cfg := core.Config{"mode": "oauth2", "grant": "device_code", "client_id": "cid", "client_auth": "none",
		"token_url": srv.URL + "/token", "device_authorization_url": srv.URL + "/device"}
	_, err := (&Scheme{Now: clk.Now, Sleep: clk.Sleep}).Login(context.Background(), core.LoginRequest{Config: cfg, UI: &fakeBrowser{noOpen: true}})
	if err == nil || strings.Contains(err.Error(), "DEVCODE-SECRET-123") || !strings.Contains(err.Error(), "invalid_request") {
		t.Fatalf("Login = %v; want the invalid_request error without the device code", err)
	}
}

// TestDeviceIntervalWholeSeconds: a fractional interval rounds up to whole
// seconds, at least one, so that polling never becomes a busy loop.
func TestDeviceIntervalWholeSeconds(t *testing.T) {
	for _, tc := range []struct {
		interval string
		want     time.Duration
	}{{"0.001", time.Second}, {"1.5", 2 * time.Second}, {"5", 5 * time.Second}, {"0", 5 * time.Second}, {"-3", 5 * time.Second}, {"86400", maxDeviceInterval}} {
		var polls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if r.URL.Path == "/device" {
				fmt.Fprintf(w, `{"device_code":"dc","user_code":"ABCD-1234","verification_uri":"https://idp.example/device","expires_in":900,"interval":%s}`, tc.interval)
				return
			}
			if polls.Add(1) == 1 {
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"error":"authorization_pending"}`)
				return
			}
			io.WriteString(w, `{"access_token":"at-123456","token_type":"Bearer","expires_in":60}`)
		}))
		clk := &fakeClock{t: time.Now()}
		cfg := core.Config{"mode": "oauth2", "grant": "device_code", "client_id": "cid", "client_auth": "none",
			"token_url": srv.URL + "/token", "device_authorization_url": srv.URL + "/device"}
		if _, err := (&Scheme{Now: clk.Now, Sleep: clk.Sleep}).Login(context.Background(), core.LoginRequest{Config: cfg, UI: &fakeBrowser{noOpen: true}}); err != nil {
			t.Fatalf("interval %s: %v", tc.interval, err)
		}
		srv.Close()
		if want := []time.Duration{tc.want, tc.want}; !equalDurations(clk.sleeps, want) {
			t.Errorf("interval %s: sleeps %v, want %v", tc.interval, clk.sleeps, want)
		}
	}
}

// TestMetadataCacheRefusesAPlantedDocument: a discovery document in a
// cache directory that others may write, or one whose expiry lies beyond
// what authx would ever cache, is not trusted: another user could have
// planted it to send the code, the verifier and the refresh token to
// their own token endpoint.
func TestMetadataCacheRefusesAPlantedDocument(t *testing.T) {
	now := time.Now()
	const issuer = "https://idp.example"
	md, err := parseMetadata([]byte(`{"issuer":"https://idp.example","token_endpoint":"https://idp.example/token","authorization_endpoint":"https://idp.example/auth"}`), issuer)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "jwks")
	path := metadataCachePath(dir, issuer)
	writeMetadataCache(path, md, now, time.Hour)
	if got := readMetadataCache(path, issuer, now); got == nil || got.TokenEndpoint != "https://idp.example/token" {
		t.Fatalf("own cache: %+v", got)
	}
	os.Chmod(filepath.Dir(path), 0o777)
	if got := readMetadataCache(path, issuer, now); got != nil {
		t.Errorf("a document in a directory others may write was trusted: %+v", got)
	}
	os.Chmod(filepath.Dir(path), 0o700)
	writeMetadataCache(path, md, now, 24*time.Hour)
	if got := readMetadataCache(path, issuer, now.Add(-time.Hour)); got != nil {
		t.Errorf("an expiry beyond the 24 h cap was honoured: %+v", got)
	}
}
