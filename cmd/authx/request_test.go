package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// apiEnv is an environment with a testkit profile for a token server's API.
func apiEnv(t *testing.T) (*env, *tokenServer) {
	srv := newTokenServer(t, 3600)
	e := newEnv(t).set("TK_SECRET=right")
	e.config(testkitConfig(srv.URL, ""))
	return e, srv
}

func echoed(t *testing.T, r result) map[string]string {
	t.Helper()
	var got map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("not an echo (exit %d): %q %q", r.code, r.stdout, r.stderr)
	}
	return got
}

func TestRequestBodies(t *testing.T) {
	e, srv := apiEnv(t)
	file := filepath.Join(e.home, "body.json")
	os.WriteFile(file, []byte(`{"from":"file"}`), 0o600)
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  map[string]string
	}{
		{"GET by URL", []string{"request", "GET", srv.URL + "/api/items?x=1"}, "",
			map[string]string{"method": "GET", "path": "/api/items", "query": "x=1", "body": "", "token": "login-1-"}},
		{"relative URL", []string{"request", "tk", "get", "/api/items"}, "",
			map[string]string{"method": "GET", "path": "/api/items"}},
		{"-d DATA", []string{"request", "tk", "POST", "/api/form", "-d", "a=1&b=2"}, "",
			map[string]string{"method": "POST", "body": "a=1&b=2", "content_type": "application/x-www-form-urlencoded"}},
		{"-d @FILE --json", []string{"request", "tk", "PUT", "/api/doc", "-d", "@" + file, "--json"}, "",
			map[string]string{"method": "PUT", "body": `{"from":"file"}`, "content_type": "application/json", "accept": "application/json"}},
		{"-d @- with -H", []string{"request", "tk", "PATCH", "/api/doc", "-d", "@-", "-H", "Content-Type: text/plain", "-H", "X-Extra: yes"}, "from stdin",
			map[string]string{"method": "PATCH", "body": "from stdin", "content_type": "text/plain", "x_extra": "yes"}},
		{"POST --json DATA", []string{"request", "tk", "POST", "/api/doc", "--json", "-d", `{"inline":true}`}, "",
			map[string]string{"method": "POST", "body": `{"inline":true}`, "content_type": "application/json"}},
		{"POST -d @FILE", []string{"request", "tk", "POST", "/api/doc", "-d", "@" + file}, "",
			map[string]string{"method": "POST", "body": `{"from":"file"}`, "content_type": "application/x-www-form-urlencoded"}},
		{"POST -d @-", []string{"request", "tk", "POST", "/api/doc", "-d", "@-"}, "a=from+stdin",
			map[string]string{"method": "POST", "body": "a=from+stdin"}},
		{"GET -d DATA (a body on GET, as curl -X GET -d sends)", []string{"request", "tk", "GET", "/api/search", "-d", "q=1"}, "",
			map[string]string{"method": "GET", "body": "q=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.cmd(tt.args...)
			c.Stdin = strings.NewReader(tt.stdin)
			out, err := c.Output()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			got := echoed(t, result{stdout: string(out)})
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
	if srv.logins.Load() != 1 {
		t.Errorf("%d logins for %d requests, want 1", srv.logins.Load(), len(tests))
	}
}

func TestRequestFailAndOutput(t *testing.T) {
	e, srv := apiEnv(t)
	tests := []struct {
		args   []string
		code   int
		stdout string
	}{
		{[]string{"request", "tk", "GET", "/api/status/404"}, 0, "status 404\n"},
		{[]string{"request", "tk", "GET", "/api/status/404", "--fail"}, 7, "status 404\n"},
		{[]string{"request", "tk", "GET", "/api/status/503", "--fail"}, 12, "status 503\n"},
		{[]string{"request", "tk", "GET", "/api/status/204", "--fail"}, 0, ""},
		{[]string{"request", "tk", "GET", "/api/status/200", "-i"}, 0, "HTTP/1.1 200 OK\r\n"},
	}
	for _, tt := range tests {
		r := e.run(tt.args...)
		if r.code != tt.code || !strings.HasPrefix(r.stdout, tt.stdout) {
			t.Errorf("authx %s: %d %q %q; want %d %q", strings.Join(tt.args, " "), r.code, r.stdout, r.stderr, tt.code, tt.stdout)
		}
		if tt.code != 0 && strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("stderr %q, want one line", r.stderr)
		}
	}
	out := filepath.Join(e.home, "out.json")
	if r := e.run("request", "tk", "GET", "/api/x", "-o", out); r.code != 0 || r.stdout != "" {
		t.Fatalf("-o: %+v", r)
	}
	if data, _ := os.ReadFile(out); !strings.Contains(string(data), `"path":"/api/x"`) {
		t.Errorf("-o file: %s", data)
	}
	// A forgotten method: the profile is not taken for one.
	for _, args := range [][]string{{"request", "tk", "/api/x"}, {"request", "tk", "GET /api/x"}} {
		r := e.run(args...)
		if r.code != 2 || r.stdout != "" || !strings.HasPrefix(r.stderr, `authx: "tk" is a profile and no method was given: authx request tk METHOD URL`) {
			t.Errorf("authx %s: %+v", strings.Join(args, " "), r)
		}
	}
	// Outside the profile's match prefixes nothing is sent.
	r := e.run("request", "tk", "GET", "http://127.0.0.1:9/x")
	if r.code != 2 || !strings.Contains(r.stderr, "outside profile") {
		t.Errorf("outside scope: %+v", r)
	}
	// Time running out is a timeout (15), not a network error (5).
	r = e.run("request", "tk", "GET", "/api/x", "--timeout", "1ns")
	if r.code != 15 || !strings.Contains(r.stderr, "timed out after 1ns (--timeout)") {
		t.Errorf("--timeout: %+v, want exit 15", r)
	}
	r = e.run("request", "tk", "GET", "/api/slow", "--max-time", "200ms")
	if r.code != 15 || !strings.Contains(r.stderr, "within --max-time 200ms") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("--max-time: %+v, want exit 15 and one line", r)
	}
	_ = srv
}

