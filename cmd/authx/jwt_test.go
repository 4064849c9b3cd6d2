package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authx/authx/plugins/jwt/jwttest"
)

// jwtEnv is a user environment with a jwt profile named "api" of the given
// config lines (indented under config:) against the emulator.
func jwtEnv(t *testing.T, srv *jwttest.Server, config string) *env {
	t.Helper()
	return jwtEnvAt(t, srv.URL, config)
}

// jwtEnvAt is jwtEnv for a profile whose url is base.
func jwtEnvAt(t *testing.T, base, config string) *env {
	t.Helper()
	e := newEnv(t).set("API_PW=wonderland")
	e.config(fmt.Sprintf("profiles:\n  api:\n    scheme: jwt\n    url: %s\n    config:\n%s", base, indent(config, "      ")))
	return e
}

func indent(s, by string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = by + strings.TrimSpace(l)
	}
	return strings.Join(lines, "\n") + "\n"
}

func startJWT(t *testing.T, o jwttest.Options) *jwttest.Server {
	srv := jwttest.Start(o)
	t.Cleanup(srv.Close)
	return srv
}

// genericLogin is a login profile for the emulator's Express-style API.
const genericLogin = `
login_url: /auth/login
username: alice
password: env:API_PW
token_path: data.token
refresh_token_path: data.refreshToken
expires_in_path: data.expiresIn
refresh_url: /auth/refresh
`

// Must show 1: log in once, serve the cached token without a plugin,
// refresh after expiry storing the rotated refresh token, log in again when
// the refresh token is refused.
func TestJWTLoginCacheRefreshRotation(t *testing.T) {
	srv := startJWT(t, jwttest.Options{AccessTTL: 2 * time.Second, RotateRefresh: true})
	e := jwtEnv(t, srv, genericLogin)

	first := e.run("token", "api")
	if first.code != 0 || srv.Logins() != 1 {
		t.Fatalf("login: %+v, %d logins", first, srv.Logins())
	}
	cached := e.run("token", "api", "--log-level", "debug")
	if cached.stdout != first.stdout || !strings.Contains(cached.stderr, "served from cache") || strings.Contains(cached.stderr, "plugin started") {
		t.Fatalf("second call should come from the cache without a plugin: %q\n%s", cached.stdout, cached.stderr)
	}

	time.Sleep(2100 * time.Millisecond) // past the token's expiry
	refreshed := e.run("token", "api")
	if refreshed.code != 0 || refreshed.stdout == first.stdout || srv.Refreshes() != 1 || srv.Logins() != 1 {
		t.Fatalf("after expiry: %+v; logins %d refreshes %d, want 1 and 1", refreshed, srv.Logins(), srv.Refreshes())
	}
	var entry struct {
		Credential struct {
			State []byte `json:"state"`
		} `json:"credential"`
	}
	if err := json.Unmarshal([]byte(cachedState(t, e)), &entry); err != nil || !strings.Contains(string(entry.Credential.State), srv.LastRefreshToken()) {
		t.Errorf("the rotated refresh token was not stored (%v)", err)
	}
	// The emulator refuses a rotated-away refresh token: a second refresh
	// succeeding proves the new one was used. This one is due before the
	// expiry, in the last quarter of the token's life.
	time.Sleep(1600 * time.Millisecond)
	if r := e.run("token", "api"); r.code != 0 || srv.Refreshes() != 2 || srv.Logins() != 1 {
		t.Fatalf("second refresh: %+v; logins %d refreshes %d", r, srv.Logins(), srv.Refreshes())
	}

	srv.RevokeRefresh()
	time.Sleep(1600 * time.Millisecond)
	if r := e.run("token", "api"); r.code != 0 || srv.Refreshes() != 3 || srv.Logins() != 2 {
		t.Fatalf("refused refresh token: %+v; logins %d refreshes %d, want a new login", r, srv.Logins(), srv.Refreshes())
	}
}

// cachedState returns the raw cache files' contents.
func cachedState(t *testing.T, e *env) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(e.home, "cache", "authx", "*.json"))
	var all strings.Builder
	for _, f := range files {
		b, _ := os.ReadFile(f)
		all.Write(b)
	}
	return all.String()
}

