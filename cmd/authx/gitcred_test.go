package main

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// requireTool returns the path of a program the test needs; without it the
// test skips, saying which Debian package has it, or fails under CI
// (AUTHX_REQUIRE_IDPTEST=1, which .ci/run sets after installing it).
func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("AUTHX_REQUIRE_IDPTEST") == "1" {
			t.Fatalf("%s is missing (Debian package %s) and AUTHX_REQUIRE_IDPTEST=1", name, pkg)
		}
		t.Skipf("%s is not installed (Debian package %s)", name, pkg)
	}
	return p
}

// gitServer serves the bare repositories under its root over git's smart
// HTTP, through the real `git http-backend` as a CGI program, to requests
// whose Basic credentials ok accepts; others get 401.
type gitServer struct {
	*httptest.Server
	root              string
	refused, accepted atomic.Int64
}

func newGitServer(t *testing.T, git string, ok func(user, pass string) bool) *gitServer {
	out, err := exec.Command(git, "--exec-path").Output()
	if err != nil {
		t.Fatal(err)
	}
	backend := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	s := &gitServer{root: t.TempDir()}
	if o, err := exec.Command(git, "init", "-q", "--bare", "-b", "main", filepath.Join(s.root, "repo.git")).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, o)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, has := r.BasicAuth()
		if !has || !ok(user, pass) {
			s.refused.Add(1)
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		s.accepted.Add(1)
		h := &cgi.Handler{Path: backend, Root: "/", Env: []string{
			"GIT_PROJECT_ROOT=" + s.root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=" + user,
		}}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// gitEnv returns the test's environment for git: authx's, with git's own
// configuration isolated (a global config of the test's, no system one),
// authx first on PATH, and no terminal prompt.
func gitEnv(t *testing.T, e *env, git string, helperURL string) []string {
	cfg := filepath.Join(e.home, "gitconfig")
	vars := append(append([]string(nil), e.vars...),
		"PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"GIT_CONFIG_GLOBAL="+cfg, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=A", "GIT_AUTHOR_EMAIL=a@example.com", "GIT_COMMITTER_NAME=A", "GIT_COMMITTER_EMAIL=a@example.com")
	// The set-up line of docs/integrations.md.
	c := exec.Command(git, "config", "--global", "credential."+helperURL+".helper", "!authx git-credential")
	c.Env = vars
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("git config: %v\n%s", err, out)
	}
	return vars
}

// runGit runs git with vars in dir.
func runGit(t *testing.T, vars []string, dir string, args ...string) result {
	t.Helper()
	c := exec.Command("git", args...)
	c.Env, c.Dir = vars, dir
	return runCmd(t, c)
}

// authxLines returns stderr's lines written by authx.
func authxLines(stderr string) []string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "authx: ") {
			out = append(out, l)
		}
	}
	return out
}

