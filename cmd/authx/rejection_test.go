//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/config"
	"github.com/authx/authx/plugins/jwt/jwttest"
)

// Must show 3: after a server-side key change, N parallel `authx request`
// make exactly one login (or refresh) between them, and all succeed. Tmeister's
// WordPress plugin answers the stale token with 403 jwt_auth_invalid_token
// (the scheme says: log in again); usefulteam's answers 401 (the scheme says:
// refresh, else log in).
func TestParallelRequestsAfterKeyChangeRenewOnce(t *testing.T) {
	for _, site := range []struct{ name, path string }{
		{"Tmeister 403", ""},
		{"usefulteam 401", "/alt"},
	} {
		for _, n := range []int{6, 20} {
			t.Run(fmt.Sprintf("%s, %d processes", site.name, n), func(t *testing.T) {
				srv := startJWT(t, jwttest.Options{})
				e := newEnv(t).set("API_PW=wonderland")
				e.config(fmt.Sprintf("profiles:\n  blog:\n    scheme: jwt\n    url: %s%s\n    config:\n      preset: wordpress\n      username: alice\n      password: env:API_PW\n", srv.URL, site.path))
				if r := e.run("request", "blog", "GET", "/wp-json/wp/v2/users/me", "--fail"); r.code != 0 {
					t.Fatalf("first request: %+v", r)
				}
				renewals := func() int64 { return srv.Logins() + srv.Refreshes() }
				before := renewals()
				srv.RevokeAccess() // the site's signing key changed: the cached token is refused

				results := make([]result, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() { results[i] = e.run("request", "blog", "GET", "/wp-json/wp/v2/users/me", "--fail") })
				}
				wg.Wait()
				for i, r := range results {
					if r.code != 0 || !strings.Contains(r.stdout, `"slug":"alice"`) {
						t.Errorf("process %d: exit %d, stdout %q, stderr %q", i, r.code, r.stdout, r.stderr)
					}
				}
				if got := renewals() - before; got != 1 {
					t.Errorf("%d parallel requests after the key change made %d logins and refreshes, want exactly 1", n, got)
				}
				noOrphans(t)
			})
		}
	}
}

// cacheEntryFile returns the path of the one entry in e's cache.
func cacheEntryFile(t *testing.T, e *env) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(e.home, "cache", "authx", "*.json"))
	if len(files) != 1 {
		t.Fatalf("cache entries: %v, want 1", files)
	}
	return files[0]
}

// editEntry rewrites fields of the entry's JSON.
func editEntry(t *testing.T, path string, edit func(entry map[string]any)) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var entry map[string]any
	if err := json.Unmarshal(data, &entry); err != nil {
		t.Fatal(err)
	}
	edit(entry)
	data, _ = json.Marshal(entry)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// runBounded is e.run for a command that must not hang: it is killed after