// Must show 2: 20 concurrent authx on an empty cache log in once; 20 right
// after expiry refresh once.
func TestJWTConcurrentCallsLogInAndRefreshOnce(t *testing.T) {
	srv := startJWT(t, jwttest.Options{AccessTTL: 2 * time.Second, Latency: 100 * time.Millisecond})
	e := jwtEnv(t, srv, genericLogin)
	burst := func() map[string]int {
		var mu sync.Mutex
		var wg sync.WaitGroup
		seen := map[string]int{}
		for range 20 {
			wg.Go(func() {
				r := e.run("token", "api")
				mu.Lock()
				defer mu.Unlock()
				if r.code != 0 {
					t.Errorf("exit %d: %s", r.code, r.stderr)
				}
				seen[r.stdout]++
			})
		}
		wg.Wait()
		return seen
	}
	if seen := burst(); srv.Logins() != 1 || len(seen) != 1 {
		t.Fatalf("20 concurrent on an empty cache: %d logins, %d distinct tokens; want 1 and 1", srv.Logins(), len(seen))
	}
	time.Sleep(1600 * time.Millisecond)
	if seen := burst(); srv.Refreshes() != 1 || srv.Logins() != 1 || len(seen) != 1 {
		t.Fatalf("20 concurrent after expiry: %d refreshes, %d logins, %d distinct tokens; want 1, 1, 1", srv.Refreshes(), srv.Logins(), len(seen))
	}
}

// Must show 3: a 401 invalid_token is followed by one refresh and one
// retry; a second 401 is reported, not looped; 403 insufficient_scope is a
// diagnosis without retry.
func TestJWTRequestRetriesOnceAfterInvalidToken(t *testing.T) {
	srv := startJWT(t, jwttest.Options{AccessTTL: time.Hour})
	e := jwtEnv(t, srv, genericLogin)
	if r := e.run("request", "api", "GET", "/api/me"); r.code != 0 || !strings.Contains(r.stdout, `"user":"alice"`) {
		t.Fatalf("first request: %+v", r)
	}
	srv.RevokeAccess() // the server forgets the token before its exp
	r := e.run("request", "api", "GET", "/api/me", "--fail")
	if r.code != 0 || !strings.Contains(r.stdout, `"user":"alice"`) || srv.Refreshes() != 1 || srv.Logins() != 1 {
		t.Fatalf("after revocation: %+v; refreshes %d logins %d, want one refresh", r, srv.Refreshes(), srv.Logins())
	}

	// A POST refused with 401 was not acted on: it is sent again.
	srv.RevokeAccess()
	r = e.run("request", "api", "POST", "/api/notes", "-d", "hello", "--fail")
	if r.code != 0 || !strings.Contains(r.stdout, `"note":"hello"`) || srv.Refreshes() != 2 {
		t.Fatalf("POST after revocation: %+v; refreshes %d, want the POST retried after one refresh", r, srv.Refreshes())
	}

	r = e.run("request", "api", "GET", "/api/admin", "--fail")
	if r.code != 14 || !strings.Contains(r.stderr, "insufficient_scope") || !strings.Contains(r.stderr, `"admin"`) || srv.Refreshes() != 2 {
		t.Errorf("insufficient scope: %+v; refreshes %d, want exit 14 (forbidden) without a refresh", r, srv.Refreshes())
	}

	// A profile whose tokens the API never accepts (wrong prefix): one
	// refresh, one retry, then the refusal is reported.
	bad := jwtEnv(t, srv, genericLogin+"prefix: Token\n")
	before := srv.Refreshes()
	r = bad.run("request", "api", "GET", "/api/me")
	if r.code != 4 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "again") {
		t.Errorf("second 401: %+v, want exit 4 and one line", r)
	}
	if n := srv.Refreshes() - before; n != 1 {
		t.Errorf("%d refreshes for one refused request, want 1", n)
	}
}

