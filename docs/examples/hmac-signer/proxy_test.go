package hmacsigner_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	hmacsigner "example.com/authx-hmac-signer"
)

// scopedServer verifies signatures under /api/ (the profile's url) and,
// under /public/, records what arrives without asking for any.
type scopedServer struct {
	*orderServer
	mu     sync.Mutex
	public []http.Header
}

func newScopedServer(t *testing.T) *scopedServer {
	s := &scopedServer{orderServer: &orderServer{}}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id, _ := hmacsigner.KeyID(r.Context())
		s.orderServer.mu.Lock()
		s.seen = append(s.seen, received{r.Method, r.RequestURI, r.Header.Clone(), body, id})
		s.orderServer.mu.Unlock()
		fmt.Fprintf(w, `{"accepted":true,"key_id":%q}`+"\n", id)
	})
	mux := http.NewServeMux()
	mux.Handle("/api/", hmacsigner.Verify(map[string][]byte{"orders-client-1": []byte(e2eSecret)}, api))
	mux.HandleFunc("/public/", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.public = append(s.public, r.Header.Clone())
		s.mu.Unlock()
		io.WriteString(w, "public\n")
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *scopedServer) publicHeaders() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.public...)
}

// startProxy runs `authx proxy P args...` and returns the first line it
// prints (the base URL, or the socket's path); the proxy is stopped with
// SIGTERM at the end of the test, and must exit 0.
func (u *user) startProxy(args ...string) string {
	u.t.Helper()
	c := exec.Command(filepath.Join(binDir, "authx"), append([]string{"proxy", "P"}, args...)...)
	c.Env = u.env
	out, err := c.StdoutPipe()
	if err != nil {
		u.t.Fatal(err)
	}
	var stderr strings.Builder
	c.Stderr = &stderr
	if err := c.Start(); err != nil {
		u.t.Fatal(err)
	}
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(l)
		io.Copy(io.Discard, out)
	}()
	var base string
	select {
	case base = <-line:
	case <-time.After(20 * time.Second):
		c.Process.Kill()
		u.t.Fatalf("authx proxy printed nothing: %s", stderr.String())
	}
	u.t.Cleanup(func() {
		c.Process.Signal(syscall.SIGTERM)
		if err := c.Wait(); err != nil {
			u.t.Errorf("authx proxy after SIGTERM: %v; stderr: %s", err, stderr.String())
		}
		if strings.Contains(stderr.String(), e2eSecret) {
			u.t.Error("the proxy's log leaks the secret")
		}
	})
	if base == "" {
		u.t.Fatalf("authx proxy printed no base URL: %s", stderr.String())
	}
	return base
}

func curl(t *testing.T, args ...string) (string, int) {
	t.Helper()
	c := exec.Command("curl", append([]string{"-sS"}, args...)...)
	out, err := c.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func needCurl(t *testing.T, tools ...string) {
	for _, tool := range append([]string{"curl"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
}

const accepted = `{"accepted":true,"key_id":"orders-client-1"}` + "\n"

// Must show 2: plain curl through `authx proxy` gets signed requests past
// the verifier (fresh nonces, bodies signed), on loopback and on a Unix
// socket; a request outside the profile's scope reaches the server with
// no credential.
func TestProxySignsPlainCurl(t *testing.T) {
	needCurl(t)
	srv := newScopedServer(t)
	u := newUser(t, srv.URL+"/api/", e2eSecret)
	base := u.startProxy()
	if !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/") {
		t.Fatalf("base URL %q", base)
	}
	for i := range 2 {
		if out, code := curl(t, "-f", base+"api/orders?b=2&a=1", "--json", `{"id":1}`); code != 0 || out != accepted {
			t.Fatalf("POST %d through the proxy: exit %d %q", i+1, code, out)
		}
	}
	if out, code := curl(t, "-f", base+"api/orders/1"); code != 0 || out != accepted {
		t.Fatalf("GET through the proxy: exit %d %q", code, out)
	}
	seen := srv.accepted()
	if len(seen) != 3 || seen[0].header.Get("X-Authx-Nonce") == seen[1].header.Get("X-Authx-Nonce") || string(seen[0].body) != `{"id":1}` {
		t.Fatalf("the server accepted %d requests: %+v", len(seen), seen)
	}
	// Outside the profile's url: forwarded, with no credential, and not
	// even the client's own Authorization.
	if out, code := curl(t, "-f", "-H", "Authorization: Bearer client-own", base+"public/x"); code != 0 || out != "public\n" {
		t.Fatalf("outside the scope: exit %d %q", code, out)
	}
	pub := srv.publicHeaders()
	if len(pub) != 1 || pub[0].Get("Authorization") != "" || pub[0].Get("X-Authx-Nonce") != "" || pub[0].Get("X-Content-Sha256") != "" {
		t.Errorf("outside the scope the server saw %v", pub)
	}

	// The same through a Unix socket in a private directory.
	sock := filepath.Join(t.TempDir(), "run", "p.sock")
	if got := u.startProxy("--listen", "unix:"+sock); got != sock {
		t.Fatalf("unix: printed %q, want %q", got, sock)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v %v", fi, err)
	}
	if fi, err := os.Stat(filepath.Dir(sock)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("socket directory: %v %v", fi, err)
	}
	if out, code := curl(t, "-f", "--unix-socket", sock, "http://authx/api/orders", "--json", `{"id":2}`); code != 0 || out != accepted {
		t.Fatalf("through the socket: exit %d %q", code, out)
	}
}

// authx curl, wget and exec with the signing profile go through an
// ephemeral proxy instead of refusing.
func TestWrappersSignThroughProxy(t *testing.T) {
	needCurl(t, "wget")
	srv := newScopedServer(t)
	u := newUser(t, srv.URL+"/api/", e2eSecret)
	tests := []struct {
		name string
		args []string
	}{
		{"curl POST", []string{"curl", "P", "--", "-sSf", srv.URL + "/api/orders", "--json", `{"id":3}`}},
		{"curl GET --url", []string{"curl", "P", "--", "-sSf", "--url", srv.URL + "/api/orders/3"}},
		{"wget", []string{"wget", "P", "--", "-qO-", srv.URL + "/api/orders/3"}},
		{"exec", []string{"exec", "P", "--", "sh", "-c", `curl -sSf "${AUTHX_PROXY_URL}api/orders/3"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.accepted())
			r := u.authx(tt.args...)
			if r.code != 0 || r.stdout != accepted || len(srv.accepted()) != before+1 {
				t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
		})
	}
	// The tool's exit code is authx's: a refused request fails curl -f.
	if r := u.authx("curl", "P", "--", "-sf", srv.URL+"/api/../public/x", "-o", "/dev/null"); r.code == 0 {
		t.Errorf("a URL outside the scope: exit 0, want a refusal")
	}
	// The signing scheme's token and headers are still not printable.
	for _, args := range [][]string{{"token", "P"}, {"header", "P"}} {
		if r := u.authx(args...); r.code != 10 {
			t.Errorf("authx %s = %d, want 10", strings.Join(args, " "), r.code)
		}
	}
}