// d and the test fails.
func (e *env) runBounded(d time.Duration, args ...string) result {
	e.t.Helper()
	c := e.cmd(args...)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Start(); err != nil {
		e.t.Fatal(err)
	}
	timer := time.AfterFunc(d, func() { c.Process.Kill() })
	err := c.Wait()
	if !timer.Stop() {
		e.t.Fatalf("authx %s still running after %s", strings.Join(args, " "), d)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return result{out.String(), errb.String(), code}
}

// Point 10: the token server is down while the cached token is inside the
// refresh skew but not expired: the token is served with one warning, exit
// 0; once it has expired the outage is the answer (exit 5).
func TestTokenServerDownServesStillValidToken(t *testing.T) {
	srv := newTokenServer(t, 3600)
	e := newEnv(t).set("TK_SECRET=right")
	e.config(testkitConfig(srv.URL, ""))
	if r := e.run("token", "tk"); r.code != 0 || r.stdout != "login-1-\n" {
		t.Fatalf("login: %+v", r)
	}
	entry := cacheEntryFile(t, e)
	expireIn := func(d time.Duration) {
		editEntry(t, entry, func(m map[string]any) {
			m["created"] = time.Now().Add(-time.Hour).Format(time.RFC3339Nano)
			m["credential"].(map[string]any)["expires_at"] = time.Now().Add(d).Format(time.RFC3339Nano)
		})
	}
	srv.Close()
	expireIn(20 * time.Second) // inside the 60s refresh skew
	r := e.run("token", "tk")
	if r.code != 0 || r.stdout != "login-1-\n" || strings.Count(r.stderr, "\n") != 1 ||
		!strings.HasPrefix(r.stderr, `authx: warning: profile "tk": renewing the credential failed (`) || !strings.Contains(r.stderr, "using the cached one, which expires in") {
		t.Errorf("inside the skew, server down: %+v; want the cached token and one warning line", r)
	}
	if r := e.run("token", "tk", "-q"); r.code != 0 || r.stderr != "" {
		t.Errorf("--quiet: %+v", r)
	}
	expireIn(-time.Second)
	if r := e.run("token", "tk"); r.code != 5 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("expired, server down: %+v; want exit 5", r)
	}
}

// Point 13: a FIFO in place of the entry is a damaged entry (authx logs in
// again and replaces it), not a hang.
func TestFIFOCacheEntry(t *testing.T) {
	e, srv := apiEnv(t)
	if r := e.run("token", "tk"); r.code != 0 {
		t.Fatalf("login: %+v", r)
	}
	entry := cacheEntryFile(t, e)
	os.Remove(entry)
	if err := syscall.Mkfifo(entry, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"token", "tk"}, {"status"}} {
		if r := e.runBounded(10*time.Second, args...); r.code != 0 {
			t.Errorf("authx %s with a FIFO entry: %+v", strings.Join(args, " "), r)
		}
	}
	if fi, err := os.Stat(entry); err != nil || !fi.Mode().IsRegular() || srv.logins.Load() != 2 {
		t.Errorf("the entry was not replaced: %v, %v; %d logins", fi, err, srv.logins.Load())
	}
}

// Point 13: waiting for another authx's lock is bounded by lock_timeout:
// exit 15 and one line naming the profile.
func TestLockTimeoutExit15(t *testing.T) {
	e, srv := apiEnv(t)
	f, err := config.Load(config.LoadOptions{Path: filepath.Join(e.home, "config", "authx", "config.yaml"), Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	p := f.Profiles["tk"]
	unlock, err := cache.New(filepath.Join(e.home, "cache", "authx")).Lock(context.Background(), cache.KeyFor(p.Name, p.Identity()))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	e.set("AUTHX_LOCK_TIMEOUT=300ms")
	r := e.runBounded(10*time.Second, "token", "tk")
	if r.code != 15 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, `profile "tk"`) || !strings.Contains(r.stderr, "lock_timeout") {
		t.Errorf("lock held elsewhere: %+v; want exit 15 and one line naming the profile", r)
	}
	if srv.logins.Load() != 0 {
		t.Errorf("%d logins while another authx held the lock", srv.logins.Load())
	}
}

// nobody is the user the read-only tests run authx as when the tests run
// as root, for whom no directory is read-only.
const nobody = 65534

// asUser makes e's processes run as uid when the test runs as root, with
// the files they need reachable.
func asUser(t *testing.T, e *env, uid int) func(*exec.Cmd) {
	if os.Geteuid() != 0 {
		return func(*exec.Cmd) {}
	}
	for _, d := range []string{binDir, filepath.Dir(e.home)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	filepath.Walk(e.home, func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, uid, uid) })
	return func(c *exec.Cmd) {
		c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	}
}