// TestNamedProfileMustCoverURL: a profile named together with --url hands
// out its credential only for a URL it covers, from the cache or not.
func TestNamedProfileMustCoverURL(t *testing.T) {
	e, srv := apiEnv(t)
	if r := e.run("token", "tk", "--url", srv.URL+"/api/x"); r.code != 0 || r.stdout != "login-1-\n" {
		t.Fatalf("a covered URL: %+v", r)
	}
	for _, cmd := range [][]string{
		{"token", "tk"}, {"header", "tk"}, {"header", "tk", "--format", "json"}, {"exec", "tk"},
	} {
		args := append(cmd, "--url", "https://evil.example.com/?key=s3cret")
		if cmd[0] == "exec" {
			args = append(args, "--", "true")
		}
		r := e.run(args...)
		if r.code != 2 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || strings.Contains(r.stderr, "s3cret") ||
			!strings.Contains(r.stderr, `--url https://evil.example.com/ is outside profile "tk"'s match prefixes (`+srv.URL) {
			t.Errorf("authx %s: %+v; want exit 2 and one line", strings.Join(args, " "), r)
		}
	}
	if srv.logins.Load() != 1 {
		t.Errorf("%d logins, want 1", srv.logins.Load())
	}
}

// TestRequestRefusalsWithoutFail pins the exit codes of a 401 and a 403
// that the scheme cannot cure: they are failures with or without --fail,
// and the server's body is still written.
func TestRequestRefusalsWithoutFail(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		switch {
		case !ok || pass != "right":
			w.Header().Set("WWW-Authenticate", `Basic realm="api"`)
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, "who are you?\n")
		case r.URL.Path == "/admin" && user != "root":
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, "not for you\n")
		default:
			io.WriteString(w, "hello "+user+"\n")
		}
	}))
	defer srv.Close()
	e := newEnv(t).set("RIGHT=right", "WRONG=wrong")
	e.config(fmt.Sprintf(`profiles:
  alice:
    scheme: basic
    url: %[1]s
    config: {username: alice, password: env:RIGHT}
  mallory:
    scheme: basic
    url: %[1]s
    config: {username: mallory, password: env:WRONG}
`, srv.URL))
	tests := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"request", "alice", "GET", "/hello"}, 0, "hello alice\n", ""},
		{[]string{"request", "alice", "GET", "/admin"}, 14, "not for you\n",
			`authx: profile "alice": forbidden: the server accepted no access for user "alice" to ` + srv.URL + "/admin (HTTP 403)\n"},
		{[]string{"request", "alice", "GET", "/admin", "--fail"}, 14, "not for you\n", "authx: "},
		{[]string{"request", "mallory", "GET", "/hello"}, 4, "who are you?\n",
			`authx: profile "mallory": credentials rejected: the server refused user "mallory" (realm "api")` + "\n"},
	}
	for _, tt := range tests {
		r := e.run(tt.args...)
		if r.code != tt.code || r.stdout != tt.stdout || !strings.HasPrefix(r.stderr, tt.stderr) || strings.Count(r.stderr, "\n") != min(tt.code, 1) {
			t.Errorf("authx %s: exit %d, stdout %q, stderr %q; want %d, %q, %q", strings.Join(tt.args, " "), r.code, r.stdout, r.stderr, tt.code, tt.stdout, tt.stderr)
		}
	}
}

