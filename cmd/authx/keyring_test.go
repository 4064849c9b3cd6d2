package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/authx/authx/plugins/jwt/jwttest"
)

// secretService starts a real Secret Service for the test: a private D-Bus
// session bus (dbus-daemon) and Debian's gnome-keyring-daemon on it, its
// login collection unlocked with a test password fed on stdin. It returns
// the bus address, which it also sets in this process's environment so that
// the test reads the keyring through go-keyring as authx does. Both daemons
// are killed and reaped when the test ends.
func secretService(t *testing.T) string {
	t.Helper()
	dbusDaemon := requireTool(t, "dbus-daemon", "dbus")
	gkd := requireTool(t, "gnome-keyring-daemon", "gnome-keyring")
	home := t.TempDir()

	conf := filepath.Join(home, "bus.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(busConfig, home)), 0o600); err != nil {
		t.Fatal(err)
	}
	bus := exec.Command(dbusDaemon, "--config-file="+conf, "--nofork", "--print-address=1")
	bus.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := bus.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopGroup(bus) })
	line, err := bufio.NewReader(out).ReadString('\n')
	addr := strings.TrimSpace(line)
	if err != nil || addr == "" {
		t.Fatalf("dbus-daemon printed no address: %q, %v", line, err)
	}

	ctl := filepath.Join(home, "run")
	os.MkdirAll(ctl, 0o700)
	gk := exec.Command(gkd, "--foreground", "--unlock", "--components=secrets", "--control-directory="+ctl)
	gk.Env = []string{"HOME=" + home, "XDG_DATA_HOME=" + filepath.Join(home, "data"), "XDG_RUNTIME_DIR=" + ctl,
		"DBUS_SESSION_BUS_ADDRESS=" + addr, "PATH=" + os.Getenv("PATH")}
	gk.Stdin = strings.NewReader("test-keyring-password") // read until EOF, no newline
	gk.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	gkLog, err := os.Create(filepath.Join(home, "gnome-keyring.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer gkLog.Close()
	gk.Stdout, gk.Stderr = gkLog, gkLog
	if err := gk.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopGroup(gk) })

	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := keyring.Get("authx-test", "probe")
		if errors.Is(err, keyring.ErrNotFound) {
			return addr
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(gkLog.Name())
			t.Fatalf("the Secret Service did not come up: %v\ngnome-keyring-daemon said: %s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// busConfig is a session bus without service activation: a call to
// org.freedesktop.secrets before gnome-keyring-daemon has claimed it would
// otherwise make dbus-daemon start a second, locked gnome-keyring (its
// Debian package installs the activation file), which then holds the name.
const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// stopGroup kills c's process group and reaps c.
func stopGroup(c *exec.Cmd) {
	syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// encodings are the forms a file could hold secret in: raw, JSON-escaped,
// and base64 (standard and URL alphabets) at each of the three alignments
// it can take inside a longer encoded text (an entry's state is base64 of a
// JSON object holding the refresh token), cut to the characters its bytes
// alone decide.
func encodings(secret string) []string {
	q, _ := json.Marshal(secret)
	out := []string{secret, strings.Trim(string(q), `"`)}
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		for o := 0; o < 3; o++ {
			s := enc.EncodeToString(append(make([]byte, o), secret...))
			from, to := (8*o+5)/6, 8*(o+len(secret))/6
			out = append(out, s[from:to])
		}
	}
	return out
}

// filesWith lists the files under dir holding secret in any of its encodings.
func filesWith(t *testing.T, dir, secret string) []string {
	t.Helper()
	var found []string
	filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() {
			return nil
		}
		data, _ := os.ReadFile(path)
		for _, enc := range encodings(secret) {
			if strings.Contains(string(data), enc) {
				found = append(found, fmt.Sprintf("%s (as %q)", filepath.Base(path), enc))
				break
			}
		}
		return nil
	})
	return found
}

func keyringJWTEnv(t *testing.T, srv *jwttest.Server, addr, extra string) *env {
	e := newEnv(t).set("API_PW=wonderland", "DBUS_SESSION_BUS_ADDRESS="+addr)
	e.config(fmt.Sprintf("profiles:\n  api:\n    scheme: jwt\n    url: %s\n%s    config:\n%s", srv.URL, extra, indent(genericLogin, "      ")))
	return e
}

