package hmacsigner_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	hmacsigner "example.com/authx-hmac-signer"
)

// binDir holds authx and authx-plugin-hmac, built once for the whole test
// binary: the end-to-end tests run the real CLI, which starts the real
// plugin process.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "authx-hmac-test-bin-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	// authx builds from this module thanks to the replace directive, and its
	// dependencies are pinned here by the tool directive of go.mod.
	build := exec.Command("go", "build", "-o", dir+string(os.PathSeparator),
		"github.com/authx/authx/cmd/authx", "./cmd/authx-plugin-hmac")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building test binaries:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const e2eSecret = "e2e-secret-e2e-secret-e2e-secret-0123456789"

// received is a request the verifier accepted, as the server saw it.
type received struct {
	method, uri string
	header      http.Header
	body        []byte
	keyID       string
}

// orderServer is an API on 127.0.0.1 behind the verifier, recording the
// requests it accepted.
type orderServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []received
}

func newOrderServer(t *testing.T, opts ...hmacsigner.Option) *orderServer {
	s := &orderServer{}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id, _ := hmacsigner.KeyID(r.Context())
		s.mu.Lock()
		s.seen = append(s.seen, received{r.Method, r.RequestURI, r.Header.Clone(), body, id})
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"accepted":true,"key_id":%q}`+"\n", id)
	})
	s.Server = httptest.NewServer(hmacsigner.Verify(map[string][]byte{"orders-client-1": []byte(e2eSecret)}, api, opts...))
	t.Cleanup(s.Close)
	return s
}

func (s *orderServer) accepted() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.seen...)
}

// user is an isolated authx user: own config, cache and data directories,
// and a profile P for the server, its plugin pinned by sha256.
type user struct {
	t    *testing.T
	home string
	env  []string
}

func newUser(t *testing.T, serverURL, secret string) *user {
	return newUserWith(t, serverURL, secret, filepath.Join(binDir, "authx-plugin-hmac"))
}

// newUserWith is newUser with the hmac scheme served by the plugin at
// path.
func newUserWith(t *testing.T, serverURL, secret, plugin string) *user {
	home := t.TempDir()
	u := &user{t: t, home: home, env: []string{
		"HOME=" + home,
		"PATH=" + os.Getenv("PATH"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
		"XDG_DATA_HOME=" + filepath.Join(home, "data"),
		"AUTHX_NO_INPUT=1",
		"HMAC_SECRET=" + secret,
	}}
	config := fmt.Sprintf(`profiles:
  P:
    scheme: hmac
    url: %s
    config:
      key_id: orders-client-1
      secret: env:HMAC_SECRET
plugins:
  hmac:
    path: %s
    sha256: %s