// git clone and git push over smart HTTP with authx as the only credential
// helper, a basic profile matched by the server's URL; then the refused
// case: git's own "Authentication failed", one line from authx, and
// neither the password nor its Basic encoding anywhere in the output.
func TestGitCredentialCloneAndPush(t *testing.T) {
	git := requireTool(t, "git", "git")
	const pw = "s3cret-git-pw"
	var serverPW atomic.Value
	serverPW.Store(pw)
	srv := newGitServer(t, git, func(u, p string) bool { return u == "alice" && p == serverPW.Load() })
	e := newEnv(t).set("GIT_PW=" + pw)
	e.config(`
profiles:
  forge:
    scheme: basic
    match: ` + srv.URL + `/
    config: {username: alice, password: env:GIT_PW}
`)
	vars := gitEnv(t, e, git, srv.URL)
	work := t.TempDir()

	r := runGit(t, vars, work, "clone", "-q", srv.URL+"/repo.git", "a")
	if r.code != 0 {
		t.Fatalf("git clone: %d\n%s", r.code, r.stderr)
	}
	a := filepath.Join(work, "a")
	os.WriteFile(filepath.Join(a, "f.txt"), []byte("hello\n"), 0o644)
	for _, args := range [][]string{{"add", "f.txt"}, {"commit", "-q", "-m", "first"}, {"push", "-q", "origin", "HEAD:main"}} {
		if r := runGit(t, vars, a, args...); r.code != 0 {
			t.Fatalf("git %s: %d\n%s", args[0], r.code, r.stderr)
		}
	}
	if r := runGit(t, vars, work, "clone", "-q", srv.URL+"/repo.git", "b"); r.code != 0 {
		t.Fatalf("second clone: %d\n%s", r.code, r.stderr)
	} else if b, err := os.ReadFile(filepath.Join(work, "b", "f.txt")); err != nil || string(b) != "hello\n" {
		t.Fatalf("pushed file not cloned back: %q, %v", b, err)
	}
	if srv.accepted.Load() == 0 {
		t.Fatal("the server accepted nothing")
	}

	// The server now takes another password: git fails with its own
	// error, and authx, told by git's erase, finds that renewing gives the
	// same password.
	serverPW.Store("changed-pw-0123")
	r = runGit(t, vars, work, "clone", "-q", srv.URL+"/repo.git", "c")
	if r.code == 0 || !strings.Contains(r.stderr, "Authentication failed") {
		t.Fatalf("refused clone: code %d\n%s", r.code, r.stderr)
	}
	lines := authxLines(r.stderr)
	if len(lines) != 1 || !strings.Contains(lines[0], `profile "forge"`) || !strings.Contains(lines[0], "refused again") {
		t.Errorf("want one line from authx saying the renewed credential is the refused one, got %q\n%s", lines, r.stderr)
	}
	for _, secret := range []string{pw, base64.StdEncoding.EncodeToString([]byte("alice:" + pw))} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("a secret on the terminal: %q\n%s%s", secret, r.stdout, r.stderr)
		}
	}
}

// A token scheme: git gets the token as the password, with the
// conventional username. When the server stops taking it, git's erase
// makes authx refresh it (one line says so), and the next push uses the
// refreshed token without a new login.
func TestGitCredentialTokenRenewedAfterErase(t *testing.T) {
	git := requireTool(t, "git", "git")
	ts := newTokenServer(t, 3600)
	srv := newGitServer(t, git, func(u, p string) bool {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		return u == defaultGitUsername && ts.valid[p]
	})
	e := newEnv(t).set("TK_SECRET=right")
	e.config(`
profiles:
  tk:
    scheme: testkit
    match: ` + srv.URL + `/
    config: {server: ` + ts.URL + `, user: u, secret: env:TK_SECRET}
`)
	vars := gitEnv(t, e, git, srv.URL)
	work := t.TempDir()
	if r := runGit(t, vars, work, "clone", "-q", srv.URL+"/repo.git", "a"); r.code != 0 {
		t.Fatalf("git clone: %d\n%s", r.code, r.stderr)
	}
	a := filepath.Join(work, "a")
	if r := runGit(t, vars, a, "commit", "-q", "--allow-empty", "-m", "x"); r.code != 0 {
		t.Fatal(r.stderr)
	}

	ts.revokeAll()
	r := runGit(t, vars, a, "push", "-q", "origin", "HEAD:main")
	if r.code == 0 || !strings.Contains(r.stderr, "Authentication failed") {
		t.Fatalf("push with a revoked token: code %d\n%s", r.code, r.stderr)
	}
	if lines := authxLines(r.stderr); len(lines) != 1 || !strings.Contains(lines[0], "renewed it") {
		t.Errorf("want one line from authx saying it renewed the credential, got %q", lines)
	}
	if strings.Contains(r.stderr, "login-1-") {
		t.Errorf("the token on the terminal:\n%s", r.stderr)
	}
	if r := runGit(t, vars, a, "push", "-q", "origin", "HEAD:main"); r.code != 0 {
		t.Fatalf("push after the renewal: %d\n%s", r.code, r.stderr)
	}
	if l, rf := ts.logins.Load(), ts.refreshes.Load(); l != 1 || rf != 1 {
		t.Errorf("logins %d, refreshes %d; want 1 and 1", l, rf)
	}
}