// Must show 1 of issue 13: with store: keyring no credential or refresh
// token lands in any file of the cache directory; the cached token is
// served without a plugin process; authx status shows the store; authx
// logout removes the keyring item; 20 concurrent processes log in once.
func TestKeyringStore(t *testing.T) {
	addr := secretService(t)
	srv := startJWT(t, jwttest.Options{AccessTTL: time.Hour, Latency: 100 * time.Millisecond})

	t.Run("no secret in files, served without a plugin, logout removes the item", func(t *testing.T) {
		e := keyringJWTEnv(t, srv, addr, "    store: keyring\n")
		first := e.run("token", "api")
		token := strings.TrimSpace(first.stdout)
		if first.code != 0 || token == "" {
			t.Fatalf("login: %+v", first)
		}
		cacheDir := filepath.Join(e.home, "cache", "authx")
		for what, secret := range map[string]string{"access token": token, "refresh token": srv.LastRefreshToken()} {
			if secret == "" {
				t.Fatalf("no %s to look for", what)
			}
			if f := filesWith(t, cacheDir, secret); len(f) > 0 {
				t.Errorf("the %s is in %v", what, f)
			}
		}
		cached := e.run("token", "api", "--log-level", "debug")
		if cached.code != 0 || strings.TrimSpace(cached.stdout) != token || !strings.Contains(cached.stderr, "served from cache") || strings.Contains(cached.stderr, "plugin started") {
			t.Fatalf("the cached token must come from the keyring without a plugin: %q\n%s", cached.stdout, cached.stderr)
		}
		if srv.Logins() != 1 {
			t.Errorf("%d logins, want 1", srv.Logins())
		}
		st := e.run("status", "--json")
		var rows []profileStatus
		if err := json.Unmarshal([]byte(st.stdout), &rows); err != nil || len(rows) != 1 || rows[0].Store != "keyring" || !rows[0].Fresh || !strings.HasPrefix(rows[0].CachePath, "keyring authx/api.") {
			t.Errorf("status: %v %s", err, st.stdout)
		}
		account := strings.TrimPrefix(rows[0].CachePath, "keyring authx/")
		if item, err := keyring.Get("authx", account); err != nil || !strings.Contains(item, token) {
			t.Fatalf("the keyring item authx/%s: %v (holds the token: %v)", account, err, strings.Contains(item, token))
		}
		if r := e.run("logout", "api"); r.code != 0 {
			t.Fatalf("logout: %+v", r)
		}
		if _, err := keyring.Get("authx", account); !errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("after logout the keyring item authx/%s: %v, want not found", account, err)
		}
		if stubs, _ := filepath.Glob(filepath.Join(cacheDir, "*.keyring")); len(stubs) != 0 {
			t.Errorf("stubs left after logout: %v", stubs)
		}
		noOrphans(t)
	})

	t.Run("logout of a profile no longer in the config removes its item", func(t *testing.T) {
		e := keyringJWTEnv(t, srv, addr, "    store: keyring\n")
		if r := e.run("token", "api"); r.code != 0 {
			t.Fatalf("login: %+v", r)
		}
		stubs, _ := filepath.Glob(filepath.Join(e.home, "cache", "authx", "api.*.keyring"))
		if len(stubs) != 1 {
			t.Fatalf("stubs: %v", stubs)
		}
		account := strings.TrimSuffix(filepath.Base(stubs[0]), ".keyring")
		e.config("profiles: {}\n")
		if r := e.run("logout", "api"); r.code != 0 || !strings.Contains(r.stderr, "1 cached credential removed") {
			t.Fatalf("logout: %+v", r)
		}
		if _, err := keyring.Get("authx", account); !errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("the keyring item authx/%s: %v, want not found", account, err)
		}
	})

	t.Run("20 concurrent processes log in once", func(t *testing.T) {
		before := srv.Logins()
		e := keyringJWTEnv(t, srv, addr, "    store: keyring\n")
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
		if n := srv.Logins() - before; n != 1 || len(seen) != 1 {
			t.Fatalf("20 concurrent authx token with store: keyring: %d logins, %d distinct tokens; want 1 and 1", n, len(seen))
		}
		noOrphans(t)
	})

	t.Run("authx secret set, then a keyring: reference", func(t *testing.T) {
		e := newEnv(t).set("DBUS_SESSION_BUS_ADDRESS=" + addr)
		e.config("profiles:\n  b:\n    scheme: basic\n    config: {username: alice, password: \"keyring:authx-test/alice\"}\n")
		c := e.cmd("secret", "set", "authx-test/alice", "--stdin")
		c.Stdin = strings.NewReader("kr-s3cret\n")
		if r := runCmd(t, c); r.code != 0 || r.stderr != "authx: stored keyring:authx-test/alice\n" || r.stdout != "" {
			t.Fatalf("secret set: %+v", r)
		}
		if v, err := keyring.Get("authx-test", "alice"); err != nil || v != "kr-s3cret" {
			t.Fatalf("the item: %q, %v", v, err)
		}
		r := e.run("header", "b")
		if r.code != 0 || r.stdout != "Authorization: Basic "+base64.StdEncoding.EncodeToString([]byte("alice:kr-s3cret"))+"\n" {
			t.Fatalf("header: %+v", r)
		}
		if f := filesWith(t, e.home, "alice:kr-s3cret"); len(f) > 0 {
			t.Errorf("a credential re-encoding a keyring: secret was written to %v", f)
		}
		if r := e.run("secret", "set", "authx-test/alice"); r.code != 3 || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("secret set without a terminal: %+v, want exit 3 and one line", r)
		}
		if r := e.run("secret", "delete", "authx-test/alice"); r.code != 0 || r.stderr != "authx: removed keyring:authx-test/alice\n" {
			t.Errorf("secret delete: %+v", r)
		}
		if r := e.run("header", "b"); r.code != 2 || !strings.Contains(r.stderr, "keyring:authx-test/alice: no such item") || strings.Contains(r.stderr, "kr-s3cret") {
			t.Errorf("a missing item: %+v", r)
		}
	})
}