`, serverURL, plugin, fileSHA256(t, plugin))
	path := filepath.Join(home, "config", "authx", "config.yaml")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return u
}

func fileSHA256(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

type result struct {
	stdout, stderr string
	code           int
}

func (u *user) authx(args ...string) result {
	u.t.Helper()
	c := exec.Command(filepath.Join(binDir, "authx"), args...)
	c.Env = u.env
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		u.t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// postOrder is the command of the brief.
func (u *user) postOrder() result {
	return u.authx("request", "P", "POST", "/orders", "-d", `{"id":1}`, "--json", "--fail", "--log-level", "debug")
}

func TestE2ESignedRequests(t *testing.T) {
	srv := newOrderServer(t)
	u := newUser(t, srv.URL, e2eSecret)
	for i := range 2 {
		r := u.postOrder()
		if r.code != 0 || r.stdout != `{"accepted":true,"key_id":"orders-client-1"}`+"\n" {
			t.Fatalf("run %d: exit %d\nstdout: %s\nstderr: %s", i+1, r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stderr, e2eSecret) {
			t.Errorf("run %d: the debug log leaks the secret", i+1)
		}
	}
	seen := srv.accepted()
	if len(seen) != 2 {
		t.Fatalf("the server accepted %d requests, want 2", len(seen))
	}
	for _, s := range seen {
		if s.method != "POST" || s.uri != "/orders" || string(s.body) != `{"id":1}` || s.keyID != "orders-client-1" ||
			s.header.Get("Content-Type") != "application/json" || s.header.Get("X-Content-SHA256") != hexSHA256(`{"id":1}`) {
			t.Errorf("the server saw %s %s %q (key id %q, headers %v)", s.method, s.uri, s.body, s.keyID, s.header)
		}
	}
	if n0, n1 := seen[0].header.Get("X-Authx-Nonce"), seen[1].header.Get("X-Authx-Nonce"); n0 == n1 || len(n0) != 32 {
		t.Errorf("nonces %q and %q, want two fresh ones", n0, n1)
	}
	// Headers printed now would be unsigned: authx refuses (exit 10, "not
	// supported") and points to authx request. (The wrappers go through a
	// signing proxy instead: proxy_test.go.)
	for _, args := range [][]string{{"token", "P"}, {"header", "P"}} {
		if r := u.authx(args...); r.code != 10 || r.stdout != "" || !strings.Contains(r.stderr, "signs each request; use 'authx request'") {
			t.Errorf("authx %s = %d %q %q, want exit 10 pointing to authx request", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	}
}

// resend sends a copy of an accepted request straight to the server, as an
// attacker who captured it would, with body in place of its own.
func resend(t *testing.T, srv *orderServer, r received, body []byte) (int, hmacsigner.Rejection) {
	t.Helper()
	req, err := http.NewRequest(r.method, srv.URL+r.uri, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = r.header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rej hmacsigner.Rejection
	json.NewDecoder(resp.Body).Decode(&rej)
	if resp.StatusCode == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "AUTHX-HMAC-SHA256") {
		t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
	}
	return resp.StatusCode, rej
}

func TestE2EReplayAndTamperingRefused(t *testing.T) {
	srv := newOrderServer(t)
	u := newUser(t, srv.URL, e2eSecret)
	if r := u.postOrder(); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	captured := srv.accepted()[0]

	if code, rej := resend(t, srv, captured, captured.body); code != 401 || rej.Reason != hmacsigner.ReasonReplay {
		t.Errorf("replay: %d %q, want 401 replay", code, rej.Reason)
	}
	if code, rej := resend(t, srv, captured, []byte(`{"id":2}`)); code != 401 || rej.Reason != hmacsigner.ReasonBodyMismatch {
		t.Errorf("altered body: %d %q, want 401 body_mismatch", code, rej.Reason)
	}
	forged := captured
	forged.header = captured.header.Clone()
	forged.header.Set("X-Content-SHA256", hexSHA256(`{"id":2}`))
	if code, rej := resend(t, srv, forged, []byte(`{"id":2}`)); code != 401 || rej.Reason != hmacsigner.ReasonBadSignature {
		t.Errorf("altered body and digest: %d %q, want 401 bad_signature", code, rej.Reason)
	}
	if n := len(srv.accepted()); n != 1 {
		t.Errorf("the server accepted %d requests, want only the genuine one", n)
	}
}

// The plugin's diagnoses reach the user through authx: exit code 4
// (credentials rejected) and one line on stderr.
func TestE2EDiagnoses(t *testing.T) {
	tests := []struct {
		name   string
		opts   []hmacsigner.Option
		secret string
		want   string
	}{
		{"wrong secret", nil, strings.Repeat("w", 32), `the secret for key id "orders-client-1" does not match the server's`},
		{"server clock ahead", []hmacsigner.Option{hmacsigner.WithClock(func() time.Time { return time.Now().Add(10 * time.Minute) })},
			e2eSecret, "behind the server's"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newOrderServer(t, tt.opts...)
			r := newUser(t, srv.URL, tt.secret).postOrder()
			if r.code != 4 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, want 4 and a diagnosis saying %q\nstderr: %s", r.code, tt.want, r.stderr)
			}
			if !strings.Contains(r.stdout, `"reason"`) {
				t.Errorf("stdout %q, want the server's refusal", r.stdout)
			}
			if len(srv.accepted()) != 0 {
				t.Error("the server accepted the request")
			}
		})
	}
}

// A secret too short is a configuration error (exit 2) naming the field,
// before any request is sent.
func TestE2EConfigDiagnostics(t *testing.T) {
	srv := newOrderServer(t)
	r := newUser(t, srv.URL, "too-short").postOrder()
	if r.code != 2 || !strings.Contains(r.stderr, "secret") || !strings.Contains(r.stderr, "shorter than 32 bytes") || strings.Contains(r.stderr, "too-short") {
		t.Errorf("exit %d, want 2 and a diagnosis on secret without its value\nstderr: %s", r.code, r.stderr)
	}
}

// checkSignedRequests: the verifier accepts what a plugin signs through
// authx request (newUser makes a user of it for a server and a secret):
// two POSTs with fresh nonces and their bodies' digests, no secret in the
// debug log; a wrong secret is refused (exit 4) and nothing is accepted.
func checkSignedRequests(t *testing.T, newUser func(serverURL, secret string) *user) {
	t.Helper()
	srv := newOrderServer(t)
	u := newUser(srv.URL, e2eSecret)
	for i := range 2 {
		r := u.postOrder()
		if r.code != 0 || r.stdout != accepted {
			t.Fatalf("run %d: exit %d\nstdout: %s\nstderr: %s", i+1, r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stderr, e2eSecret) {
			t.Errorf("run %d: the debug log leaks the secret", i+1)
		}
	}
	seen := srv.accepted()
	if len(seen) != 2 {
		t.Fatalf("the server accepted %d requests, want 2", len(seen))
	}
	for _, s := range seen {
		if s.method != "POST" || s.uri != "/orders" || string(s.body) != `{"id":1}` || s.keyID != "orders-client-1" ||
			s.header.Get("X-Content-SHA256") != hexSHA256(`{"id":1}`) {
			t.Errorf("the server saw %s %s %q (key id %q, headers %v)", s.method, s.uri, s.body, s.keyID, s.header)
		}
	}
	if n0, n1 := seen[0].header.Get("X-Authx-Nonce"), seen[1].header.Get("X-Authx-Nonce"); n0 == n1 || len(n0) != 32 {
		t.Errorf("nonces %q and %q, want two fresh ones", n0, n1)
	}

	wrong := newUser(srv.URL, strings.Repeat("w", 32))
	if r := wrong.postOrder(); r.code != 4 || !strings.Contains(r.stdout, `"reason":"bad_signature"`) {
		t.Errorf("wrong secret: exit %d, want 4 and the server's bad_signature\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if n := len(srv.accepted()); n != 2 {
		t.Errorf("the server accepted %d requests, want still 2", n)
	}
}