// Point 13: a read-only cache directory works without caching, with one
// warning line: with no entry at all (the lock cannot be created) and with
// an old entry (the new one cannot be written).
func TestReadOnlyCacheWorksWithoutCaching(t *testing.T) {
	e, srv := apiEnv(t)
	dir := filepath.Join(e.home, "cache", "authx")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	as := asUser(t, e, nobody)
	run := func(args ...string) result {
		c := e.cmd(args...)
		as(c)
		return runCmd(t, c)
	}
	check := func(what string, r result, token string) {
		t.Helper()
		if r.code != 0 || r.stdout != token+"\n" || strings.Count(r.stderr, "\n") != 1 ||
			!strings.HasPrefix(r.stderr, "authx: warning: the credential cache "+dir+" cannot be written (") || !strings.Contains(r.stderr, "continuing without caching") {
			t.Errorf("%s: %+v; want the token and one warning line", what, r)
		}
	}
	os.Chmod(dir, 0o500)
	check("empty read-only cache", run("token", "tk"), "login-1-")
	check("again: nothing was cached", run("token", "tk"), "login-2-")

	os.Chmod(dir, 0o700)
	if r := run("token", "tk"); r.code != 0 || r.stderr != "" {
		t.Fatalf("writable again: %+v", r)
	}
	os.Remove(cacheEntryFile(t, e)) // names.key and the lock stay
	os.Chmod(dir, 0o500)
	check("read-only cache with its lock", run("token", "tk"), "login-4-")
	if srv.logins.Load() != 4 {
		t.Errorf("%d logins, want 4", srv.logins.Load())
	}
}

// Point 7: root does not use a cache directory that belongs to another
// user (their credentials are not root's to read, and root-owned files
// would break their cache): exit 11, as for any other user.
func TestRootRefusesAnotherUsersCache(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the cache directory to another user")
	}
	e, srv := apiEnv(t)
	if r := e.run("token", "tk"); r.code != 0 {
		t.Fatalf("login: %+v", r)
	}
	dir := filepath.Join(e.home, "cache", "authx")
	filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, nobody, nobody) })
	for _, args := range [][]string{{"token", "tk"}, {"header", "tk"}, {"logout", "tk"}} {
		r := e.run(args...)
		if r.code != 11 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "belongs to uid 65534") {
			t.Errorf("authx %s: %+v; want exit 11", strings.Join(args, " "), r)
		}
	}
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		fi, _ := os.Lstat(filepath.Join(dir, f.Name()))
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != nobody {
			t.Errorf("%s now belongs to uid %d", f.Name(), st.Uid)
		}
	}
	if srv.logins.Load() != 1 {
		t.Errorf("%d logins", srv.logins.Load())
	}
}

// Point 12: a refusal at a URL the credential does not cover makes no
// login, and the message names the credential's scope rather than a
// renewal that did not help. (Once the wordpress preset covers plain
// permalinks, the request simply succeeds: either way, one login.)
func TestRefusalOutsideCredentialScopeMakesNoLogin(t *testing.T) {
	srv := startJWT(t, jwttest.Options{})
	e := newEnv(t).set("API_PW=wonderland")
	e.config(fmt.Sprintf("profiles:\n  blog:\n    scheme: jwt\n    url: %s\n    config:\n      preset: wordpress\n      username: alice\n      password: env:API_PW\n", srv.URL))
	if r := e.run("request", "blog", "GET", "/wp-json/wp/v2/users/me", "--fail"); r.code != 0 {
		t.Fatalf("first request: %+v", r)
	}
	for range 2 {
		r := e.run("request", "blog", "GET", "/?rest_route=/wp/v2/users/me")
		if r.code != 0 && (r.code != 2 || strings.Count(r.stderr, "\n") != 1 || strings.Contains(r.stderr, "again") ||
			!strings.Contains(r.stderr, "the credential's scope ("+srv.URL+"/wp-json/) does not cover "+srv.URL+"/")) {
			t.Errorf("plain-permalink URL: %+v; want success, or exit 2 naming the credential's scope", r)
		}
	}
	if n := srv.Logins(); n != 1 {
		t.Errorf("%d logins, want 1", n)
	}
}