// The presets need three lines of config, and each one's API accepts the
// token it yields.
func TestJWTPresetsAndOAuth2(t *testing.T) {
	srv := startJWT(t, jwttest.Options{})
	tests := []struct {
		name, site, config, path string
	}{
		{"wordpress", "", "preset: wordpress\nusername: alice\npassword: env:API_PW", "/wp-json/wp/v2/users/me"},
		{"wordpress look-alike (usefulteam)", "/alt", "preset: wordpress\nusername: alice\npassword: env:API_PW", "/wp-json/wp/v2/users/me"},
		{"json-server-auth", "", "preset: json-server-auth\nusername: alice@example.com\npassword: env:API_PW", "/660/posts"},
		{"simplejwt", "", "preset: simplejwt\nusername: alice\npassword: env:API_PW", "/api/user/"},
		{"oauth2 password", "", "mode: oauth2\ntoken_url: /oauth/token\ngrant: password\nclient_id: cli\nclient_secret: s3cret-client\nusername: alice\npassword: env:API_PW\nscope: [read]", "/api/me"},
		{"oauth2 client_credentials, client in body", "", "mode: oauth2\ntoken_url: /oauth/token\nclient_id: cli\nclient_secret: s3cret-client\nclient_auth: body\nscope: [read, admin]", "/api/admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := jwtEnvAt(t, srv.URL+tt.site, tt.config)
			r := e.run("request", "api", "GET", tt.path, "--fail")
			if r.code != 0 {
				t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}

// WordPress answers a stale token with 403 jwt_auth_invalid_token on every
// REST route: authx logs in again and retries once.
func TestJWTWordPressStaleTokenLogsInAgain(t *testing.T) {
	srv := startJWT(t, jwttest.Options{})
	e := jwtEnv(t, srv, "preset: wordpress\nusername: alice\npassword: env:API_PW")
	if r := e.run("request", "api", "GET", "/wp-json/wp/v2/users/me", "--fail"); r.code != 0 {
		t.Fatalf("first: %+v", r)
	}
	srv.RevokeAccess()
	if r := e.run("request", "api", "GET", "/wp-json/wp/v2/users/me", "--fail"); r.code != 0 || srv.Logins() != 2 {
		t.Fatalf("stale token: %+v; %d logins, want 2", r, srv.Logins())
	}
}

// Must show 5: every bad answer is one line with its own exit code, names
// what is wrong without values, and leaves nothing in the cache.
func TestJWTBadAnswers(t *testing.T) {
	srv := startJWT(t, jwttest.Options{})
	slow := startJWT(t, jwttest.Options{Latency: 3 * time.Second})
	tests := []struct {
		name   string
		url    string
		config string
		code   int
		want   []string
		never  []string
	}{
		{"HTML instead of JSON", srv.URL, "login_url: /broken/html\nusername: alice\npassword: env:API_PW", 16,
			[]string{"text/html", "not JSON"}, nil},
		{"no token at the path", srv.URL, "login_url: /broken/shape\nusername: alice\npassword: env:API_PW\ntoken_path: token", 2,
			[]string{"no token at token", "data.jwt", "data.user.email", "token_path"}, []string{"eyJ", "alice@example.com"}},
		{"login refused", srv.URL, "login_url: /auth/login\nusername: alice\npassword: wrong", 4,
			[]string{"HTTP 401", "Invalid username or password"}, []string{"wrong"}},
		{"WordPress refusal without its HTML", srv.URL, "preset: wordpress\nusername: alice\npassword: wrong", 4,
			[]string{"HTTP 403", "The password you entered for the username alice is incorrect", "incorrect_password"}, []string{"<strong>", "wrong"}},
		{"json-server-auth string error", srv.URL, "preset: json-server-auth\nusername: alice@example.com\npassword: wrong", 4,
			[]string{"HTTP 400", "Incorrect password"}, nil},
		{"OAuth2 error", srv.URL, "mode: oauth2\ntoken_url: /oauth/token\nclient_id: cli\nclient_secret: nope", 4,
			[]string{"invalid_client"}, []string{"nope"}},
		{"malformed JWT", srv.URL, "login_url: /broken/malformed\nusername: alice\npassword: env:API_PW", 13,
			[]string{"malformed"}, []string{"%%%"}},
		{"login endpoint down", srv.URL, "login_url: /broken/down\nusername: alice\npassword: env:API_PW", 12,
			[]string{"HTTP 503", "Service Unavailable"}, []string{"plugin login failed"}},
		{"unreachable", "http://127.0.0.1:9", "login_url: /auth/login\nusername: alice\npassword: env:API_PW", 5,
			[]string{"connection refused"}, nil},
		{"slow server", slow.URL, "login_url: /auth/login\nusername: alice\npassword: env:API_PW\ntimeout: 300ms", 15,
			[]string{"no answer within 300ms"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t).set("API_PW=wonderland")
			e.config(fmt.Sprintf("profiles:\n  api:\n    scheme: jwt\n    url: %s\n    config:\n%s", tt.url, indent(tt.config, "      ")))
			r := e.run("token", "api")
			if r.code != tt.code || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and one line", r.code, r.stdout, r.stderr, tt.code)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q lacks %q", r.stderr, w)
				}
			}
			for _, n := range append(tt.never, "wonderland") {
				if strings.Contains(r.stderr, n) {
					t.Errorf("stderr %q shows %q", r.stderr, n)
				}
			}
			if state := cachedState(t, e); state != "" {
				t.Errorf("a failed login left a cache entry")
			}
		})
	}
}