// A keyring that cannot be reached: the file store with one notice, or a
// clean failure (exit 17) when the profile says store_fallback: fail.
func TestKeyringUnreachable(t *testing.T) {
	srv := startJWT(t, jwttest.Options{AccessTTL: time.Hour})
	nowhere := "unix:path=" + filepath.Join(t.TempDir(), "no-bus")

	e := keyringJWTEnv(t, srv, nowhere, "    store: keyring\n")
	for i := range 2 {
		r := e.run("token", "api")
		if r.code != 0 || r.stdout == "" {
			t.Fatalf("run %d: %+v", i, r)
		}
		if strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "uses the file store") {
			t.Errorf("run %d: stderr %q, want one notice about the file store", i, r.stderr)
		}
	}
	if srv.Logins() != 1 {
		t.Errorf("%d logins, want 1 (the fallback's file serves the second run)", srv.Logins())
	}

	f := keyringJWTEnv(t, srv, nowhere, "    store: keyring\n    store_fallback: fail\n")
	r := f.run("token", "api")
	if r.code != 17 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "keyring") {
		t.Errorf("store_fallback: fail: %+v, want exit 17 and one line", r)
	}
	if files, _ := filepath.Glob(filepath.Join(f.home, "cache", "authx", "*.json")); len(files) != 0 {
		t.Errorf("store_fallback: fail wrote %v", files)
	}
}

