package hmacsigner_test

// Tests of docs/examples/hmac-signer-node, the same scheme on the Node SDK
// (plugins/sdk/node): the real authx (request, proxy) with that plugin
// against this module's verifier, its canonical form against the golden
// files, and the conformance kit. They skip without node or the npm
// dependencies (npm ci in plugins/sdk/node and in the example), and fail
// then under AUTHX_REQUIRE_IDPTEST=1, as in CI, which installs them.

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

// nodePlugin returns the Node plugin's absolute path, or skips t.
func nodePlugin(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "hmac-signer-node"))
	if err != nil {
		t.Fatal(err)
	}
	missing := ""
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node is not installed (Debian package nodejs)"
	} else if _, err := os.Stat(filepath.Join(dir, "node_modules", "authx-plugin-sdk", "node_modules", "@grpc", "grpc-js")); err != nil {
		missing = "the Node example's dependencies are not installed (npm ci in plugins/sdk/node and docs/examples/hmac-signer-node)"
	}
	if missing != "" {
		if os.Getenv("AUTHX_REQUIRE_IDPTEST") == "1" {
			t.Fatal(missing)
		}
		t.Skip(missing)
	}
	return filepath.Join(dir, "authx-plugin-hmac")
}

// The Node signer's canonical form is the Go one's: the golden files, the
// README's signature, the refused escapes (node --test).
func TestNodeCanonical(t *testing.T) {
	plugin := nodePlugin(t)
	c := exec.Command("node", "--test", "test_canonical.js")
	c.Dir = filepath.Dir(plugin)
	if out, err := c.CombinedOutput(); err != nil {
		t.Errorf("node --test test_canonical.js: %v\n%s", err, out)
	}
}

// The verifier accepts what the Node plugin signs through authx request:
// two POSTs with fresh nonces and their bodies' digests; a wrong secret is
// refused (exit 4) and nothing is accepted.
func TestNodeSignedRequests(t *testing.T) {
	plugin := nodePlugin(t)
	checkSignedRequests(t, func(serverURL, secret string) *user { return newUserWith(t, serverURL, secret, plugin) })
}

// Plain curl through `authx proxy` with the Node plugin: every request
// signed (a query the canonical form reorders and re-encodes, a body),
// all by one warm plugin process.
func TestNodeProxySignsPlainCurl(t *testing.T) {
	needCurl(t)
	srv := newScopedServer(t)
	script := nodePlugin(t)
	u := newUserWith(t, srv.URL+"/api/", e2eSecret, script)
	base := u.startProxy()
	if out, code := curl(t, "-f", base+"api/orders?b=2&a=1&q=hello+world&e=%7e", "--json", `{"id":1}`); code != 0 || out != accepted {
		t.Fatalf("first POST through the proxy: exit %d %q", code, out)
	}
	pids := u.pluginPids(script)
	if len(pids) != 1 {
		t.Fatalf("Node plugin processes after the first request: %v, want one", pids)
	}
	for i := range 5 {
		if out, code := curl(t, "-f", base+"api/orders/"+strconv.Itoa(i)); code != 0 || out != accepted {
			t.Fatalf("GET %d through the proxy: exit %d %q", i, code, out)
		}
	}
	if got := u.pluginPids(script); !slices.Equal(got, pids) {
		t.Errorf("Node plugin processes after 6 requests: %v, want still %v", got, pids)
	}
	if seen := srv.accepted(); len(seen) != 6 || seen[0].uri != "/api/orders?b=2&a=1&q=hello+world&e=%7e" || string(seen[0].body) != `{"id":1}` {
		t.Fatalf("the server accepted %d requests: %+v", len(seen), seen)
	}
}

// TestNodeConformance runs authx's conformance kit on the Node plugin.
func TestNodeConformance(t *testing.T) {
	srv := newOrderServer(t)
	plugintest.Test(t, plugintest.Options{
		Path:    nodePlugin(t),
		URL:     srv.URL,
		Config:  map[string]any{"key_id": "orders-client-1", "secret": e2eSecret},
		Timeout: 30 * time.Second,
	})
}

// A secret too short is a configuration error (exit 2) naming the field,
// without its value, before any request is sent.
func TestNodeConfigDiagnostics(t *testing.T) {
	srv := newOrderServer(t)
	u := newUserWith(t, srv.URL, "too-short", nodePlugin(t))
	r := u.postOrder()
	if r.code != 2 || !strings.Contains(r.stderr, "secret") || !strings.Contains(r.stderr, "shorter than 32 bytes") || strings.Contains(r.stderr, "too-short") {
		t.Errorf("exit %d, want 2 and a diagnosis on secret without its value\nstderr: %s", r.code, r.stderr)
	}
	if len(srv.accepted()) != 0 {
		t.Error("the server accepted a request")
	}
}
