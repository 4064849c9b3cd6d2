package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authx/authx/core/demoserver"
	"github.com/authx/authx/plugins/jwt/jwttest"
)

// lockedBuffer collects a process's stderr while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// proxyProc is a running `authx proxy`.
type proxyProc struct {
	c      *exec.Cmd
	base   string // the line it printed
	stderr *lockedBuffer
	exited chan error
}

// startProxy runs authx proxy args... in e and waits for the line it
// prints; the process is stopped with SIGTERM at the end of the test.
func startProxy(t *testing.T, e *env, args ...string) *proxyProc {
	t.Helper()
	p := &proxyProc{c: e.cmd(append([]string{"proxy"}, args...)...), stderr: &lockedBuffer{}, exited: make(chan error, 1)}
	out, err := p.c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.c.Stderr = p.stderr
	if err := p.c.Start(); err != nil {
		t.Fatal(err)
	}
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(l)
		io.Copy(io.Discard, out)
		p.exited <- p.c.Wait()
	}()
	select {
	case p.base = <-line:
	case <-time.After(20 * time.Second):
		p.c.Process.Kill()
		t.Fatalf("authx proxy printed nothing: %s", p.stderr)
	}
	if p.base == "" {
		t.Fatalf("authx proxy printed no base URL: %s", p.stderr)
	}
	t.Cleanup(func() { p.stop(t) })
	return p
}

// stop sends SIGTERM and expects a clean exit 0.
func (p *proxyProc) stop(t *testing.T) {
	t.Helper()
	if p.c.ProcessState != nil {
		return
	}
	p.c.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		if err != nil {
			t.Errorf("authx proxy after SIGTERM: %v; stderr: %s", err, p.stderr)
		}
	case <-time.After(10 * time.Second):
		p.c.Process.Kill()
		t.Errorf("authx proxy did not stop on SIGTERM")
	}
}

// curlOut runs curl -sS args and returns its stdout and exit code.
func curlOut(t *testing.T, args ...string) (string, int) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	r := runCmd(t, exec.Command("curl", append([]string{"-sS", "--max-time", "30"}, args...)...))
	return r.stdout, r.code
}

