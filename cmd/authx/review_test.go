package main

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/authx/authx/core"
)

// A URL argument curl or wget fetches although it does not start with
// http:// or https:// (no scheme: the tool guesses http://; "http:/host",
// which both tools read as http://host) is one authx cannot check against
// the scope: the front and authx-cli refuse the command before the tool
// runs, and the host it names never sees the credential.
func TestWrapperRefusesURLWithoutScheme(t *testing.T) {
	for _, tool := range []string{"curl", "wget"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	var mu sync.Mutex
	var leaked []string
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if a := r.Header.Get("Authorization"); a != "" {
			leaked = append(leaked, r.URL.Path+": "+a)
		}
	}))
	defer evil.Close()
	hostPort := strings.TrimPrefix(evil.URL, "http://")
	e := newEnv(t).set("TOK=scheme-less-secret")
	e.config("profiles:\n  api:\n    scheme: jwt\n    match: https://api.example.com/v1/\n    config: {mode: static, token: env:TOK}\n")
	if r := e.run("token", "api"); r.code != 0 {
		t.Fatalf("token: %+v", r)
	}
	tests := [][]string{
		{"curl", "api", "--", "-s", hostPort + "/a"},
		{"curl", "api", "--", "-s", "http:/" + hostPort + "/b"},
		{"curl", "api", "--", "-s", "--url", hostPort + "/c"},
		{"curl", "api", "--", "-s", "https://api.example.com/v1/x", hostPort + "/d"},
		{"wget", "api", "--", "-qO-", hostPort + "/e"},
		{"wget", "api", "--", "-qO-", "http:/" + hostPort + "/f"},
	}
	for _, args := range tests {
		for _, bin := range []string{"authx", "authx-cli"} {
			r := e.runBin(filepath.Join(binDir, bin), args...)
			if r.code != core.KindConfig.ExitCode() || !strings.Contains(r.stderr, "scheme") {
				t.Errorf("%s %s: %+v, want a config error naming the scheme", bin, strings.Join(args, " "), r)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(leaked) > 0 {
		t.Errorf("the credential reached a host outside the scope: %q", leaked)
	}
}