func TestRequestRefreshesAfter401(t *testing.T) {
	e, srv := apiEnv(t)
	if r := e.run("request", "tk", "GET", "/api/a"); r.code != 0 || echoed(t, r)["token"] != "login-1-" {
		t.Fatalf("first request: %+v", r)
	}
	srv.revokeAll() // the server forgets the token before its announced expiry
	r := e.run("request", "tk", "POST", "/api/b", "-d", "x=1", "--log-level", "debug")
	if r.code != 0 {
		t.Fatalf("after revocation: %+v", r)
	}
	if got := echoed(t, r); got["token"] != "refreshed-1" || got["body"] != "x=1" {
		t.Errorf("retried request: %v", got)
	}
	if srv.refreshes.Load() != 1 || srv.logins.Load() != 1 {
		t.Errorf("logins %d refreshes %d, want 1 and 1", srv.logins.Load(), srv.refreshes.Load())
	}
	for _, secret := range []string{"login-1-", "refreshed-1", "right"} {
		if strings.Contains(r.stderr, secret) {
			t.Errorf("debug log leaks %q", secret)
		}
	}
	// A second 401 is reported, not looped: /api/reject refuses every token.
	before := srv.refreshes.Load()
	r = e.run("request", "tk", "GET", "/api/reject")
	if r.code != 4 || !strings.Contains(r.stderr, "refused GET") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("second 401: exit %d %q", r.code, r.stderr)
	}
	if n := srv.refreshes.Load() - before; n != 1 {
		t.Errorf("%d refreshes for one refused request, want exactly 1", n)
	}
	if r.stdout != `{"error":"invalid_token"}` {
		t.Errorf("the server's answer should still reach stdout: %q", r.stdout)
	}
}

func TestRequestRedirectDropsCredentials(t *testing.T) {
	e, srv := apiEnv(t)
	var got http.Header
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		io := "other origin reached\n"
		w.Write([]byte(io))
	}))
	defer other.Close()
	// Same host (127.0.0.1), another port: Go's own rule would keep Authorization.
	r := e.run("request", "tk", "GET", "/api/redirect?to="+other.URL+"/landing", "-H", "Authorization: Bearer user-supplied", "-H", "Cookie: c=1")
	if r.code != 0 || r.stdout != "other origin reached\n" {
		t.Fatalf("redirect: %+v", r)
	}
	for _, h := range []string{"Authorization", "Cookie"} {
		if got.Get(h) != "" {
			t.Errorf("%s forwarded to another origin: %q", h, got.Get(h))
		}
	}
	// A same-origin redirect keeps the credential.
	r = e.run("request", "tk", "GET", "/api/redirect?to=/api/after")
	if g := echoed(t, r); g["path"] != "/api/after" || g["token"] == "" {
		t.Errorf("same-origin redirect: %v", g)
	}
	_ = srv
}

