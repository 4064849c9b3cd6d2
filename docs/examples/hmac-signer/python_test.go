package hmacsigner_test

// Tests of docs/examples/hmac-signer-python, the same scheme written in
// Python: the real authx (request, proxy) with that plugin against this
// module's verifier, and the conformance kit. They skip when no python3
// with Debian's python3-grpcio and python3-protobuf is installed (and fail
// then under AUTHX_REQUIRE_IDPTEST=1, as in CI).

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core/plugintest"
)

// pythonPlugin returns the Python plugin's absolute path and a PATH under
// which its `#!/usr/bin/env python3` finds a python3 with the grpc and
// protobuf modules: the first python3 on PATH if it has them, else
// /usr/bin/python3 through a link put first (a pyenv python may lack them).
func pythonPlugin(t *testing.T) (plugin, path string) {
	t.Helper()
	plugin, err := filepath.Abs(filepath.Join("..", "hmac-signer-python", "authx-plugin-hmac"))
	if err != nil {
		t.Fatal(err)
	}
	hasModules := func(py string) bool { return exec.Command(py, "-c", "import grpc, google.protobuf").Run() == nil }
	path = os.Getenv("PATH")
	if first, err := exec.LookPath("python3"); err == nil && hasModules(first) {
		return plugin, path
	}
	if hasModules("/usr/bin/python3") {
		link := t.TempDir()
		if err := os.Symlink("/usr/bin/python3", filepath.Join(link, "python3")); err != nil {
			t.Fatal(err)
		}
		return plugin, link + string(os.PathListSeparator) + path
	}
	if os.Getenv("AUTHX_REQUIRE_IDPTEST") == "1" {
		t.Fatal("no python3 with the grpc and protobuf modules (apt-get install python3-grpcio python3-protobuf)")
	}
	t.Skip("no python3 with the grpc and protobuf modules (apt-get install python3-grpcio python3-protobuf)")
	return "", ""
}

// newPythonUser is newUser with the Python plugin serving the hmac scheme.
func newPythonUser(t *testing.T, serverURL, secret string) (*user, string) {
	plugin, path := pythonPlugin(t)
	u := newUserWith(t, serverURL, secret, plugin)
	for i, kv := range u.env {
		if strings.HasPrefix(kv, "PATH=") {
			u.env[i] = "PATH=" + path
		}
	}
	return u, plugin
}

// pluginPids lists the processes running script for u (its HOME, which
// authx passes on to plugins, tells them from another test's).
func (u *user) pluginPids(script string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, en := range entries {
		pid, err := strconv.Atoi(en.Name())
		if err != nil {
			continue
		}
		cmdline, err1 := os.ReadFile(filepath.Join("/proc", en.Name(), "cmdline"))
		environ, err2 := os.ReadFile(filepath.Join("/proc", en.Name(), "environ"))
		if err1 == nil && err2 == nil && slices.Contains(strings.Split(string(cmdline), "\x00"), script) &&
			slices.Contains(strings.Split(string(environ), "\x00"), "HOME="+u.home) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// The verifier accepts what the Python plugin signs through authx request:
// two POSTs with fresh nonces and their bodies' digests; a wrong secret is
// refused (exit 4) and nothing is accepted.
func TestPythonSignedRequests(t *testing.T) {
	checkSignedRequests(t, func(serverURL, secret string) *user { u, _ := newPythonUser(t, serverURL, secret); return u })
}

// Plain curl through `authx proxy` with the Python plugin: every request
// signed (a query the canonical form reorders and re-encodes, a body),
// all by one warm plugin process, none spawned per request.
func TestPythonProxySignsPlainCurl(t *testing.T) {
	needCurl(t)
	srv := newScopedServer(t)
	u, script := newPythonUser(t, srv.URL+"/api/", e2eSecret)
	base := u.startProxy()
	if out, code := curl(t, "-f", base+"api/orders?b=2&a=1&q=hello+world&e=%7e", "--json", `{"id":1}`); code != 0 || out != accepted {
		t.Fatalf("first POST through the proxy: exit %d %q", code, out)
	}
	pids := u.pluginPids(script)
	if len(pids) != 1 {
		t.Fatalf("Python plugin processes after the first request: %v, want one", pids)
	}
	for i := range 5 {
		if out, code := curl(t, "-f", base+"api/orders/"+strconv.Itoa(i)); code != 0 || out != accepted {
			t.Fatalf("GET %d through the proxy: exit %d %q", i, code, out)
		}
	}
	if got := u.pluginPids(script); !slices.Equal(got, pids) {
		t.Errorf("Python plugin processes after 6 requests: %v, want still %v", got, pids)
	}
	seen := srv.accepted()
	if len(seen) != 6 || seen[0].uri != "/api/orders?b=2&a=1&q=hello+world&e=%7e" || string(seen[0].body) != `{"id":1}` {
		t.Fatalf("the server accepted %d requests: %+v", len(seen), seen)
	}
	if out, code := curl(t, "-f", base+"public/x"); code != 0 || out != "public\n" || srv.publicHeaders()[0].Get("Authorization") != "" {
		t.Errorf("outside the scope: exit %d %q, headers %v", code, out, srv.publicHeaders())
	}
}

// TestPythonConformance runs authx's conformance kit on the Python plugin.
func TestPythonConformance(t *testing.T) {
	plugin, path := pythonPlugin(t)
	t.Setenv("PATH", path)
	srv := newOrderServer(t)
	plugintest.Test(t, plugintest.Options{
		Path:    plugin,
		URL:     srv.URL,
		Config:  map[string]any{"key_id": "orders-client-1", "secret": e2eSecret},
		Timeout: 30 * time.Second,
	})
}

// A secret too short is a configuration error (exit 2) naming the field,
// without its value, before any request is sent.
func TestPythonConfigDiagnostics(t *testing.T) {
	srv := newOrderServer(t)
	u, _ := newPythonUser(t, srv.URL, "too-short")
	r := u.postOrder()
	if r.code != 2 || !strings.Contains(r.stderr, "secret") || !strings.Contains(r.stderr, "shorter than 32 bytes") || strings.Contains(r.stderr, "too-short") {
		t.Errorf("exit %d, want 2 and a diagnosis on secret without its value\nstderr: %s", r.code, r.stderr)
	}
	if len(srv.accepted()) != 0 {
		t.Error("the server accepted a request")
	}
}