// The debug log of a full login, refresh and retry holds neither the
// password nor any token.
func TestJWTDebugLogHoldsNoSecret(t *testing.T) {
	srv := startJWT(t, jwttest.Options{})
	e := jwtEnv(t, srv, genericLogin)
	login := e.run("token", "api", "--log-level", "trace")
	srv.RevokeAccess()
	retry := e.run("request", "api", "GET", "/api/me", "--log-level", "trace")
	if login.code != 0 || retry.code != 0 {
		t.Fatalf("%+v %+v", login, retry)
	}
	token := strings.TrimSpace(login.stdout)
	for _, secret := range []string{"wonderland", token, token[strings.LastIndex(token, ".")+1:], srv.LastRefreshToken()} {
		if strings.Contains(login.stderr+retry.stderr, secret) {
			t.Errorf("the trace log leaks a secret (%d chars)", len(secret))
		}
	}
}

// Must show 4, through the real CLI and plugin process: the published JWS
// examples verify with their published keys, the unsecured ones are
// refused, and a token the sign action mints verifies.
func TestJWTVerifyRFCExamplesThroughTheCLI(t *testing.T) {
	files, err := filepath.Glob("../../plugins/jwt/testdata/rfc/*.json")
	if err != nil || len(files) < 8 {
		t.Fatalf("vectors: %v %v", files, err)
	}
	e := newEnv(t)
	for _, f := range files {
		var v struct {
			Source string          `json:"source"`
			Valid  bool            `json:"valid"`
			At     int64           `json:"at"`
			Token  string          `json:"token"`
			Key    json.RawMessage `json:"key"`
		}
		data, _ := os.ReadFile(f)
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		key := filepath.Join(e.home, filepath.Base(f)+".jwk")
		os.WriteFile(key, v.Key, 0o600)
		at := v.At // the old examples have an exp: verify as of their time
		if at == 0 {
			at = time.Now().Unix()
		}
		verify := func(token string) result {
			return e.run("jwt", "verify", "--key", "file:"+key, "--at", fmt.Sprint(at), token)
		}
		want := 13
		if v.Valid {
			want = 0
		}
		if r := verify(v.Token); r.code != want {
			t.Errorf("%s: exit %d, want %d: %s", v.Source, r.code, want, r.stderr)
		}
		if r := verify(tamper(v.Token)); v.Valid && (r.code != 13 || !strings.Contains(r.stderr, "invalid")) {
			t.Errorf("%s with one signature character changed: exit %d %q, want 13", v.Source, r.code, r.stderr)
		}
	}

	e.set("HMAC_KEY=" + strings.Repeat("k", 64))
	minted := e.run("jwt", "sign", "--alg", "HS512", "--key", "env:HMAC_KEY", "--sub", "alice", "--ttl", "1m")
	if minted.code != 0 {
		t.Fatalf("sign: %+v", minted)
	}
	if r := e.run("jwt", "verify", "--key", "env:HMAC_KEY", "--sub", "alice", strings.TrimSpace(minted.stdout)); r.code != 0 {
		t.Errorf("verify of a minted token: %+v", r)
	}
	if r := e.run("jwt", "verify", "--key", "env:HMAC_KEY", "--sub", "bob", strings.TrimSpace(minted.stdout)); r.code != 13 || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("wrong subject: %+v, want exit 13 and one line", r)
	}
}

// tamper changes the last full character of the token's signature.
func tamper(token string) string {
	b := []byte(token)
	i := len(b) - 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// A sign-mode profile mints, caches and re-uses its token; the sign action
// takes the profile's settings and lets flags override them.
func TestJWTSignProfile(t *testing.T) {
	e := newEnv(t).set("SIGNING_KEY=" + strings.Repeat("s", 32))
	e.config(`
profiles:
  self:
    scheme: jwt
    url: https://internal.example.com
    config: {mode: sign, key: env:SIGNING_KEY, issuer: svc, subject: reporting, audience: [api], ttl: 10m}
`)
	first := e.run("token", "self")
	second := e.run("token", "self")
	if first.code != 0 || second.stdout != first.stdout {
		t.Fatalf("token: %+v %+v", first, second)
	}
	decoded := e.run("jwt", "decode", strings.TrimSpace(first.stdout))
	for _, want := range []string{`"iss": "svc"`, `"sub": "reporting"`, `"aud": "api"`} {
		if !strings.Contains(decoded.stdout, want) {
			t.Errorf("decoded token lacks %s:\n%s", want, decoded.stdout)
		}
	}
	action := e.run("jwt", "sign", "--profile", "self", "--sub", "override")
	if action.code != 0 {
		t.Fatalf("sign --profile: %+v", action)
	}
	if r := e.run("jwt", "verify", "--key", "env:SIGNING_KEY", "--iss", "svc", "--sub", "override", "--aud", "api", strings.TrimSpace(action.stdout)); r.code != 0 {
		t.Errorf("the action's token: %+v", r)
	}
}