// cmdlines returns the command lines of every process, NUL bytes as spaces.
func cmdlines() map[int]string {
	out := map[int]string{}
	entries, _ := os.ReadDir("/proc")
	for _, en := range entries {
		pid, err := strconv.Atoi(en.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile(filepath.Join("/proc", en.Name(), "cmdline")); err == nil {
			out[pid] = strings.ReplaceAll(string(b), "\x00", " ")
		}
	}
	return out
}

func TestWrappersKeepTokenOutOfArgv(t *testing.T) {
	for _, tool := range []string{"curl", "wget"} {
		t.Run(tool, func(t *testing.T) {
			if _, err := exec.LookPath(tool); err != nil {
				t.Skipf("%s not installed (.ci/run installs it)", tool)
			}
			e, srv := apiEnv(t)
			args := map[string][]string{
				"curl": {"curl", "tk", "--", "-sS", srv.URL + "/api/slow"},
				"wget": {"wget", "--", "-q", "-O", "-", srv.URL + "/api/slow"},
			}[tool]
			c := e.cmd(args...)
			var out strings.Builder
			c.Stdout = &out
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			seen := false
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !seen; time.Sleep(10 * time.Millisecond) {
				for pid, line := range cmdlines() {
					if strings.Contains(line, "login-1-") {
						t.Errorf("token in the argv of pid %d: %q", pid, line)
					}
					if strings.HasPrefix(line, tool+" ") && strings.Contains(line, "/api/slow") {
						seen = true
					}
				}
			}
			if err := c.Wait(); err != nil {
				t.Fatalf("%s wrapper: %v", tool, err)
			}
			if !seen {
				t.Errorf("never saw %s running", tool)
			}
			if out.String() != "slow ok\n" {
				t.Errorf("output %q", out.String())
			}
			files, _ := filepath.Glob(filepath.Join(os.TempDir(), "authx-wgetrc-*"))
			for _, f := range files {
				if data, _ := os.ReadFile(f); strings.Contains(string(data), "login-1-") {
					t.Errorf("temporary wgetrc left behind: %s", f)
				}
			}
		})
	}
}

func TestWrapperExitCodes(t *testing.T) {
	e, srv := apiEnv(t)
	// What a redirect or a stray URL would reach: it must see no credential.
	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
	}))
	defer other.Close()
	t.Run("curl", func(t *testing.T) {
		needTool(t, "curl")
		if r := e.run("curl", "tk", "--", "-sf", srv.URL+"/api/status/404"); r.code != 22 {
			t.Errorf("curl -f on 404: exit %d, want curl's 22", r.code)
		}
		// A URL outside the profile: curl would send the header there.
		r := e.run("curl", "tk", "--", "-sS", srv.URL+"/api/x", other.URL+"/elsewhere")
		if r.code != 2 || !strings.Contains(r.stderr, "is outside profile \"tk\"") || r.stdout != "" {
			t.Errorf("curl with a URL outside the profile: %+v, want exit 2 before curl runs", r)
		}
		if r := e.run("curl", "tk", "--", "-sS", strings.Replace(other.URL, "http://", "HTTP://", 1)+"/upper"); r.code != 2 {
			t.Errorf("curl with an upper-case URL outside the profile: %+v, want exit 2", r)
		}
		// A URL that does not parse is refused without quoting it: it may
		// hold a password.
		bad := strings.Replace(srv.URL, "http://", "http://alice:s3cr3t-pw@", 1) + "x/api/x"
		r = e.run("curl", "tk", "--", "-sS", bad)
		if r.code != 2 || strings.Contains(r.stderr, "s3cr3t-pw") || strings.Count(r.stderr, "\n") != 1 ||
			!strings.Contains(r.stderr, "a URL among curl's arguments does not parse (invalid port") {
			t.Errorf("curl with an unparsable URL: %+v", r)
		}
		r = e.run("request", "tk", "GET", bad)
		if r.code != 2 || strings.Contains(r.stderr, "s3cr3t-pw") || !strings.Contains(r.stderr, "the URL does not parse: invalid port") {
			t.Errorf("request with an unparsable URL: %+v", r)
		}
		// A referer is not fetched: it may be anywhere.
		if r := e.run("curl", "tk", "--", "-sSf", "-e", other.URL+"/from", srv.URL+"/api/x"); r.code != 0 {
			t.Errorf("curl -e URL: %+v, want the request made", r)
		}
	})
	t.Run("wget", func(t *testing.T) {
		needTool(t, "wget")
		if r := e.run("wget", "tk", "--", "-q", "-O", "-", srv.URL+"/api/status/404"); r.code != 8 {
			t.Errorf("wget on 404: exit %d, want wget's 8", r.code)
		}
		// wget would forward the header on a redirect: authx stops it there.
		if r := e.run("wget", "tk", "--", "-q", "-O", "-", srv.URL+"/api/redirect?to="+other.URL+"/landing"); r.code != 8 {
			t.Errorf("wget redirect: exit %d, want 8 (redirect refused)", r.code)
		}
		if r := e.run("wget", "tk", "--", "-q", "-O", "-", other.URL+"/elsewhere"); r.code != 2 {
			t.Errorf("wget with a URL outside the profile: %+v, want exit 2", r)
		}
	})
	if n := leaked.Load(); n != 0 {
		t.Errorf("%d requests reached the other origin with the credential", n)
	}
	r := e.run("exec", "tk", "--", "sh", "-c", `test "$AUTHX_AUTHORIZATION" = "Bearer $AUTHX_TOKEN" && exit 42`)
	if r.code != 42 {
		t.Errorf("exec: exit %d, want 42; %q", r.code, r.stderr)
	}
	if r := e.run("exec", "tk", "--", "sh", "-c", "kill -TERM $$"); r.code != 128+15 {
		t.Errorf("exec killed by SIGTERM: exit %d, want 143", r.code)
	}
	if r := e.run("exec", "tk", "sh"); r.code != 2 || !strings.Contains(r.stderr, "after --") {
		t.Errorf("exec without --: %+v", r)
	}
}

