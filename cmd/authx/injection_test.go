package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/authx/authx/plugins/jenkins/jenkinstest"
)

// Issue 10, point 1: values from a server or a plugin never reach a header,
// a curl config or a wgetrc unchecked.

// runIn runs the executable bin in the environment with dir as its working
// directory, and reports its peak memory (KiB) too.
func (e *env) runIn(dir, bin string, args ...string) (result, int64) {
	e.t.Helper()
	c := exec.Command(bin, args...)
	c.Env, c.Dir = e.vars, dir
	r := runCmd(e.t, c)
	var rss int64
	if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss
	}
	return r, rss
}

// entries lists the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range des {
		names = append(names, d.Name())
	}
	return names
}

// refused checks a refusal: exit code, nothing on stdout, one line on
// stderr that quotes none of the bad values.
func refused(t *testing.T, what string, r result, code int, bad ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("%s: exit %d, want %d; stderr %q", what, r.code, code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("%s: printed %d bytes: %.200q", what, len(r.stdout), r.stdout)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "authx: ") {
		t.Errorf("%s: stderr %q, want one line", what, r.stderr)
	}
	for _, b := range bad {
		if strings.Contains(r.stderr, b) {
			t.Errorf("%s: stderr quotes the bad value %q: %q", what, b, r.stderr)
		}
	}
}

// Must show 2: a hostile crumb answer makes authx wget, authx curl and
// authx header --format wget exit 16 (a bad server answer), write no file,
// and send no injected header.
func TestHostileCrumbAnswer(t *testing.T) {
	tests := []struct {
		name         string
		field, crumb string
		injected     []string // header names that must never reach the server
	}{
		{"newlines in crumbRequestField", "X-A: x\noutput_document = ~/pwned\nheader = X-B", "c1", []string{"X-A", "X-B"}},
		{"CR LF in the crumb", "", "c1\r\nX-Evil: 1", []string{"X-Evil"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startJenkins(t, jenkinstest.Options{Jobs: ciJobs, CrumbField: tt.field, CrumbValue: tt.crumb})
			e := jenkinsEnv(t, srv.URL, "user: admin\npassword: env:JENKINS_PW", "JENKINS_PW=admin-pw")
			cwd := t.TempDir()
			runs := map[string][]string{
				"header --format wget": {"header", "ci", "--format", "wget"},
				"header":               {"header", "ci"},
				"header --format curl": {"header", "ci", "--format", "curl"},
			}
			if _, err := exec.LookPath("wget"); err == nil {
				runs["wget"] = []string{"wget", "ci", "--", "-q", srv.URL + "/whoAmI/api/json"}
			}
			if _, err := exec.LookPath("curl"); err == nil {
				runs["curl"] = []string{"curl", "ci", "--", "-sS", "-o", "/dev/null", srv.URL + "/whoAmI/api/json"}
			}
			for what, args := range runs {
				r, _ := e.runIn(cwd, filepath.Join(binDir, "authx"), args...)
				refused(t, what, r, 16, "output_document", "X-Evil")
			}
			if names := entries(t, cwd); len(names) != 0 {
				t.Errorf("files written in the working directory: %v", names)
			}
			if _, err := os.Stat(filepath.Join(e.home, "pwned")); err == nil {
				t.Errorf("~/pwned written")
			}
			for _, h := range tt.injected {
				if n := srv.HeaderRequests(h); n != 0 {
					t.Errorf("%d requests carried the injected header %s", n, h)
				}
			}
		})
	}
}

var hostileOnce sync.Once

// hostilePlugin builds testdata/hostile as authx-plugin-hostile in a
// directory of its own and returns it.
func hostilePlugin(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(binDir, "hostile")
	hostileOnce.Do(func() {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "authx-plugin-hostile"), "./testdata/hostile").CombinedOutput(); err != nil {
			t.Fatalf("building the hostile plugin: %v\n%s", err, out)
		}
	})
	return dir
}