// What git asks that is not authx's to answer gets nothing and exit 0, so
// that git asks its other helpers: no profile matches, another protocol
// (git asks for a client certificate's passphrase with protocol=cert),
// a host that would smuggle a path or user info, another user than the
// profile's. store and unknown operations are no-ops; malformed input is
// one line and exit 2.
func TestGitCredentialNotAnswered(t *testing.T) {
	e := newEnv(t).set("GIT_PW=pw-0123")
	e.config(`
profiles:
  forge:
    scheme: basic
    match: https://git.example.com/
    config: {username: alice, password: env:GIT_PW}
`)
	run := func(in string, args ...string) result {
		c := e.cmd(append([]string{"git-credential"}, args...)...)
		c.Stdin = strings.NewReader(in)
		return runCmd(t, c)
	}
	if r := run("protocol=https\nhost=git.example.com\n\n", "get"); r.code != 0 || r.stdout != "username=alice\npassword=pw-0123\n" {
		t.Fatalf("matching get: %d %q %q", r.code, r.stdout, r.stderr)
	}
	for _, in := range []string{
		"protocol=https\nhost=other.example.com\n\n",
		"protocol=http\nhost=git.example.com\n\n",
		"protocol=cert\npath=/home/u/cert.p12\n\n",
		"protocol=https\nhost=git.example.com@evil.example\n\n",
		"protocol=https\nhost=git.example.com/x\n\n",
		"protocol=https\nhost=git.example.com\nusername=bob\n\n",
	} {
		if r := run(in, "get"); r.code != 0 || r.stdout != "" || r.stderr != "" {
			t.Errorf("%q: %d %q %q", in, r.code, r.stdout, r.stderr)
		}
	}
	if r := run("protocol=https\nhost=git.example.com\nusername=alice\npassword=x\n\n", "store"); r.code != 0 || r.stdout+r.stderr != "" {
		t.Errorf("store: %d %q %q", r.code, r.stdout, r.stderr)
	}
	// erase of a password authx does not hold (another helper's): one
	// line, nothing renewed, the cached credential still served.
	if r := run("protocol=https\nhost=git.example.com\nusername=alice\npassword=typed-0123\n\n", "erase"); r.code != 0 || r.stdout != "" ||
		len(authxLines(r.stderr)) != 1 || !strings.Contains(r.stderr, "nothing renewed") || strings.Contains(r.stderr, "typed-0123") {
		t.Errorf("erase of another credential: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := run("protocol=https\nhost=git.example.com\n\n", "get"); r.stdout != "username=alice\npassword=pw-0123\n" {
		t.Errorf("get after that erase: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := run("protocol=https\nhost\n", "get"); r.code != 2 || r.stdout != "" || len(authxLines(r.stderr)) != 1 {
		t.Errorf("malformed: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := run("protocol=https\nhost=git.example.com\n\n", "list"); r.code != 0 || r.stdout+r.stderr != "" {
		t.Errorf("an operation git may add later is ignored: %d %q %q", r.code, r.stdout, r.stderr)
	}
}

// A tool that keeps stdin open without finishing its request does not
// hold authx: one line and exit 2 after toolInputTimeout.
func TestGitCredentialStdinBoundedInTime(t *testing.T) {
	e := newEnv(t)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	pw.WriteString("protocol=https\nhost=git.example.com\n") // no blank line, no EOF
	c := e.cmd("git-credential", "get")
	c.Stdin = pr
	start := time.Now()
	r := runCmd(t, c)
	pr.Close()
	if took := time.Since(start); r.code != 2 || r.stdout != "" || len(authxLines(r.stderr)) != 1 || took > toolInputTimeout+5*time.Second {
		t.Fatalf("code %d after %s: %q %q", r.code, took, r.stdout, r.stderr)
	}
}

// git URL-decodes the path before sending it (credential.useHttpPath):
// a path whose dot segments, backslashes or percent signs a server may
// read otherwise than authx is not answered, as `authx header --url`
// refuses it: real `git credential fill`, nothing from authx.
func TestGitCredentialAmbiguousPathNotAnswered(t *testing.T) {
	git := requireTool(t, "git", "git")
	e := newEnv(t).set("TEAM=team-secret-0123", "OTHER=other-secret-0123")
	e.config(`
profiles:
  team:
    scheme: basic
    match: https://git.example.com/team/
    config: {username: team, password: env:TEAM}
  other:
    scheme: basic
    match: https://git.example.com/other/
    config: {username: other, password: env:OTHER}
`)
	vars := gitEnv(t, e, git, "https://git.example.com")
	if r := runGit(t, vars, e.home, "config", "--global", "credential.useHttpPath", "true"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	fill := func(u string) result {
		c := exec.Command(git, "credential", "fill")
		c.Env, c.Dir = append(vars, "GIT_ASKPASS=/bin/false", "SSH_ASKPASS=/bin/false"), e.home
		c.Stdin = strings.NewReader("url=" + u + "\n")
		return runCmd(t, c)
	}
	if r := fill("https://git.example.com/team/r.git"); !strings.Contains(r.stdout, "password=team-secret-0123\n") {
		t.Fatalf("a plain path: %d %q %q", r.code, r.stdout, r.stderr)
	}
	for _, u := range []string{
		"https://git.example.com/other%2F..%2Fteam/r.git",
		"https://git.example.com/other/%2e%2e/team/r.git",
		"https://git.example.com/other%5C..%5Cteam/r.git",
		"https://git.example.com/other/%252e%252e/team/r.git",
		"https://git.example.com/team/./r.git",
	} {
		if r := fill(u); strings.Contains(r.stdout, "secret") || r.code == 0 {
			t.Errorf("%s: %d %q %q", u, r.code, r.stdout, r.stderr)
		}
	}
}

// git's erase with nothing cached (a credential another helper gave, or
// authx's cache emptied since) obtains nothing: no login, no secret
// command run, nothing printed on stdout.
func TestGitCredentialEraseWithoutCacheObtainsNothing(t *testing.T) {
	ts := newTokenServer(t, 3600)
	e := newEnv(t).set("TK_SECRET=right")
	e.config(fmt.Sprintf("profiles:\n  tk:\n    scheme: testkit\n    match: https://git.example.com/\n    config: {server: %s, user: u, secret: env:TK_SECRET}\n", ts.URL))
	c := e.cmd("git-credential", "erase")
	c.Stdin = strings.NewReader("protocol=https\nhost=git.example.com\nusername=oauth2\npassword=x-0123\n\n")
	r := runCmd(t, c)
	if r.code != 0 || r.stdout != "" || strings.Contains(r.stderr, "x-0123") {
		t.Errorf("erase: %+v", r)
	}
	if n := ts.logins.Load(); n != 0 {
		t.Errorf("erase with nothing cached logged in %d times", n)
	}
}

// Two profiles with equivalent match prefixes: git-credential answers
// nothing, and `authx header --url` refuses the URL (exit 2), rather than
// pick one by its name's order.
func TestGitCredentialTiedProfilesNotAnswered(t *testing.T) {
	e := newEnv(t).set("A=aaa-secret-0123", "G=git-secret-0123")
	e.config(`
profiles:
  aaa:
    scheme: basic
    match: https://GIT.example.com:443/
    config: {username: aaa, password: env:A}
  git:
    scheme: basic
    match: https://git.example.com/
    config: {username: git, password: env:G}
`)
	c := e.cmd("git-credential", "get")
	c.Stdin = strings.NewReader("protocol=https\nhost=git.example.com\n\n")
	if r := runCmd(t, c); r.code != 0 || r.stdout != "" {
		t.Errorf("git-credential get: %+v", r)
	}
	if r := e.run("header", "--url", "https://git.example.com/r.git"); r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "equally") {
		t.Errorf("header --url: %+v", r)
	}
}