// needTool skips t when name is not installed (.ci/run installs curl and
// wget).
func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not installed", name)
	}
}

// SIGINT while wget runs: the signal reaches wget, authx exits with wget's
// fate, and no wgetrc holding the credential is left.
func TestWgetInterruptRemovesItsConfig(t *testing.T) {
	if _, err := exec.LookPath("wget"); err != nil {
		t.Skip("wget not installed (.ci/run installs it)")
	}
	e, srv := apiEnv(t)
	tmp := filepath.Join(e.home, "tmp")
	os.MkdirAll(tmp, 0o700)
	e.set("TMPDIR=" + tmp)
	c := e.cmd("wget", "tk", "--", "-q", "-O", "-", srv.URL+"/api/slow")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	running := false
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !running; time.Sleep(10 * time.Millisecond) {
		for _, line := range cmdlines() {
			running = running || strings.HasPrefix(line, "wget ") && strings.Contains(line, "/api/slow")
		}
	}
	if !running {
		t.Fatal("wget never started")
	}
	if files, _ := filepath.Glob(filepath.Join(tmp, "authx-wgetrc-*")); len(files) != 0 {
		t.Fatalf("while wget runs: %v, want no wgetrc any directory names", files)
	}
	c.Process.Signal(os.Interrupt)
	err := c.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 128+2 {
		t.Errorf("authx after SIGINT: %v, want exit 130 (wget killed by SIGINT)", err)
	}
	if files, _ := filepath.Glob(filepath.Join(tmp, "authx-wgetrc-*")); len(files) != 0 {
		t.Errorf("temporary wgetrc left behind after SIGINT: %v", files)
	}
}

// A profile's env: map names more variables for exec.
func TestExecProfileEnv(t *testing.T) {
	srv := newTokenServer(t, 3600)
	e := newEnv(t).set("TK_SECRET=right")
	e.config(testkitConfig(srv.URL, "") + "    env: {API_TOKEN: token, API_AUTH: authorization, X_VIA: \"header:Authorization\"}\n")
	r := e.run("exec", "tk", "--", "sh", "-c", `test "$API_TOKEN" = "$AUTHX_TOKEN" && test "$API_AUTH" = "Bearer $API_TOKEN" && test "$X_VIA" = "$API_AUTH"`)
	if r.code != 0 {
		t.Errorf("exec with env: %+v", r)
	}
	e.config(testkitConfig(srv.URL, "") + "    env: {C: cookie}\n")
	if r := e.run("exec", "tk", "--", "true"); r.code != 2 || !strings.Contains(r.stderr, "env.C: the credential has no cookie") {
		t.Errorf("env naming what the credential lacks: %+v", r)
	}
	e.config(testkitConfig(srv.URL, "") + "    env: {1BAD: token}\n")
	if r := e.run("exec", "tk", "--", "true"); r.code != 2 || !strings.Contains(r.stderr, "profiles.tk.env.1BAD") {
		t.Errorf("bad variable name: %+v", r)
	}
}

// TestToolFlagsBeforeDashDash: a tool's flag given before "--" is one line
// saying where it goes, exit 2.
func TestToolFlagsBeforeDashDash(t *testing.T) {
	e := newEnv(t)
	for _, args := range [][]string{{"curl", "work", "-sS", "https://api.example.com/"}, {"wget", "work", "-qO-", "https://api.example.com/"}, {"exec", "work", "-x"}} {
		r := e.run(args...)
		if r.code != 2 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "put the "+args[0]+" arguments after it") {
			t.Errorf("%v: %+v; want exit 2 and one line pointing at --", args, r)
		}
	}
}
