package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authx/authx/core/cache/redisvault/redistest"
	"github.com/authx/authx/plugins/jwt/jwttest"
)

// fleet is a CI fleet: machines (each a home of its own, so a cache
// directory of its own) whose authx share a Redis store (stores: fleet)
// for one OAuth2 profile, api, against one token server.
type fleet struct {
	t        *testing.T
	idp      *jwttest.Server
	redis    *redistest.Server
	machines []*env
}

func newFleet(t *testing.T, machines int, o jwttest.Options, profileExtra string) *fleet {
	t.Helper()
	f := &fleet{t: t, idp: startJWT(t, o), redis: redistest.Start(t)}
	key := make([]byte, 32)
	rand.Read(key)
	cfg := fmt.Sprintf(`stores:
  fleet: {type: redis, url: %q, key: env:AUTHX_STORE_KEY}
profiles:
  api:
    scheme: jwt
    url: %s
    store: fleet
%s    config:
      mode: oauth2
      token_url: /oauth/token
      grant: password
      client_id: cli
      client_secret: s3cret-client
      username: alice
      password: env:API_PW
`, f.redis.URL(), f.idp.URL, profileExtra)
	for range machines {
		e := newEnv(t).set("API_PW=wonderland", "AUTHX_STORE_KEY="+base64.StdEncoding.EncodeToString(key))
		e.config(cfg)
		f.machines = append(f.machines, e)
	}
	return f
}

// burst runs perMachine concurrent `authx token api` on every machine at
// once and returns their results.
func (f *fleet) burst(perMachine int) []result {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var out []result
	for range perMachine {
		for _, m := range f.machines {
			wg.Go(func() {
				r := m.run("token", "api")
				mu.Lock()
				out = append(out, r)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	return out
}

// tokens counts the distinct tokens the results printed, failing the
// test on a failed run.
func (f *fleet) tokens(rs []result) map[string]int {
	f.t.Helper()
	seen := map[string]int{}
	for _, r := range rs {
		if r.code != 0 {
			f.t.Errorf("exit %d: %s", r.code, r.stderr)
		}
		seen[r.stdout]++
	}
	return seen
}

// tokenRequests is how many requests the token endpoint answered: every
// login and refresh, failed ones (invalid_grant) included.
func (f *fleet) tokenRequests() int64 { return f.idp.Requests("/oauth/token") }

// assertNoSecretInRedis checks what redis-cli shows under every key for
// each secret, as is and in the encodings a server may echo.
func (f *fleet) assertNoSecretInRedis(secrets ...string) {
	f.t.Helper()
	dump := f.redis.Dump(f.t)
	if !strings.Contains(dump, "authx:entry:api.") {
		f.t.Fatalf("no entry of profile api in Redis:\n%s", dump)
	}
	for _, s := range secrets {
		for _, form := range []string{s, url.QueryEscape(s), base64.StdEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s))} {
			if form != "" && strings.Contains(dump, form) {
				f.t.Errorf("redis-cli shows a secret (%.12s…) in clear:\n%.400s", form, dump)
			}
		}
	}
}

// Must show 1 and 2 of #15: 5 machines × 20 processes on empty caches log
// in once; after expiry, with single-use rotating refresh tokens, they
// refresh once and the token server refuses none (no invalid_grant); Redis
// shows no token, refresh token, password or client secret in clear.
func TestFleetLogsInAndRefreshesOnce(t *testing.T) {
	const ttl = 4 * time.Second
	f := newFleet(t, 5, jwttest.Options{AccessTTL: ttl, RotateRefresh: true, Latency: 300 * time.Millisecond}, "")

	seen := f.tokens(f.burst(20))
	issued := time.Now() // at the latest
	if f.idp.Logins() != 1 || len(seen) != 1 {
		t.Fatalf("100 processes on 5 empty machines: %d logins, %d distinct tokens; want 1 and 1", f.idp.Logins(), len(seen))
	}
	var first string
	for tok := range seen {
		first = strings.TrimSpace(tok)
	}
	f.assertNoSecretInRedis(first, f.idp.LastRefreshToken(), "wonderland", "s3cret-client")

	// Due: in the last quarter of the token's life.
	time.Sleep(time.Until(issued.Add(ttl * 3 / 4).Add(100 * time.Millisecond)))
	seen = f.tokens(f.burst(20))
	if f.idp.Refreshes() != 1 || f.idp.Logins() != 1 || len(seen) != 1 {
		t.Fatalf("100 processes after expiry: %d refreshes, %d logins, %d distinct tokens; want 1, 1, 1", f.idp.Refreshes(), f.idp.Logins(), len(seen))
	}
	if n := f.tokenRequests(); n != 2 {
		t.Errorf("the token endpoint answered %d requests; want 2 (one login, one refresh, no refused refresh)", n)
	}
	if _, again := seen[first+"\n"]; again {
		t.Error("the due token was served again instead of the refreshed one")
	}
	f.assertNoSecretInRedis(first, f.idp.LastRefreshToken(), "wonderland", "s3cret-client")
}
