package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/authx/authx/core/demoserver"
)

// binDir holds authx and the plugins, built once for the whole package, as
// `make install` lays them out: authx is the fast front (cmd/authx/front),
// which serves cached credentials and hands everything else to authx-cli,
// this package. The tests run the real binaries, which start real plugin
// processes.
var binDir string

func TestMain(m *testing.M) {
	flag.Parse()
	if fuzzing() { // the fuzz targets here need no executables, and each fuzz worker runs TestMain again
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "authx-test-bin-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	builds := [][]string{
		{"-o", filepath.Join(dir, "authx"), "./front"},
		{"-o", filepath.Join(dir, "authx-cli"), "."},
		{"-o", dir + string(os.PathSeparator), "../../plugins/basic/cmd/authx-plugin-basic", "../../plugins/jwt/cmd/authx-plugin-jwt",
			"../../plugins/jenkins/cmd/authx-plugin-jenkins", "../../core/internal/testkit/cmd/authx-plugin-testkit"},
	}
	for _, args := range builds {
		build := exec.Command("go", append([]string{"build"}, args...)...)
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building test binaries:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fuzzing reports whether this run fuzzes (go test -fuzz) or is one of the
// fuzzing engine's workers.
func fuzzing() bool {
	f, w := flag.Lookup("test.fuzz"), flag.Lookup("test.fuzzworker")
	return f != nil && f.Value.String() != "" || w != nil && w.Value.String() == "true"
}

// env is an isolated user environment: its own config, cache and data dirs.
type env struct {
	t    *testing.T
	home string
	vars []string
}

func newEnv(t *testing.T) *env {
	home := t.TempDir()
	e := &env{t: t, home: home}
	e.vars = []string{
		"HOME=" + home,
		"PATH=" + os.Getenv("PATH"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
		"XDG_DATA_HOME=" + filepath.Join(home, "data"),
		"AUTHX_NO_INPUT=1",
	}
	return e
}

func (e *env) set(kv ...string) *env { e.vars = append(e.vars, kv...); return e }

func (e *env) config(yaml string) string {
	p := filepath.Join(e.home, "config", "authx", "config.yaml")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return p
}

type result struct {
	stdout, stderr string
	code           int
}

func (e *env) cmd(args ...string) *exec.Cmd {
	c := exec.Command(filepath.Join(binDir, "authx"), args...)
	c.Env = e.vars
	return c
}

// run runs authx (the front, as installed) in the environment.
func (e *env) run(args ...string) result {
	e.t.Helper()
	return e.runBin(filepath.Join(binDir, "authx"), args...)
}

// runBin runs the executable bin in the environment.
func (e *env) runBin(bin string, args ...string) result {
	e.t.Helper()
	c := exec.Command(bin, args...)
	c.Env = e.vars
	return runCmd(e.t, c)
}

// runCmd runs c with its output collected; a failure to run it at all
// fails t. A non-zero exit is the result's code, not a failure.
func runCmd(t testing.TB, c *exec.Cmd) result {
	t.Helper()
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// pluginProcesses lists the pids of running processes whose executable is
// one of the test's plugin binaries.
func pluginProcesses(t *testing.T, dirs ...string) []int {
	t.Helper()
	dirs = append(dirs, binDir)
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, en := range entries {
		pid, err := strconv.Atoi(en.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", en.Name(), "exe"))
		if err != nil {
			continue
		}
		for _, d := range dirs {
			if strings.HasPrefix(filepath.Base(exe), "authx-plugin-") && strings.HasPrefix(exe, d) {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

func noOrphans(t *testing.T, dirs ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		pids := pluginProcesses(t, dirs...)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("plugin processes left running: %v", pids)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBasicAdHocHeader(t *testing.T) {
	e := newEnv(t).set("PW=s3cr3t-pw")
	r := e.run("header", "--scheme", "basic", "--set", "username=alice", "--set", "password=env:PW", "--log-level", "debug")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if r.stdout != "Authorization: Basic YWxpY2U6czNjcjN0LXB3\n" {
		t.Errorf("stdout = %q", r.stdout)
	}
	// The plugin ran as its own process, and the debug log says so.
	if !strings.Contains(r.stderr, "plugin started") || !strings.Contains(r.stderr, "authx-plugin-basic") {
		t.Errorf("debug log does not show the plugin process:\n%s", r.stderr)
	}
	for _, secret := range []string{"s3cr3t-pw", "YWxpY2U6czNjcjN0LXB3"} {
		if strings.Contains(r.stderr, secret) {
			t.Errorf("debug log leaks %q:\n%s", secret, r.stderr)
		}
	}
	noOrphans(t)
}

func TestTokenFormats(t *testing.T) {
	e := newEnv(t).set("PW=it's")
	base := []string{"--scheme", "basic", "--set", "username=bob", "--set", "password=env:PW"}
	tests := []struct {
		args []string
		want string
	}{
		{append([]string{"token"}, base...), "Ym9iOml0J3M=\n"},
		{append([]string{"header", "--format", "env"}, base...), "export AUTHX_TOKEN='Ym9iOml0J3M='\nexport AUTHX_AUTHORIZATION='Basic Ym9iOml0J3M='\n"},
		{append([]string{"header", "--format", "curl"}, base...), "header = \"Authorization: Basic Ym9iOml0J3M=\"\n"},
		{append([]string{"header", "--format", "wget"}, base...), "header = Authorization: Basic Ym9iOml0J3M=\n"},
	}
	for _, tt := range tests {
		r := e.run(tt.args...)
		if r.code != 0 || r.stdout != tt.want || r.stderr != "" {
			t.Errorf("authx %s\n = %d %q %q\nwant %q", strings.Join(tt.args, " "), r.code, r.stdout, r.stderr, tt.want)
		}
	}
	r := e.run(append([]string{"header", "--format", "json"}, base...)...)
	var got map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
		t.Fatalf("json: %v %q", err, r.stdout)
	}
	if got["scheme"] != "basic" || got["cached"] != false || got["expires_at"] != nil ||
		got["headers"].(map[string]any)["Authorization"] != "Basic Ym9iOml0J3M=" {
		t.Errorf("json = %v", got)
	}
}

func TestCachedTokenStartsNoPlugin(t *testing.T) {
	// The plugin lives in its own directory so the test can take it away.
	pluginDir := t.TempDir()
	copyFile(t, filepath.Join(binDir, "authx-plugin-basic"), filepath.Join(pluginDir, "authx-plugin-basic"))
	authxDir := t.TempDir() // not beside the plugins
	authx, cli := filepath.Join(authxDir, "authx"), filepath.Join(authxDir, "authx-cli")
	copyFile(t, filepath.Join(binDir, "authx"), authx)
	copyFile(t, filepath.Join(binDir, "authx-cli"), cli)
	e := newEnv(t).set("PW=pw1", "AUTHX_PLUGIN_PATH="+pluginDir)
	e.config(`
profiles:
  work:
    scheme: basic
    match: https://api.example.com/
    config:
      username: alice
      password: env:PW
`)
	run := func(args ...string) result { return e.runBin(authx, args...) }
	first := run("token", "work", "--log-level", "debug")
	if first.code != 0 || first.stdout != "YWxpY2U6cHcx\n" || !strings.Contains(first.stderr, "plugin started") {
		t.Fatalf("first run: %d %q\n%s", first.code, first.stdout, first.stderr)
	}
	second := run("token", "work", "--log-level", "debug")
	if second.code != 0 || second.stdout != first.stdout {
		t.Fatalf("second run: %d %q\n%s", second.code, second.stdout, second.stderr)
	}
	if strings.Contains(second.stderr, "starting plugin") || !strings.Contains(second.stderr, "served from cache") {
		t.Errorf("second run started a plugin:\n%s", second.stderr)
	}
	// Proof that needs no log: with the plugin gone, the cached path still works...
	os.Remove(filepath.Join(pluginDir, "authx-plugin-basic"))
	third := run("token", "--url", "https://api.example.com/v1/x")
	if third.code != 0 || third.stdout != first.stdout {
		t.Fatalf("cached run without a plugin: %d %q %q", third.code, third.stdout, third.stderr)
	}
	// ...served by the front alone, which links no plugin machinery: even
	// without the full CLI beside it.
	os.Rename(cli, cli+".away")
	for _, args := range [][]string{{"token", "work"}, {"header", "work", "--format", "curl"}, {"-q", "header", "--url=https://api.example.com/"}} {
		if r := run(args...); r.code != 0 || !strings.Contains(r.stdout, "YWxpY2U6cHcx") || r.stderr != "" {
			t.Errorf("front alone, authx %s: %+v", strings.Join(args, " "), r)
		}
	}
	if r := run("status"); r.code != 8 || !strings.Contains(r.stderr, "authx-cli not found beside") {
		t.Errorf("front without the full CLI, another command: %+v; want exit 8 and one line", r)
	}
	os.Rename(cli+".away", cli)
	// ...and a changed profile is a miss, which now needs the plugin.
	e.config(`
profiles:
  work:
    scheme: basic
    config:
      username: bob
      password: env:PW
`)
	fourth := run("token", "work")
	if fourth.code != 8 || !strings.Contains(fourth.stderr, `no plugin for scheme "basic"`) {
		t.Errorf("changed profile: %d %q %q; want exit 8, plugin not found", fourth.code, fourth.stdout, fourth.stderr)
	}
	// The cache directory and entry are private.
	st := run("status", "--json")
	var rows []profileStatus
	if err := json.Unmarshal([]byte(st.stdout), &rows); err != nil || len(rows) != 1 {
		t.Fatalf("status: %v %q", err, st.stdout)
	}
	if strings.Contains(st.stdout, "YWxpY2U6cHcx") || strings.Contains(st.stdout, "pw1") {
		t.Errorf("status leaks the secret: %s", st.stdout)
	}
	fi, err := os.Stat(filepath.Dir(rows[0].CachePath))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("cache dir mode: %v %v", fi.Mode(), err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

// tokenServer is a token endpoint that counts logins and refreshes, and an
// API under /api/ that accepts only the tokens it issued and has not revoked.
// A login takes a little time, as a real one does, so that concurrent callers
// overlap.
type tokenServer struct {
	*httptest.Server
	logins, refreshes, logouts atomic.Int64
	expiresIn                  int

	mu    sync.Mutex
	valid map[string]bool
}

func newTokenServer(t *testing.T, expiresIn int) *tokenServer {
	s := &tokenServer{expiresIn: expiresIn, valid: map[string]bool{}}
	issue := func(w http.ResponseWriter, token string, refresh string) {
		s.mu.Lock()
		s.valid[token] = true
		s.mu.Unlock()
		answer := map[string]any{"token": token, "expires_in": s.expiresIn}
		if refresh != "" {
			answer["refresh"] = refresh
		}
		json.NewEncoder(w).Encode(answer)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			s.api(w, r)
			return
		}
		var body map[string]string
		json.NewDecoder(r.Body).Decode(&body)
		switch r.URL.Path {
		case "/login":
			if body["secret"] != "right" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			n := s.logins.Add(1)
			time.Sleep(100 * time.Millisecond)
			issue(w, fmt.Sprintf("login-%d-%s", n, body["otp"]), fmt.Sprintf("r%d", n))
		case "/refresh":
			n := s.refreshes.Add(1)
			time.Sleep(50 * time.Millisecond)
			issue(w, fmt.Sprintf("refreshed-%d", n), "")
		case "/logout":
			s.logouts.Add(1)
			json.NewEncoder(w).Encode(map[string]any{})
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// revokeAll makes every issued token invalid, as an expiry the client did
// not see coming.
func (s *tokenServer) revokeAll() {
	s.mu.Lock()
	s.valid = map[string]bool{}
	s.mu.Unlock()
}

// api answers like a small REST API guarded by Bearer tokens (RFC 6750).
func (s *tokenServer) api(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	ok = ok && s.valid[token] && r.URL.Path != "/api/reject"
	s.mu.Unlock()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token", error_description="The access token expired"`)
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"invalid_token"}`)
		return
	}
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/status/"):
		code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/api/status/"))
		w.WriteHeader(code)
		fmt.Fprintf(w, "status %d\n", code)
	case r.URL.Path == "/api/redirect":
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	case r.URL.Path == "/api/slow":
		time.Sleep(1500 * time.Millisecond)
		io.WriteString(w, "slow ok\n")
	default:
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery,
			"content_type": r.Header.Get("Content-Type"), "accept": r.Header.Get("Accept"), "x_extra": r.Header.Get("X-Extra"),
			"body": string(body), "token": token})
	}
}

func testkitConfig(server string, extra string) string {
	return fmt.Sprintf(`
profiles:
  tk:
    scheme: testkit
    match: %s/
    config:
      server: %s
      user: u
      secret: env:TK_SECRET
%s`, server, server, extra)
}

func TestConcurrentTokensLogInOnce(t *testing.T) {
	srv := newTokenServer(t, 3600)
	e := newEnv(t).set("TK_SECRET=right")
	e.config(testkitConfig(srv.URL, ""))
	const n = 20
	outs := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i] = e.run("token", "tk")
		}()
	}
	wg.Wait()
	for i, r := range outs {
		if r.code != 0 || r.stdout != "login-1-\n" {
			t.Errorf("process %d: %d %q %q", i, r.code, r.stdout, r.stderr)
		}
	}
	if got := srv.logins.Load(); got != 1 {
		t.Fatalf("%d concurrent authx token made %d logins, want 1", n, got)
	}
	noOrphans(t)
}

func TestRefreshAfterExpiryKeepsState(t *testing.T) {
	// expires_in 2s: the skew shrinks to a quarter of the lifetime, so the
	// token is stale 1.5s after login.
	srv := newTokenServer(t, 2)
	e := newEnv(t).set("TK_SECRET=right")
	e.config(testkitConfig(srv.URL, ""))
	if r := e.run("token", "tk"); r.stdout != "login-1-\n" {
		t.Fatalf("login: %+v", r)
	}
	if r := e.run("token", "tk"); r.stdout != "login-1-\n" {
		t.Fatalf("a fresh 2s token must come from the cache: %+v", r)
	}
	time.Sleep(1600 * time.Millisecond)
	if r := e.run("token", "tk"); r.stdout != "refreshed-1\n" {
		t.Fatalf("refresh: %+v", r)
	}
	// The refresh answer had no refresh token: the old one was kept, so the
	// next refresh works again instead of logging in.
	time.Sleep(1600 * time.Millisecond)
	if r := e.run("token", "tk"); r.stdout != "refreshed-2\n" {
		t.Fatalf("second refresh: %+v", r)
	}
	if srv.logins.Load() != 1 || srv.refreshes.Load() != 2 {
		t.Errorf("logins %d refreshes %d", srv.logins.Load(), srv.refreshes.Load())
	}
}

func TestInputRequired(t *testing.T) {
	srv := newTokenServer(t, 3600)
	e := newEnv(t).set("TK_SECRET=right")
	e.config(testkitConfig(srv.URL, "      ask: true\n"))
	r := e.run("token", "tk")
	if r.code != 3 || !strings.Contains(r.stderr, "login needs input (otp) but this run is non-interactive") {
		t.Errorf("non-interactive prompt: %+v", r)
	}
	if srv.logins.Load() != 0 {
		t.Error("a login was made without the answer")
	}
	// The basic scheme asks for a missing password the same way.
	r = e.run("token", "--scheme", "basic", "--set", "username=alice")
	if r.code != 3 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "password") {
		t.Errorf("basic without password: %+v", r)
	}
}

func TestLogoutRevokes(t *testing.T) {
	srv := newTokenServer(t, 3600)
	e := newEnv(t).set("TK_SECRET=right")
	e.config(testkitConfig(srv.URL, ""))
	e.run("token", "tk")
	r := e.run("logout", "tk")
	if r.code != 0 || srv.logouts.Load() != 1 {
		t.Fatalf("logout: %+v, %d revocations", r, srv.logouts.Load())
	}
	if r := e.run("token", "tk"); r.stdout != "login-2-\n" {
		t.Errorf("after logout the credential was reused: %+v", r)
	}
	if r := e.run("logout", "--all"); r.code != 0 {
		t.Errorf("logout --all: %+v", r)
	}
}

func TestActions(t *testing.T) {
	srv := newTokenServer(t, 3600)
	e := newEnv(t).set("TK_SECRET=right")
	e.config(testkitConfig(srv.URL, ""))
	r := e.run("testkit", "echo", "--upper", "yes", "hello", "world")
	if r.code != 0 || r.stdout != "HELLO WORLD\n" {
		t.Errorf("echo: %+v", r)
	}
	r = e.run("testkit", "whoami", "--profile", "tk")
	if r.code != 0 || r.stdout != "user=u cached=false\n" {
		t.Errorf("whoami: %+v", r)
	}
	r = e.run("testkit", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "echo") || !strings.Contains(r.stdout, "whoami") {
		t.Errorf("help: %+v", r)
	}
	r = e.run("nosuchscheme", "x")
	if r.code != 2 || !strings.Contains(r.stderr, "unknown command") {
		t.Errorf("unknown scheme: %+v", r)
	}
	noOrphans(t)
}

// TestFailures: each broken situation gives one line on stderr, nothing on
// stdout, its own exit code, and leaves no plugin process behind.
func TestFailures(t *testing.T) {
	srv := newTokenServer(t, 3600)
	plugins := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(plugins, name), []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("authx-plugin-chatty", "#!/bin/sh\necho 'hello, I am not a plugin'\n")
	write("authx-plugin-silent", "#!/bin/sh\nexit 0\n")
	write("authx-plugin-garbage", "\x7fELF this is not a binary")
	// Issue 6: a plugin whose SDK speaks protocol v2 is refused by name.
	if out, err := exec.Command("go", "build", "-o", filepath.Join(plugins, "authx-plugin-future"), "../../core/host/testdata/v2plugin").CombinedOutput(); err != nil {
		t.Fatalf("building the v2 plugin: %v\n%s", err, out)
	}

	tests := []struct {
		name   string
		config string
		args   []string
		code   int
		want   string
	}{
		{"killed plugin", testkitConfig(srv.URL, "      crash_in: login\n"), []string{"token", "tk"}, 6, "plugin authx-plugin-testkit crashed during Login (signal: killed)"},
		{"not a plugin (prints)", "profiles:\n  p: {scheme: chatty}\n", []string{"token", "p"}, 6, "is not an authx plugin"},
		{"not a plugin (exits)", "profiles:\n  p: {scheme: silent}\n", []string{"token", "p"}, 6, "is not an authx plugin"},
		{"not an executable", "profiles:\n  p: {scheme: garbage}\n", []string{"token", "p"}, 6, "cannot be executed"},
		{"another protocol major", "profiles:\n  p: {scheme: future}\n", []string{"token", "p"}, 6, "speaks plugin protocol v2 but this authx speaks v1"},
		{"wrong checksum pin", "profiles:\n  p:\n    scheme: basic\n    plugin: {sha256: " + strings.Repeat("ab", 32) + "}\n    config: {username: a, password: env:TK_SECRET}\n",
			[]string{"token", "p"}, 9, "but the pin (profiles.p.plugin.sha256 in "},
		{"missing plugin", "profiles:\n  p: {scheme: nosuch}\n", []string{"token", "p"}, 8, `no plugin for scheme "nosuch": authx-plugin-nosuch not found in`},
		{"typo in a profile key", "profiles:\n  p:\n    shceme: basic\n", []string{"token", "p"}, 2, `profiles.p.shceme: unknown key; did you mean "scheme"?`},
		{"typo in a scheme key", "profiles:\n  p:\n    scheme: basic\n    config: {usernme: a, password: env:TK_SECRET}\n", []string{"token", "p"}, 2, `profiles.p.config.usernme: unknown key; did you mean "username"?`},
		{"unset secret env", "profiles:\n  p:\n    scheme: basic\n    config: {username: a, password: env:NOPE_UNSET}\n", []string{"token", "p"}, 2, "NOPE_UNSET"},
		{"rejected credentials", testkitConfig(srv.URL, ""), []string{"token", "tk"}, 4, "test server refused the credentials"},
		{"unknown profile", testkitConfig(srv.URL, ""), []string{"token", "tj"}, 2, `"tk"`},
		{"unreachable server", testkitConfig("http://127.0.0.1:1", ""), []string{"token", "tk"}, 5, "unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secretVal := "right"
			if tt.name == "rejected credentials" {
				secretVal = "wrong"
			}
			e := newEnv(t).set("TK_SECRET="+secretVal, "AUTHX_PLUGIN_PATH="+plugins)
			e.config(tt.config)
			r := e.run(tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", r.code, tt.code, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "authx: ") || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q, want one line containing %q", r.stderr, tt.want)
			}
			if strings.Contains(r.stderr, secretVal) || strings.Contains(r.stderr, "goroutine") {
				t.Errorf("stderr leaks a secret or a stack: %q", r.stderr)
			}
			noOrphans(t, plugins)
		})
	}
}

// waitForPlugin waits until c, a running authx, has started a plugin.
func waitForPlugin(t *testing.T, c *exec.Cmd) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !pluginConnected(t); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			c.Process.Kill()
			t.Fatal("the plugin never started")
		}
	}
}

// pluginConnected reports whether a plugin process runs with a connection
// from its host: besides its listening socket, it holds another one. The
// front may start a plugin before authx-cli runs (and sets up its signal
// handling); authx-cli connects after that.
func pluginConnected(t *testing.T) bool {
	for _, pid := range pluginProcesses(t) {
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		sockets := 0
		for _, fd := range fds {
			if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && strings.HasPrefix(l, "socket:") {
				sockets++
			}
		}
		if sockets >= 2 {
			return true
		}
	}
	return false
}

func TestPluginExitsWhenHostIsKilled(t *testing.T) {
	srv := newTokenServer(t, 3600)
	e := newEnv(t).set("TK_SECRET=right")
	e.config(testkitConfig(srv.URL, "      hang: 60s\n"))
	c := e.cmd("token", "tk")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	waitForPlugin(t, c)
	c.Process.Kill() // SIGKILL: authx gets no chance to clean up
	c.Wait()
	noOrphans(t)
}

// SIGINT or SIGTERM while a plugin hangs: authx kills the plugin, says so
// in one line and exits 128 + the signal's number.
func TestInterruptKillsPlugin(t *testing.T) {
	for _, tt := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(tt.sig.String(), func(t *testing.T) {
			srv := newTokenServer(t, 3600)
			e := newEnv(t).set("TK_SECRET=right")
			e.config(testkitConfig(srv.URL, "      hang: 60s\n"))
			c := e.cmd("token", "tk")
			var errb bytes.Buffer
			c.Stderr = &errb
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			waitForPlugin(t, c)
			c.Process.Signal(tt.sig)
			done := make(chan error, 1)
			go func() { done <- c.Wait() }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				c.Process.Kill()
				t.Fatalf("authx did not exit after %v", tt.sig)
			}
			if c.ProcessState.ExitCode() != tt.code || errb.String() != "authx: interrupted\n" {
				t.Errorf("exit %d, stderr %q; want %d and one line", c.ProcessState.ExitCode(), errb.String(), tt.code)
			}
			noOrphans(t)
		})
	}
}

func TestPluginOutputNeverReachesStdout(t *testing.T) {
	srv := newTokenServer(t, 3600)
	e := newEnv(t).set("TK_SECRET=right")
	e.config(testkitConfig(srv.URL, "      noise: true\n"))
	r := e.run("token", "tk")
	if r.code != 0 || r.stdout != "login-1-\n" {
		t.Errorf("stdout %q (exit %d), want only the token", r.stdout, r.code)
	}
	if strings.Contains(r.stderr, "noise") {
		t.Errorf("plugin output shown without --log-level: %q", r.stderr)
	}
}

func TestDescribeCacheAndValidate(t *testing.T) {
	e := newEnv(t).set("PW=pw")
	sum := sha256File(t, filepath.Join(binDir, "authx-plugin-basic"))
	cfgPath := e.config(`
profiles:
  good:
    scheme: basic
    plugin: {sha256: ` + sum + `}
    config: {username: alice, password: env:PW}
  literal:
    scheme: basic
    config: {username: alice, password: hunter2}
`)
	// A correct pin runs the plugin.
	if r := e.run("token", "good"); r.code != 0 || r.stdout != "YWxpY2U6cHc=\n" {
		t.Fatalf("pinned plugin: %+v", r)
	}
	r := e.run("config", "validate")
	if r.code != 0 || !strings.Contains(r.stderr, "profiles.literal.config.password holds a literal secret") || strings.Contains(r.stderr, "hunter2") {
		t.Errorf("validate: %+v", r)
	}
	first := e.run("plugins", "list", "--log-level", "debug")
	if first.code != 0 || !strings.Contains(first.stdout, "basic") || !strings.Contains(first.stdout, "testkit") {
		t.Fatalf("plugins list: %+v", first)
	}
	// Descriptions are cached by (path, size, mtime, inode): no plugin starts now.
	for _, args := range [][]string{{"plugins", "list"}, {"config", "validate"}, {"plugins", "describe", "basic"}} {
		r := e.run(append(args, "--log-level", "debug")...)
		if r.code != 0 || strings.Contains(r.stderr, "starting plugin") {
			t.Errorf("authx %s started a plugin with a warm description cache:\n%s", strings.Join(args, " "), r.stderr)
		}
	}
	// Completion lists profiles and starts nothing.
	r = e.run("__complete", "token", "")
	if !strings.HasPrefix(r.stdout, "good\nliteral\n") {
		t.Errorf("completion: %q", r.stdout)
	}
	os.WriteFile(cfgPath, []byte("profiles:\n  p:\n    scheme: basic\n    config: {usernme: a}\n"), 0o600)
	r = e.run("config", "validate")
	if r.code != 2 || !strings.Contains(r.stderr, `profiles.p.config.usernme: unknown key; did you mean "username"?`) {
		t.Errorf("validate typo: %+v", r)
	}
	// A misspelt secret reference is an error in validate and in use,
	// never a password sent as typed.
	os.WriteFile(cfgPath, []byte("profiles:\n  p:\n    scheme: basic\n    config: {username: a, password: \"Env:PW\"}\n"), 0o600)
	r = e.run("config", "validate")
	want := `"Env:…" looks like a misspelt secret reference: did you mean "env:"?`
	if r.code != 2 || !strings.Contains(r.stderr, "profiles.p.config.password: "+want) || strings.Contains(r.stderr, "holds a literal secret") {
		t.Errorf("validate a misspelt reference: %+v", r)
	}
	r = e.run("token", "p")
	if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "profiles.p.config.password in "+cfgPath+": "+want) {
		t.Errorf("token with a misspelt reference: %+v", r)
	}
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(data))
}

// A rotated password (or token) is picked up after the server refuses the
// cached credential, with one retry; a wrong one is still one diagnosis.
func TestRotatedSecretIsPickedUp(t *testing.T) {
	var requests atomic.Int64
	api := &demoserver.Server{User: "alice", Password: "new-pw"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		api.ServeHTTP(w, r)
	}))
	defer srv.Close()
	e := newEnv(t).set("PW=old-pw")
	e.config(fmt.Sprintf("profiles:\n  work:\n    scheme: basic\n    match: %s/\n    config: {username: alice, password: env:PW}\n", srv.URL))
	if r := e.run("token", "work"); r.code != 0 { // cached with the old password
		t.Fatal(r)
	}
	r := e.run("request", "work", "GET", "/whoami")
	if r.code != 4 || requests.Load() != 1 || !strings.Contains(r.stderr, `refused user "alice"`) {
		t.Fatalf("old password: %+v after %d requests, want one refusal", r, requests.Load())
	}
	e.set("PW=new-pw") // rotated
	r = e.run("request", "work", "POST", "/whoami", "-d", "x=1", "--fail")
	if r.code != 0 || !strings.Contains(r.stdout, `"user":"alice"`) || requests.Load() != 3 {
		t.Fatalf("rotated password: %+v after %d requests, want a refusal then a success", r, requests.Load())
	}
	if r := e.run("request", "work", "GET", "/whoami", "--fail"); r.code != 0 || requests.Load() != 4 {
		t.Errorf("the new credential was not cached: %+v", r)
	}
}

// The front (authx) and the full CLI (authx-cli) answer every command line
// the same: output, errors and exit code, whether the front serves it from
// the cache or hands it over.
func TestFrontMatchesCLI(t *testing.T) {
	e := newEnv(t).set("PW=pw1")
	e.config(`
profiles:
  work:
    scheme: basic
    match: https://api.example.com/
    config: {username: alice, password: env:PW}
  other:
    scheme: basic
    match: https://other.example.com/
    config: {username: bob, password: env:PW}
`)
	if r := e.run("login", "work"); r.code != 0 {
		t.Fatal(r)
	}
	cli := func(args ...string) result { return e.runBin(filepath.Join(binDir, "authx-cli"), args...) }
	for _, args := range [][]string{
		{"token", "work"}, {"header", "work"}, {"-q", "header", "work", "--format=json"}, {"header", "work", "-f", "env"},
		{"header", "--url", "https://api.example.com/v1/x", "--format", "curl"}, {"header", "work", "--format", "wget"},
		{"token", "-f", "header", "work"}, {"token", "--quiet=nope", "work"}, {"header", "work", "--format", "bogus"},
		{"token", "nope"}, {"token"}, {"token", "work", "extra"}, {"token", "--url", "https://nowhere.example.com/"},
		{"token", "--", "work"}, {"header", "--url"}, {"token", "--config", "/nonexistent", "work"},
	} {
		front, full := e.run(args...), cli(args...)
		if front != full {
			t.Errorf("authx %s:\n front %+v\n cli   %+v", strings.Join(args, " "), front, full)
		}
	}
	// A URL beats $AUTHX_PROFILE: a credential never goes where its profile
	// does not match.
	e.set("AUTHX_PROFILE=work")
	for _, run := range []func(...string) result{e.run, cli} {
		if r := run("header", "--url", "https://other.example.com/"); r.code != 0 || !strings.Contains(r.stdout, "Ym9iOnB3MQ==") {
			t.Errorf("--url with AUTHX_PROFILE set: %+v, want bob's credential", r)
		}
		if r := run("header", "--url", "https://evil.example.org/"); r.code != 2 || r.stdout != "" {
			t.Errorf("--url matching no profile with AUTHX_PROFILE set: %+v, want exit 2", r)
		}
		if r := run("token"); r.code != 0 || r.stdout != "YWxpY2U6cHcx\n" {
			t.Errorf("AUTHX_PROFILE alone: %+v", r)
		}
	}
}

// Ctrl-C at a password prompt ends authx at once with 130, kills the plugin
// and gives the terminal its echo back. A pseudo-terminal is driven by
// Python's pty module (standard library) to stay free of Go dependencies.
func TestInterruptAtPrompt(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	const driver = `
import os, pty, sys, time, signal, termios
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
deadline = time.time() + 10
while b"Secret:" not in out and time.time() < deadline:
    out += os.read(fd, 100)
echo_during = bool(termios.tcgetattr(fd)[3] & termios.ECHO)
start = time.time()
os.kill(pid, signal.SIGINT)
_, status = os.waitpid(pid, 0)
echo_after = bool(termios.tcgetattr(fd)[3] & termios.ECHO)
print(os.waitstatus_to_exitcode(status), echo_during, echo_after, "%.1f" % (time.time() - start))
`
	e := newEnv(t)
	c := exec.Command(python, "-c", driver, filepath.Join(binDir, "authx"), "header", "--scheme", "basic", "--set", "username=a", "--set", "password=prompt:")
	var env []string
	for _, kv := range e.vars {
		if !strings.HasPrefix(kv, "AUTHX_NO_INPUT=") { // this run may prompt
			env = append(env, kv)
		}
	}
	c.Env = env
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var code int
	var during, after string
	var took float64
	if _, err := fmt.Sscan(string(out), &code, &during, &after, &took); err != nil {
		t.Fatalf("driver said %q: %v", out, err)
	}
	if code != 130 || during != "False" || after != "True" || took > 2 {
		t.Errorf("exit %d, echo during the prompt %s, after %s, %.1fs after SIGINT; want 130, False, True, at once", code, during, after, took)
	}
	noOrphans(t)
}

// TestBadLogLevel: a misspelt level is an error wherever it comes from, not
// a silently empty log, also when no config file is read.
func TestBadLogLevel(t *testing.T) {
	tests := []struct {
		vars []string
		args []string
		want string
	}{
		{nil, []string{"header", "--scheme", "basic", "--set", "username=a", "--log-level", "verbose"}, `authx: --log-level: "verbose" is not a log level (one of off, error, warn, info, debug, trace)`},
		{[]string{"AUTHX_LOG=loud"}, []string{"status"}, `authx: AUTHX_LOG: "loud" is not a log level`},
		{[]string{"AUTHX_LOG_LEVEL=dbg"}, []string{"token", "--scheme", "basic"}, `authx: AUTHX_LOG_LEVEL: "dbg" is not a log level`},
	}
	for _, tt := range tests {
		r := newEnv(t).set(tt.vars...).run(tt.args...)
		if r.code != 2 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, tt.want) {
			t.Errorf("%v authx %s: %+v; want exit 2 and %q", tt.vars, strings.Join(tt.args, " "), r, tt.want)
		}
	}
	e := newEnv(t).set("PW=pw")
	e.config("log_level: chatty\nprofiles:\n  p: {scheme: basic, config: {username: a, password: env:PW}}\n")
	if r := e.run("token", "p"); r.code != 2 || !strings.Contains(r.stderr, `log_level: "chatty" is not a log level`) {
		t.Errorf("log_level in the config file: %+v", r)
	}
}