// Plain curl through `authx proxy` with the basic, jwt and a token
// scheme: each request authenticated, nothing for curl to know.
func TestProxyAuthenticatesPlainCurl(t *testing.T) {
	demo := httptest.NewServer(&demoserver.Server{User: "alice", Password: "pw-alice-1"})
	defer demo.Close()
	jwtSrv := startJWT(t, jwttest.Options{AccessTTL: time.Hour})
	tk := newTokenServer(t, 3600)
	tests := []struct {
		name, config, path, want string
	}{
		{"basic", fmt.Sprintf("profiles:\n  p:\n    scheme: basic\n    url: %s/\n    config: {username: alice, password: env:PW}\n", demo.URL),
			"whoami", `"user":"alice"`},
		{"jwt", fmt.Sprintf("profiles:\n  p:\n    scheme: jwt\n    url: %s\n    config:\n%s", jwtSrv.URL, indent(genericLogin, "      ")),
			"api/me", `"user":"alice"`},
		{"testkit", strings.Replace(testkitConfig(tk.URL, ""), "  tk:", "  p:", 1), "api/items?x=1", `"token":"login-1-"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t).set("PW=pw-alice-1", "API_PW=wonderland", "TK_SECRET=right")
			e.config(tt.config)
			p := startProxy(t, e, "p")
			if !strings.HasPrefix(p.base, "http://127.0.0.1:") || !strings.HasSuffix(p.base, "/") {
				t.Fatalf("printed %q, want http://127.0.0.1:PORT/", p.base)
			}
			for i := range 3 {
				if out, code := curlOut(t, "-f", p.base+tt.path); code != 0 || !strings.Contains(out, tt.want) {
					t.Fatalf("request %d: exit %d %q; proxy: %s", i+1, code, out, p.stderr)
				}
			}
			p.stop(t)
			noOrphans(t)
			for _, secret := range []string{"pw-alice-1", "wonderland", "login-1-"} {
				if strings.Contains(p.stderr.String(), secret) {
					t.Errorf("the proxy's stderr leaks %q", secret)
				}
			}
		})
	}
}

// A refusal is renewed once and the request retried when it can be
// replayed: a GET, a small POST the scheme calls replay-safe; a body
// over 1 MiB streams once and its refusal reaches the client, the renewed
// credential serving the next request. A second refusal is passed on.
func TestProxyRenewsAndRetriesOnce(t *testing.T) {
	e, srv := apiEnv(t)
	p := startProxy(t, e, "tk")
	srv.revokeAll()
	out, code := curlOut(t, "-f", p.base+"api/a")
	if code != 0 || !strings.Contains(out, `"token":"refreshed-1"`) || srv.refreshes.Load() != 1 {
		t.Fatalf("GET after revocation: exit %d %q, %d refreshes", code, out, srv.refreshes.Load())
	}
	srv.revokeAll()
	out, code = curlOut(t, "-f", p.base+"api/form", "-d", "x=1")
	if code != 0 || !strings.Contains(out, `"body":"x=1"`) || !strings.Contains(out, `"token":"refreshed-2"`) {
		t.Fatalf("small POST after revocation: exit %d %q", code, out)
	}
	big := filepath.Join(e.home, "big")
	os.WriteFile(big, bytes.Repeat([]byte("b"), 2<<20), 0o600)
	srv.revokeAll()
	out, code = curlOut(t, "-w", "%{http_code}", "-o", "/dev/null", p.base+"api/upload", "--data-binary", "@"+big)
	if out != "401" || srv.refreshes.Load() != 3 {
		t.Fatalf("big POST after revocation: %q (exit %d), %d refreshes; want the 401 passed on after one renewal", out, code, srv.refreshes.Load())
	}
	out, code = curlOut(t, "-f", p.base+"api/upload", "--data-binary", "@"+big)
	if code != 0 || !strings.Contains(out, `"token":"refreshed-3"`) || srv.refreshes.Load() != 3 {
		t.Fatalf("the next big POST: exit %d, %d refreshes; want it sent with the renewed token", code, srv.refreshes.Load())
	}
	// Refused again after the renewal: passed on, one line of log.
	logBefore := strings.Count(p.stderr.String(), "\n")
	out, _ = curlOut(t, "-w", "%{http_code}", "-o", "/dev/null", p.base+"api/reject")
	if out != "401" || srv.refreshes.Load() != 4 || strings.Count(p.stderr.String(), "\n") != logBefore+1 {
		t.Fatalf("refused twice: %q, %d refreshes; log:\n%s", out, srv.refreshes.Load(), p.stderr)
	}
}

// --listen accepts loopback and private Unix sockets only; the socket is
// 0600 in a 0700 directory and gone after SIGTERM.
func TestProxyListen(t *testing.T) {
	e, _ := apiEnv(t)
	open := filepath.Join(e.home, "open")
	os.Mkdir(open, 0o777)
	os.Chmod(open, 0o777)
	// A link to a private directory: whoever owns the link (in /tmp, say)
	// may point it elsewhere once the socket is made, at a socket of theirs.
	private := filepath.Join(e.home, "private")
	os.Mkdir(private, 0o700)
	link := filepath.Join(e.home, "link")
	os.Symlink(private, link)
	refusals := []struct{ listen, want string }{
		{"0.0.0.0:0", "every interface"},
		{":8080", "every interface"},
		{"[::]:0", "every interface"},
		{"192.0.2.1:80", "not a loopback address"},
		{"example.com:80", "not a loopback address"},
		{"127.0.0.1:99999", "port"},
		{"unix:" + filepath.Join(open, "p.sock"), "writable by others"},
		{"unix:@abstract", "abstract"},
		{"unix:" + filepath.Join(link, "p.sock"), "symbolic link"},
	}
	if os.Getuid() == 0 {
		foreign := filepath.Join(e.home, "foreign")
		os.Mkdir(foreign, 0o700)
		os.Chown(foreign, 65534, 65534)
		refusals = append(refusals, struct{ listen, want string }{"unix:" + filepath.Join(foreign, "p.sock"), "another user"})
	}
	for _, tt := range refusals {
		if r := e.run("proxy", "tk", "--listen", tt.listen); r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("--listen %s: exit %d %q %q, want 2 and %q", tt.listen, r.code, r.stdout, r.stderr, tt.want)
		}
	}

	sock := filepath.Join(e.home, "run", "authx", "tk.sock")
	p := startProxy(t, e, "tk", "--listen", "unix:"+sock)
	if p.base != sock {
		t.Fatalf("printed %q, want the socket's path", p.base)
	}
	hint := "curl --unix-socket " + sock // stderr may lag behind the stdout line read above
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(p.stderr.String(), hint) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(p.stderr.String(), hint) {
		t.Errorf("no curl hint on stderr: %s", p.stderr)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 || fi.Mode().Type() != os.ModeSocket {
		t.Fatalf("socket %v %v", fi, err)
	}
	if fi, _ := os.Stat(filepath.Dir(sock)); fi.Mode().Perm() != 0o700 {
		t.Errorf("socket directory mode %v", fi.Mode().Perm())
	}
	if out, code := curlOut(t, "-f", "--unix-socket", sock, "http://authx/api/x"); code != 0 || !strings.Contains(out, `"token":"login-1-"`) {
		t.Fatalf("through the socket: exit %d %q", code, out)
	}
	// A second proxy on a live socket is refused.
	if r := e.run("proxy", "tk", "--listen", "unix:"+sock); r.code != 2 || !strings.Contains(r.stderr, "another process") {
		t.Errorf("second proxy on the socket: %+v", r)
	}
	p.stop(t)
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("the socket is left after SIGTERM: %v", err)
	}
	noOrphans(t)

	// On TCP, the Host must be the proxy's own: a DNS-rebinding page's is not.
	p = startProxy(t, e, "tk", "--listen", "127.0.0.1:0")
	out, _ := curlOut(t, "-H", "Host: evil.example", "-w", " %{http_code}", p.base+"api/x")
	if !strings.HasSuffix(out, " 421") {
		t.Errorf("foreign Host: %q", out)
	}
}

// A profile that cannot log in, or has nowhere to forward to, fails before
// anything listens, with its usual exit code and nothing on stdout.
func TestProxyFailsBeforeListening(t *testing.T) {
	e, _ := apiEnv(t)
	e.set("TK_SECRET=wrong")
	if r := e.run("proxy", "tk"); r.code != 4 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("login refused: %+v, want exit 4 and one line", r)
	}
	e.config("profiles:\n  nourl:\n    scheme: basic\n    config: {username: a, password: env:TK_SECRET}\n")
	if r := e.run("proxy", "nourl"); r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "no url") {
		t.Errorf("no url: %+v, want exit 2", r)
	}
	noOrphans(t)
}

func TestParseListen(t *testing.T) {
	tests := []struct{ in, network, addr string }{
		{"", "tcp", "127.0.0.1:0"},
		{"8080", "tcp", "127.0.0.1:8080"},
		{"127.0.0.1:8080", "tcp", "127.0.0.1:8080"},
		{"127.1.2.3:0", "tcp", "127.1.2.3:0"},
		{"localhost:9", "tcp", "127.0.0.1:9"},
		{"[::1]:8080", "tcp", "[::1]:8080"},
		{"unix:/run/x.sock", "unix", "/run/x.sock"},
	}
	for _, tt := range tests {
		la, err := parseListen(tt.in)
		if err != nil || la.network != tt.network || la.addr != tt.addr {
			t.Errorf("parseListen(%q) = %+v, %v; want %s %s", tt.in, la, err, tt.network, tt.addr)
		}
	}
	for _, bad := range []string{"0.0.0.0:1", ":1", "[::]:1", "10.0.0.1:1", "host:1", "127.0.0.1", "127.0.0.1:-1", "127.0.0.1:080", "unix:", "[::1%lo]:1", "::1:80", "127.0.0.1:1:2"} {
		if la, err := parseListen(bad); err == nil {
			t.Errorf("parseListen(%q) = %+v, want an error", bad, la)
		}
	}
}

// FuzzParseListen: whatever --listen says, authx listens on loopback or a
// file path, never elsewhere.
func FuzzParseListen(f *testing.F) {
	for _, s := range []string{"", "8080", "127.0.0.1:1", "[::1]:2", "localhost:3", "unix:/tmp/s", "0.0.0.0:1", "[::ffff:127.0.0.1]:1", "unix:@x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		la, err := parseListen(s)
		if err != nil {
			return
		}
		switch la.network {
		case "tcp":
			host, port, err := net.SplitHostPort(la.addr)
			ip := net.ParseIP(host)
			if err != nil || ip == nil || !ip.IsLoopback() || port == "" {
				t.Fatalf("%q → %q: not a loopback address", s, la.addr)
			}
		case "unix":
			if !filepath.IsAbs(la.addr) || strings.ContainsRune(la.addr, 0) || strings.HasPrefix(la.addr, "@") {
				t.Fatalf("%q → %q", s, la.addr)
			}
		default:
			t.Fatalf("%q → network %q", s, la.network)
		}
	})
}

// The wrappers' URL rewrite: URLs of the upstream origin go to the proxy
// with their path and query; other arguments stay.
func TestThroughProxy(t *testing.T) {
	up := mustURL(t, "https://api.example.com")
	scope := []string{"https://api.example.com/v1/", "https://other.example.com/"}
	args := []string{"-sS", "https://api.example.com/v1/x?y=1#frag", "-H", "X: https://api.example.com/v1/x", "--url", "https://api.example.com/v1/%2Fz"}
	got, err := throughProxy(args, []string{"https://api.example.com/v1/x?y=1#frag", "https://api.example.com/v1/%2Fz"}, scope, up, "http://127.0.0.1:5/")
	want := []string{"-sS", "http://127.0.0.1:5/v1/x?y=1", "-H", "X: https://api.example.com/v1/x", "--url", "http://127.0.0.1:5/v1/%2Fz"}
	if err != nil || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	if _, err := throughProxy([]string{"https://other.example.com/a"}, []string{"https://other.example.com/a"}, scope, up, "http://127.0.0.1:5/"); err == nil {
		t.Error("a URL of another origin was accepted")
	}
	env := withNoProxy([]string{"A=1", "no_proxy=corp"})
	if strings.Join(env, " ") != "A=1 no_proxy=corp,127.0.0.1,localhost,::1 NO_PROXY=127.0.0.1,localhost,::1" {
		t.Errorf("withNoProxy: %q", env)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