// headerServer is an API that accepts anything and counts the requests
// carrying each header name.
type headerServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string]int
	n    atomic.Int64
}

func newHeaderServer(t *testing.T) *headerServer {
	s := &headerServer{seen: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.n.Add(1)
		s.mu.Lock()
		for name := range r.Header {
			s.seen[name]++
		}
		s.mu.Unlock()
		io.WriteString(w, "ok\n")
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *headerServer) saw(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[http.CanonicalHeaderKey(name)]
}

// Must show 2, the plugin half: a plugin answering CR/LF/NUL in a token, a
// header or a cookie name is refused (exit 6) by every command that hands
// the credential on, before anything is printed, written or run.
func TestHostilePluginCredential(t *testing.T) {
	plugins := hostilePlugin(t)
	api := newHeaderServer(t)
	tests := []struct {
		name   string
		config string // the profile's config, YAML double-quoted escapes
		bad    []string
	}{
		{"CR LF in a header value", `{token: abc, header_name: Authorization, header_value: "Bearer abc\r\nX-Evil: 1"}`, []string{"X-Evil"}},
		{"CR LF in the token", `{token: "abc\r\nX-Evil: 1", header_name: Authorization, header_value: Bearer abc}`, []string{"X-Evil"}},
		{"NUL in the token", `{token: "ab\0c", header_name: Authorization, header_value: Bearer abc}`, []string{"ab\x00c"}},
		{"newline in a header name", `{token: abc, header_name: "X-A: x\nheader = X-B", header_value: v}`, []string{"X-B"}},
		{"cookie named a;b", `{token: abc, cookie_name: "a;b", cookie_value: v}`, []string{"a;b"}},
		{"CR LF in a cookie value", `{token: abc, cookie_name: s, cookie_value: "v\r\nX-Evil: 1"}`, []string{"X-Evil"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t).set("AUTHX_PLUGIN_PATH=" + plugins)
			e.config(fmt.Sprintf("profiles:\n  h:\n    scheme: hostile\n    match: %s/\n    config: %s\n", api.URL, tt.config))
			cwd := t.TempDir()
			runs := [][]string{{"token", "h"}, {"exec", "h", "--", "sh", "-c", "echo ran"}}
			for _, f := range []string{"header", "json", "env", "curl", "wget"} {
				runs = append(runs, []string{"header", "h", "--format", f})
			}
			if _, err := exec.LookPath("wget"); err == nil {
				runs = append(runs, []string{"wget", "h", "--", "-q", api.URL + "/x"})
			}
			if _, err := exec.LookPath("curl"); err == nil {
				runs = append(runs, []string{"curl", "h", "--", "-sS", api.URL + "/x"})
			}
			before := api.n.Load()
			for _, args := range runs {
				r, _ := e.runIn(cwd, filepath.Join(binDir, "authx"), args...)
				refused(t, strings.Join(args, " "), r, 6, tt.bad...)
			}
			if n := api.n.Load() - before; n != 0 {
				t.Errorf("%d requests reached the API", n)
			}
			if api.saw("X-Evil") != 0 || api.saw("X-B") != 0 {
				t.Errorf("an injected header reached the API")
			}
			if names := entries(t, cwd); len(names) != 0 {
				t.Errorf("files written in the working directory: %v", names)
			}
			if files, _ := filepath.Glob(filepath.Join(e.home, "cache", "authx", "*.json")); len(files) != 0 {
				t.Errorf("the refused credential was cached: %v", files)
			}
		})
	}
	// Apply's headers (a per-request scheme) are checked as well.
	t.Run("CR LF from Apply", func(t *testing.T) {
		e := newEnv(t).set("AUTHX_PLUGIN_PATH=" + plugins)
		e.config(fmt.Sprintf("profiles:\n  h:\n    scheme: hostile\n    match: %s/\n    config: {per_request: true, header_name: X-Sig, header_value: \"s\\r\\nX-Evil: 1\"}\n", api.URL))
		r := e.run("request", "h", "GET", api.URL+"/x")
		refused(t, "request", r, 6, "X-Evil")
		if api.saw("X-Evil") != 0 || api.saw("X-Sig") != 0 {
			t.Errorf("the per-request header reached the API")
		}
	})
}

