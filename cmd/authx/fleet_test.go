package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authx/authx/core/cache/redisvault"
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

// newFleet makes the fleet; profileExtra are lines of the profile
// (indented by 4), configExtra of its config (by 6).
func newFleet(t *testing.T, machines int, o jwttest.Options, profileExtra string, configExtra ...string) *fleet {
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
%s`, f.redis.URL(), f.idp.URL, profileExtra, strings.Join(configExtra, ""))
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
// in once; once the token expired, with single-use rotating refresh tokens, they
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

	// Expired (the access token's life is over; the refresh token lives on).
	time.Sleep(time.Until(issued.Add(ttl).Add(100 * time.Millisecond)))
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

// timedBurst is burst that also returns the longest run.
func (f *fleet) timedBurst(perMachine int) ([]result, time.Duration) {
	start := time.Now()
	rs := f.burst(perMachine)
	return rs, time.Since(start)
}

// noticeOnly checks that each run's stderr is empty or the one-line
// notice that store fleet could not be used, and returns how many had it.
func (f *fleet) noticeOnly(rs []result) int {
	f.t.Helper()
	n := 0
	for _, r := range rs {
		switch {
		case r.stderr == "":
		case strings.Count(r.stderr, "\n") == 1 && strings.Contains(r.stderr, "store fleet") && strings.Contains(r.stderr, "this machine"):
			n++
		default:
			f.t.Errorf("stderr is neither empty nor the store's one-line notice: %q", r.stderr)
		}
	}
	return n
}

// Must show 3 of #15: Redis killed while the fleet's login is in flight:
// every process finishes within the bound, logging in on its machine with
// a one-line warning; Redis back (empty), the next expiry goes through it
// again: one refresh for the fleet, stored there.
func TestFleetSurvivesRedisKilledMidRun(t *testing.T) {
	const ttl = 6 * time.Second
	f := newFleet(t, 5, jwttest.Options{AccessTTL: ttl, RotateRefresh: true, Latency: 1500 * time.Millisecond}, "")

	killed := make(chan struct{})
	go func() {
		defer close(killed)
		for f.tokenRequests() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		f.redis.Kill() // the login is in flight, its machine holding Redis's lock
	}()
	rs, took := f.timedBurst(10)
	<-killed
	issued := time.Now()
	seen := f.tokens(rs)
	if n := f.idp.Logins(); n < 1 || n > 5 {
		t.Errorf("%d logins with Redis killed mid-run; want one per machine at most", n)
	}
	if f.noticeOnly(rs) == 0 {
		t.Error("no process said that store fleet was unavailable")
	}
	if took > 30*time.Second {
		t.Errorf("the burst took %s with Redis down", took)
	}
	t.Logf("Redis killed mid-run: %d logins, %d distinct tokens, %s", f.idp.Logins(), len(seen), took)

	f.redis.Restart()
	logins := f.idp.Logins()
	time.Sleep(time.Until(issued.Add(ttl * 3 / 4).Add(100 * time.Millisecond)))
	rs = f.burst(4)
	seen = f.tokens(rs)
	if f.idp.Refreshes() != 1 || f.idp.Logins() != logins || len(seen) != 1 || f.noticeOnly(rs) != 0 {
		t.Fatalf("Redis back, after expiry: %d refreshes, %d new logins, %d distinct tokens; want 1, 0, 1", f.idp.Refreshes(), f.idp.Logins()-logins, len(seen))
	}
	f.assertNoSecretInRedis(f.idp.LastRefreshToken(), "wonderland")
}

// A Redis that accepts connections and answers nothing costs each process
// the store's timeout, not a hang; with store_fallback: fail it is exit 17
// and one line naming the store.
func TestFleetRedisSilent(t *testing.T) {
	f := newFleet(t, 2, jwttest.Options{}, "")
	f.redis.Stop()
	defer f.redis.Cont()
	rs, took := f.timedBurst(3)
	f.tokens(rs)
	if f.noticeOnly(rs) == 0 || f.idp.Logins() > 2 {
		t.Errorf("silent Redis: %d logins; want one per machine, each with the notice", f.idp.Logins())
	}
	if took > 20*time.Second {
		t.Errorf("silent Redis: the burst took %s", took)
	}

	strict := newFleet(t, 1, jwttest.Options{}, "    store_fallback: fail\n")
	strict.redis.Stop()
	defer strict.redis.Cont()
	r := strict.machines[0].run("token", "api")
	if r.code != 17 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "fleet") || strict.idp.Logins() != 0 {
		t.Errorf("store_fallback: fail with Redis silent: %+v, %d logins; want exit 17, one line naming the store, no login", r, strict.idp.Logins())
	}
}

// The fleet rotates its sealing key: a machine with the new key and the
// old one in keys_old reads what the others stored (no login); once every
// machine has the new key the old one can be dropped (the store's key for
// entry names was sealed again under the new one).
func TestFleetKeyRotation(t *testing.T) {
	f := newFleet(t, 3, jwttest.Options{}, "")
	if r := f.machines[0].run("token", "api"); r.code != 0 || f.idp.Logins() != 1 {
		t.Fatalf("first login: %+v", r)
	}
	old := ""
	for _, v := range f.machines[0].vars {
		if k, ok := strings.CutPrefix(v, "AUTHX_STORE_KEY="); ok {
			old = k
		}
	}
	newKey := make([]byte, 32)
	rand.Read(newKey)
	rotate := func(m *env, keysOld string) {
		cfg, err := os.ReadFile(filepath.Join(m.home, "config", "authx", "config.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		m.config(strings.Replace(string(cfg), "key: env:AUTHX_STORE_KEY}", "key: env:AUTHX_STORE_KEY_NEW"+keysOld+"}", 1))
		m.set("AUTHX_STORE_KEY_NEW="+base64.StdEncoding.EncodeToString(newKey), "AUTHX_STORE_KEY_OLD="+old)
	}
	rotate(f.machines[1], ", keys_old: [env:AUTHX_STORE_KEY_OLD]")
	if r := f.machines[1].run("token", "api"); r.code != 0 || r.stderr != "" || f.idp.Logins() != 1 {
		t.Fatalf("new key with keys_old: %+v, %d logins; want the fleet's credential", r, f.idp.Logins())
	}
	rotate(f.machines[2], "")
	if r := f.machines[2].run("token", "api"); r.code != 0 || r.stderr != "" || f.idp.Logins() != 2 {
		t.Fatalf("new key alone: %+v, %d logins; want one login (the entry of the old key unreadable), no warning", r, f.idp.Logins())
	}
	if r := f.machines[1].run("token", "api"); r.code != 0 {
		t.Fatalf("machine 1 after: %+v", r)
	}
}

// Logout on one machine revokes the fleet's credential and removes it
// from Redis, even when that machine never held it.
func TestFleetLogout(t *testing.T) {
	f := newFleet(t, 2, jwttest.Options{RotateRefresh: true}, "", "      revocation_url: /oauth/revoke\n")
	if r := f.machines[0].run("token", "api"); r.code != 0 {
		t.Fatalf("login: %+v", r)
	}
	refresh := f.idp.LastRefreshToken()
	r := f.machines[1].run("logout", "api")
	if r.code != 0 {
		t.Fatalf("logout: %+v", r)
	}
	if !f.idp.Revoked(refresh) {
		t.Error("logout on a machine without a copy did not revoke the fleet's refresh token")
	}
	f.assertNoSecretInRedis(refresh, "wonderland", "s3cret-client") // a tombstone in its place
	if r := f.machines[1].run("token", "api"); r.code != 0 || f.idp.Logins() != 2 {
		t.Errorf("after logout: %+v, %d logins; want a new login", r, f.idp.Logins())
	}
}

// A machine whose authx dies while it holds the fleet's lock (its login in
// flight) is replaced after the lock's expiry: the next machine logs in.
func TestFleetDeadLockHolderIsReplaced(t *testing.T) {
	f := newFleet(t, 2, jwttest.Options{Latency: 3 * time.Second}, "")
	holder := f.machines[0].cmd("token", "api")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	for f.tokenRequests() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	holder.Process.Kill()
	holder.Wait()
	start := time.Now()
	r := f.machines[1].run("token", "api")
	if r.code != 0 || r.stdout == "" || r.stderr != "" {
		t.Fatalf("after the holder died: %+v", r)
	}
	if took := time.Since(start); took > redisvault.LockTTL+15*time.Second {
		t.Errorf("took %s; the lock expires %s after its holder died", took, redisvault.LockTTL)
	}
}

// The ACL that docs/fleet.md gives authx's Redis user is enough for every
// call authx makes (connect, read, lock, wake, write, list, delete) and
// reaches no other key.
func TestFleetACLOfTheRecipe(t *testing.T) {
	f := newFleet(t, 2, jwttest.Options{Latency: 200 * time.Millisecond}, "")
	acl := fleetRecipeACL(t)
	f.redis.CLI(t, append([]string{"ACL", "SETUSER", "authx", "on", ">fleet-pw"}, acl...)...)
	for _, m := range f.machines {
		cfg, err := os.ReadFile(filepath.Join(m.home, "config", "authx", "config.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		m.config(strings.Replace(string(cfg), "redis://", "redis://authx:fleet-pw@", 1))
	}
	f.redis.CLI(t, "SET", "other:key", "x")
	f.redis.CLI(t, "ACL", "SETUSER", "default", "off") // authx's user or none
	as := []string{"--user", "authx", "--pass", "fleet-pw", "--no-auth-warning"}
	seen := f.tokens(f.burst(5))
	if f.idp.Logins() != 1 || len(seen) != 1 || f.noticeOnly(f.burst(1)) != 0 {
		t.Fatalf("with the recipe's ACL: %d logins, %d tokens; want 1 and 1, no notice", f.idp.Logins(), len(seen))
	}
	if r := f.machines[1].run("logout", "api"); r.code != 0 {
		t.Fatalf("logout with the recipe's ACL: %+v", r)
	}
	if keys := strings.Fields(string(f.redis.CLI(t, append(as, "--scan", "--pattern", "authx:*")...))); len(keys) != 2 || !slices.Contains(keys, "authx:names.key") {
		t.Errorf("after logout Redis holds %q, want the name key and the entry's tombstone", keys)
	}
	// The user reaches no other key.
	out := string(f.redis.CLI(t, append(as, "GET", "other:key")...))
	if !strings.Contains(out, "NOPERM") {
		t.Errorf("the recipe's user reads other keys: %q", out)
	}
}

// fleetRecipeACL is the ACL rule list of docs/fleet.md's ACL SETUSER line
// (after the password).
func fleetRecipeACL(t *testing.T) []string {
	doc, err := os.ReadFile("../../docs/fleet.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(doc), "\n") {
		if rest, ok := strings.CutPrefix(line, "ACL SETUSER authx on >CHANGE-ME "); ok {
			return strings.Fields(rest)
		}
	}
	t.Fatal("docs/fleet.md has no ACL SETUSER authx line")
	return nil
}

// stores.md gives the same ACL as fleet.md.
func TestFleetACLIsTheSameInStoresMD(t *testing.T) {
	doc, err := os.ReadFile("../../docs/stores.md")
	if err != nil {
		t.Fatal(err)
	}
	want := "ACL SETUSER authx on >PASSWORD " + strings.Join(fleetRecipeACL(t), " ") + "\n"
	if !strings.Contains(string(doc), want) {
		t.Errorf("docs/stores.md does not give fleet.md's ACL: %q", want)
	}
}

// Logout on one machine ends the fleet's session: another machine whose
// local copy falls due finds the logout's tombstone in Redis and logs in
// again; it does not refresh the logged-out session with its copy's
// refresh token and put it back in Redis (a scheme without revocation
// leaves that refresh token valid).
func TestFleetLogoutIsNotUndoneByAnotherMachinesCopy(t *testing.T) {
	const ttl = 3 * time.Second
	f := newFleet(t, 2, jwttest.Options{AccessTTL: ttl}, "")
	for _, m := range f.machines {
		if r := m.run("token", "api"); r.code != 0 {
			t.Fatalf("token: %+v", r)
		}
	}
	issued := time.Now()
	if r := f.machines[0].run("logout", "api"); r.code != 0 {
		t.Fatalf("logout: %+v", r)
	}
	time.Sleep(time.Until(issued.Add(ttl * 3 / 4).Add(100 * time.Millisecond)))
	if r := f.machines[1].run("token", "api"); r.code != 0 {
		t.Fatalf("token after logout: %+v", r)
	}
	if f.idp.Refreshes() != 0 || f.idp.Logins() != 2 {
		t.Errorf("after a logout, machine 1's copy due: %d refreshes, %d logins; want 0 and 2 (the logged-out session stays out)", f.idp.Refreshes(), f.idp.Logins())
	}
	// The new login replaced the tombstone: machine 0 reads it.
	if r := f.machines[0].run("token", "api"); r.code != 0 || f.idp.Logins() != 2 {
		t.Errorf("machine 0 after machine 1's login: %+v, %d logins", r, f.idp.Logins())
	}
}

// A Redis that refuses authx's user (a wrong password) is settings to fix,
// not an outage: even with the default store_fallback the command fails
// with exit 17 and one line that says what to check, and no machine logs
// in on its own.
func TestFleetWrongPasswordIsNotAnOutage(t *testing.T) {
	f := newFleet(t, 1, jwttest.Options{}, "")
	f.redis.CLI(t, "ACL", "SETUSER", "authx", "on", ">right-pw", "~authx:*", "&authx:*", "+@all")
	m := f.machines[0]
	cfg, err := os.ReadFile(filepath.Join(m.home, "config", "authx", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m.config(strings.Replace(string(cfg), "redis://", "redis://authx:wrong-pw@", 1))
	r := m.run("token", "api")
	if r.code != 17 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "WRONGPASS") ||
		!strings.Contains(r.stderr, "password") || strings.Contains(r.stderr, "wrong-pw") || f.idp.Logins() != 0 {
		t.Errorf("a wrong Redis password: %+v, %d logins; want exit 17, one line saying what to check, no password, no login", r, f.idp.Logins())
	}
}

// Logout on a machine that holds no copy of the fleet's credential (or an
// older one: the refresh token rotated since) revokes the one in Redis,
// the fleet's: with a revocation endpoint, a logout ends the fleet's
// session, whichever runner runs it.
func TestFleetLogoutRevokesTheFleetsCredential(t *testing.T) {
	f := newFleet(t, 2, jwttest.Options{RotateRefresh: true}, "")
	for _, m := range f.machines { // the same config everywhere, with a revocation endpoint
		path := filepath.Join(m.home, "config", "authx", "config.yaml")
		old, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		cfg := strings.Replace(string(old), "      token_url: /oauth/token\n", "      token_url: /oauth/token\n      revocation_url: /oauth/revoke\n", 1)
		if !strings.Contains(cfg, "revocation_url") {
			t.Fatal("no revocation_url in the config")
		}
		m.config(cfg)
	}
	if r := f.machines[0].run("token", "api"); r.code != 0 {
		t.Fatalf("login: %+v", r)
	}
	rt := f.idp.LastRefreshToken()
	if r := f.machines[1].run("logout", "api"); r.code != 0 {
		t.Fatalf("logout: %+v", r)
	}
	if !f.idp.Revoked(rt) {
		t.Error("the logout on machine 1 did not revoke the fleet's refresh token (it was in Redis, not in machine 1's cache)")
	}
}

// The docs' redis-cli commands never put a password in argv, which every
// user of a shared CI machine reads in ps: REDISCLI_AUTH carries it.
func TestFleetDocsKeepRedisPasswordsOutOfArgv(t *testing.T) {
	for _, name := range []string{"fleet.md", "stores.md"} {
		doc, err := os.ReadFile("../../docs/" + name)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(doc), "\n") {
			if strings.Contains(line, "redis-cli") && (strings.Contains(line, "--pass") || strings.Contains(line, " -a ")) {
				t.Errorf("docs/%s:%d: a password in redis-cli's argv: %s", name, i+1, line)
			}
		}
	}
}