// Must show 2 of issue 13: a basic profile whose password is a cmd:
// reference writes no credential file by default; cache: true caches it.
func TestReencodedSecretNotCached(t *testing.T) {
	e := newEnv(t)
	e.config(`profiles:
  pm: {scheme: basic, config: {username: alice, password: "cmd:echo pm-s3cret"}}
  pmcached: {scheme: basic, cache: true, config: {username: bob, password: "cmd:echo pm-s3cret"}}
`)
	for _, p := range []string{"pm", "pm", "pmcached"} {
		if r := e.run("header", p); r.code != 0 || !strings.HasPrefix(r.stdout, "Authorization: Basic ") {
			t.Fatalf("header %s: %+v", p, r)
		}
	}
	cacheDir := filepath.Join(e.home, "cache", "authx")
	if f := filesWith(t, cacheDir, "alice:pm-s3cret"); len(f) > 0 {
		t.Errorf("the cmd: profile's credential was written to %v", f)
	}
	if f := filesWith(t, cacheDir, "bob:pm-s3cret"); len(f) != 1 {
		t.Errorf("cache: true: the credential is in %v, want one file", f)
	}
	st := e.run("status", "--json", "pm")
	var rows []profileStatus
	if err := json.Unmarshal([]byte(st.stdout), &rows); err != nil || len(rows) != 1 || rows[0].Store != "memory" || rows[0].StoreNote != "config.password is a cmd: reference" {
		t.Errorf("status: %v %s", err, st.stdout)
	}
}

// cache_ttl bounds a credential without an expiry of its own: it is
// stored expiring cache_ttl after it was obtained, and served from the
// cache, without a plugin, meanwhile (what happens at its expiry is the
// cache's common rule, tested with credentials that have one).
func TestCacheTTLBoundsCredentialWithoutExpiry(t *testing.T) {
	e := newEnv(t).set("PW=ttl-pw")
	e.config("profiles:\n  b: {scheme: basic, cache_ttl: 5m, config: {username: alice, password: env:PW}}\n  forever: {scheme: basic, config: {username: bob, password: env:PW}}\n")
	before := time.Now()
	for _, p := range []string{"b", "forever"} {
		if r := e.run("header", p); r.code != 0 {
			t.Fatalf("first %s: %+v", p, r)
		}
	}
	after := time.Now()
	st := e.run("status", "--json")
	var rows []profileStatus
	if err := json.Unmarshal([]byte(st.stdout), &rows); err != nil || len(rows) != 2 {
		t.Fatalf("status: %v %s", err, st.stdout)
	}
	for _, row := range rows {
		switch {
		case row.Profile == "b" && (row.ExpiresAt == nil || row.ExpiresAt.Before(before.Add(5*time.Minute).Add(-time.Second)) || row.ExpiresAt.After(after.Add(5*time.Minute))):
			t.Errorf("cache_ttl 5m: expiry %v, want 5 minutes after it was obtained (%v to %v)", row.ExpiresAt, before, after)
		case row.Profile == "forever" && row.ExpiresAt != nil:
			t.Errorf("no cache_ttl: expiry %v, want none", row.ExpiresAt)
		}
	}
	if r := e.run("header", "b", "--log-level", "debug"); r.code != 0 || !strings.Contains(r.stderr, "served from cache") || strings.Contains(r.stderr, "plugin started") {
		t.Fatalf("within cache_ttl: %d\n%s", r.code, r.stderr)
	}
}

// logout forgets what an earlier store setting left: a file entry of a
// profile that is now store: memory (cache: false, or a re-encoded secret)
// is removed, not reported as "no cached credential" and kept (found by
// the hostile review).
func TestLogoutAfterStoreChange(t *testing.T) {
	e := newEnv(t).set("PW=changed-store-pw")
	e.config("profiles:\n  b: {scheme: basic, config: {username: alice, password: env:PW}}\n")
	if r := e.run("header", "b"); r.code != 0 {
		t.Fatalf("header: %+v", r)
	}
	cacheDir := filepath.Join(e.home, "cache", "authx")
	if f := filesWith(t, cacheDir, "alice:changed-store-pw"); len(f) != 1 {
		t.Fatalf("the file store holds the credential in %v, want one file", f)
	}
	e.config("profiles:\n  b: {scheme: basic, cache: false, config: {username: alice, password: env:PW}}\n")
	if r := e.run("logout", "b"); r.code != 0 || strings.Contains(r.stderr, "had no cached credential") {
		t.Fatalf("logout: %+v", r)
	}
	if f := filesWith(t, cacheDir, "alice:changed-store-pw"); len(f) != 0 {
		t.Errorf("logout left the credential in %v", f)
	}
}