// Issue 10, point 14: a token or state over the size limit is refused with
// one line, and authx's memory stays bounded (a 100 MB token used 1.6 GB).
func TestOversizedCredential(t *testing.T) {
	plugins := hostilePlugin(t)
	tests := []struct {
		name, config, want string
	}{
		{"100 MB token", "{token_bytes: 100000000}", "plugin login answered more than 4 MiB"},
		{"2 MiB token", "{token_bytes: 2097152}", "token is larger than"},
		{"2 MiB state", "{token: abc, state_bytes: 2097152}", "credential is larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t).set("AUTHX_PLUGIN_PATH=" + plugins)
			e.config("profiles:\n  h:\n    scheme: hostile\n    config: " + tt.config + "\n")
			r, rss := e.runIn(t.TempDir(), filepath.Join(binDir, "authx"), "token", "h")
			refused(t, "token", r, 6)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q, want %q", r.stderr, tt.want)
			}
			// wait4 reports the peak of authx and of its plugin, which
			// holds the 100 MB token twice (string and wire form): about
			// 200 MiB. authx reading the answer went over 600 MiB.
			if rss > 400<<10 {
				t.Errorf("peak memory of authx or its plugin: %d MiB", rss>>10)
			}
		})
	}
}

// A hand-edited cache entry holding CR/LF is damaged: neither the front
// nor the full CLI prints it; they log in again as for any damaged entry.
func TestInjectedCacheEntryIsNotServed(t *testing.T) {
	srv := newTokenServer(t, 3600)
	e := newEnv(t).set("TK_SECRET=right")
	e.config(testkitConfig(srv.URL, ""))
	if r := e.run("token", "tk"); r.code != 0 || r.stdout != "login-1-\n" {
		t.Fatalf("first login: %+v", r)
	}
	files, _ := filepath.Glob(filepath.Join(e.home, "cache", "authx", "*.json"))
	if len(files) != 1 {
		t.Fatalf("cache entries: %v", files)
	}
	clean, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, bin := range []string{"authx", "authx-cli"} {
		for _, args := range [][]string{{"token", "tk"}, {"header", "tk"}, {"header", "tk", "--format", "curl"}, {"header", "tk", "--format", "wget"}} {
			edited := strings.ReplaceAll(string(clean), `login-1-"`, `login-1-\r\nX-Evil: 1"`)
			if edited == string(clean) {
				t.Fatalf("the entry holds no token to edit: %s", clean)
			}
			if err := os.WriteFile(files[0], []byte(edited), 0o600); err != nil {
				t.Fatal(err)
			}
			r := e.runBin(filepath.Join(binDir, bin), args...)
			if r.code != 0 || strings.Contains(r.stdout, "X-Evil") || !strings.Contains(r.stdout, "login-") {
				t.Errorf("%s %v served the edited entry: %+v", bin, args, r)
			}
		}
	}
}

// Issue 10, point 14: a plugin call that outlives call_timeout says which
// call and which setting, not gRPC's words.
func TestCallTimeoutMessage(t *testing.T) {
	srv := newTokenServer(t, 3600)
	e := newEnv(t).set("TK_SECRET=right")
	e.config("call_timeout: 1s\n" + testkitConfig(srv.URL, "      hang: 5s\n"))
	start := time.Now()
	r := e.run("token", "tk")
	refused(t, "token", r, 15)
	if want := "plugin call login timed out after 1s (call_timeout"; !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "RST_STREAM") {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("took %v", d)
	}
	noOrphans(t)
}
