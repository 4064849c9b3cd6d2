package main

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Issue 12, points 1 and 3, end to end: five sequential `authx request`
// processes sign with successive states of the same cached credential (a
// Digest-like nonce count kept by core/session), and a request refused
// again after its retry ends with the plugin's diagnosis, exit 4.
func TestRequestSignsWithStoredState(t *testing.T) {
	pluginDir := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", pluginDir, "../../core/session/testdata/authx-plugin-counter").CombinedOutput(); err != nil {
		t.Fatalf("building the counter plugin: %v\n%s", err, out)
	}
	var mu sync.Mutex
	var seen []string
	counts := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(seen) }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Token") == "" { // the login's probe
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		seen = append(seen, r.Header.Get("X-Count"))
		mu.Unlock()
		if r.URL.Path == "/deny" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	e := newEnv(t).set("AUTHX_PLUGIN_PATH=" + pluginDir)
	e.config("profiles:\n  ct:\n    scheme: counter\n    url: " + srv.URL + "/\n")
	for i := range 5 {
		if r := e.run("request", "ct", "GET", srv.URL+"/x"); r.code != 0 || r.stdout != "ok" {
			t.Fatalf("run %d: exit %d, stdout %q, stderr %q", i+1, r.code, r.stdout, r.stderr)
		}
	}
	if want := []string{"1", "2", "3", "4", "5"}; !slices.Equal(counts(), want) {
		t.Errorf("nonce counts %v, want %v", counts(), want)
	}

	r := e.run("request", "ct", "GET", srv.URL+"/deny")
	if r.code != 4 || !strings.Contains(r.stderr, `counter: refused again with token "***" (HTTP 401)`) || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("refused twice: exit %d, stderr %q; want exit 4 and the plugin's diagnosis", r.code, r.stderr)
	}
	if got := counts()[5:]; !slices.Equal(got, []string{"6", "1"}) { // the retry credential has its own state
		t.Errorf("counts of the refused request and its retry %v, want [6 1]", got)
	}
}

// Issue 12, point 2, end to end: the login's probe of a scheme that
// declares LoginChallenge goes out with the profile's HTTP settings, here
// the proxy from the environment (a name under .test resolves nowhere
// else), and the plugin logs in with the server's 401.
func TestLoginProbeUsesTheProxy(t *testing.T) {
	pluginDir := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", pluginDir, "../../core/session/testdata/authx-plugin-counter").CombinedOutput(); err != nil {
		t.Fatalf("building the counter plugin: %v\n%s", err, out)
	}
	var mu sync.Mutex
	var seen []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.String()+" "+r.Header.Get("X-Token"))
		mu.Unlock()
		if r.Header.Get("X-Token") == "" {
			w.Header().Set("WWW-Authenticate", `Digest realm="proxied", nonce="n"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer proxy.Close()
	e := newEnv(t).set("AUTHX_PLUGIN_PATH="+pluginDir, "HTTP_PROXY="+proxy.URL)
	e.config("profiles:\n  ct:\n    scheme: counter\n    url: http://api.example.test/\n")
	if r := e.run("request", "ct", "GET", "http://api.example.test/x"); r.code != 0 || r.stdout != "ok" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	want := []string{"GET http://api.example.test/ ", "GET http://api.example.test/x challenged-401"}
	if !slices.Equal(seen, want) {
		t.Errorf("the proxy saw %q, want %q", seen, want)
	}
}
