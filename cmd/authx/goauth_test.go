package main

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authx/authx/core/session"
)

// moduleProxy is a GOPROXY over TLS serving example.com/m v1.0.0 to
// requests whose Authorization ok accepts; others get 401. caFile is its
// certificate, for SSL_CERT_FILE.
type moduleProxy struct {
	*httptest.Server
	caFile            string
	refused, notFound atomic.Int64
}

func newModuleProxy(t *testing.T, ok func(authorization string) bool) *moduleProxy {
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	for name, body := range map[string]string{"go.mod": "module example.com/m\n", "m.go": "package m\n\nconst Hello = \"hi\"\n"} {
		w, _ := zw.Create("example.com/m@v1.0.0/" + name)
		w.Write([]byte(body))
	}
	zw.Close()
	files := map[string][]byte{
		"/example.com/m/@v/list":        []byte("v1.0.0\n"),
		"/example.com/m/@v/v1.0.0.info": []byte(`{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}`),
		"/example.com/m/@v/v1.0.0.mod":  []byte("module example.com/m\n"),
		"/example.com/m/@v/v1.0.0.zip":  zb.Bytes(),
	}
	p := &moduleProxy{}
	p.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ok(r.Header.Get("Authorization")) {
			p.refused.Add(1)
			w.Header().Set("WWW-Authenticate", `Basic realm="modules"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		b, found := files[r.URL.Path]
		if !found {
			p.notFound.Add(1)
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(p.Close)
	p.caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(p.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// goModDownload runs the real `go mod download` of example.com/m@v1.0.0
// (or mod) through the proxy with GOAUTH set, in a fresh module cache, with
// e's environment (authx first on PATH).
func goModDownload(t *testing.T, e *env, p *moduleProxy, goauth string, mod string, extra ...string) result {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	tmp := t.TempDir()
	c := exec.Command(gobin, append(append([]string{"mod", "download"}, extra...), mod)...)
	c.Dir = tmp
	c.Env = append(append([]string(nil), e.vars...),
		"PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"GOAUTH="+goauth, "GOPROXY="+p.URL+"/", "SSL_CERT_FILE="+p.caFile,
		"GOFLAGS=-mod=mod", "GOSUMDB=off", "GONOSUMDB=*", "GONOSUMCHECK=1", "GOTOOLCHAIN=local", "GOENV=off",
		"GOMODCACHE="+filepath.Join(tmp, "modcache"), "GOPATH="+filepath.Join(tmp, "gopath"), "GOCACHE="+filepath.Join(tmp, "gocache"))
	r := runCmd(t, c)
	// The module cache is read-only, which t.TempDir's cleanup cannot remove.
	clean := exec.Command(gobin, "clean", "-modcache")
	clean.Env = c.Env // the test's module cache, never the user's
	clean.Run()
	filepath.Walk(tmp, func(path string, info os.FileInfo, err error) error {
		if err == nil && info.IsDir() {
			os.Chmod(path, 0o700)
		}
		return nil
	})
	return r
}

// go mod download through a module proxy that requires Basic credentials,
// with authx as the only credential source; then the refused case: the
// go command's own 401 error, one line from authx (exit 4) for the
// refusal, no secret in any output.
func TestGoauthModDownload(t *testing.T) {
	const pw = "s3cret-go-pw"
	var want atomic.Value
	want.Store("Basic " + basicB64("alice", pw))
	p := newModuleProxy(t, func(a string) bool { return a == want.Load() })
	e := newEnv(t).set("GO_PW=" + pw)
	e.config(fmt.Sprintf(`
profiles:
  gomod:
    scheme: basic
    match: %s/
    config: {username: alice, password: env:GO_PW}
`, p.URL))

	if r := goModDownload(t, e, p, "off", "example.com/m@v1.0.0"); r.code == 0 || !strings.Contains(r.stderr, "401 Unauthorized") {
		t.Fatalf("without GOAUTH the proxy must refuse: %d\n%s", r.code, r.stderr)
	}
	r := goModDownload(t, e, p, "authx goauth gomod", "example.com/m@v1.0.0")
	if r.code != 0 {
		t.Fatalf("go mod download: %d\n%s", r.code, r.stderr)
	}

	want.Store("Basic " + basicB64("alice", "changed-0123"))
	r = goModDownload(t, e, p, "authx goauth gomod", "example.com/m@v1.0.0", "-x")
	if r.code == 0 || !strings.Contains(r.stderr, "401 Unauthorized") {
		t.Fatalf("refused: %d\n%s", r.code, r.stderr)
	}
	// The go command ran `authx goauth gomod URL` with the 401 on stdin and
	// dropped its stderr (it shows it only with -x and only when no
	// credential is left for the URL): the same run by hand says why.
	// A credential obtained less than session.RenewGrace ago is taken as
	// a concurrent renewal and printed again: let it age.
	time.Sleep(session.RenewGrace + 100*time.Millisecond)
	c := e.cmd("goauth", "gomod", p.URL+"/example.com/m/@v/v1.0.0.info")
	c.Stdin = strings.NewReader("HTTP/1.1 401 Unauthorized\nWww-Authenticate: Basic realm=\"modules\"\n\n")
	byHand := runCmd(t, c)
	if lines := authxLines(byHand.stderr); byHand.code != 4 || byHand.stdout != "" || len(lines) != 1 || !strings.Contains(lines[0], "refused again") {
		t.Errorf("authx goauth after a 401: %d %q %q", byHand.code, byHand.stdout, byHand.stderr)
	}
	for _, secret := range []string{pw, basicB64("alice", pw)} {
		if strings.Contains(r.stdout+r.stderr+byHand.stderr, secret) {
			t.Errorf("a secret in the output: %q", secret)
		}
	}
}

func TestGoauthRenewsOn401Only(t *testing.T) {
	ts := newTokenServer(t, 3600)
	p := newModuleProxy(t, func(a string) bool {
		tok, ok := strings.CutPrefix(a, "Bearer ")
		ts.mu.Lock()
		defer ts.mu.Unlock()
		return ok && ts.valid[tok]
	})
	e := newEnv(t).set("TK_SECRET=right")
	e.config(fmt.Sprintf(`
profiles:
  tk:
    scheme: testkit
    match: %s/
    config: {server: %s, user: u, secret: env:TK_SECRET}
`, p.URL, ts.URL))
	if r := goModDownload(t, e, p, "authx goauth tk", "example.com/m@v1.0.0"); r.code != 0 {
		t.Fatalf("go mod download: %d\n%s", r.code, r.stderr)
	}
	time.Sleep(session.RenewGrace + 100*time.Millisecond) // else the login is taken as a concurrent renewal
	ts.revokeAll()
	if r := goModDownload(t, e, p, "authx goauth tk", "example.com/m@v1.0.0"); r.code != 0 {
		t.Fatalf("go mod download after the token was revoked: %d\n%s", r.code, r.stderr)
	}
	if l, rf := ts.logins.Load(), ts.refreshes.Load(); l != 1 || rf != 1 {
		t.Errorf("logins %d, refreshes %d; want 1 and 1", l, rf)
	}
	if r := goModDownload(t, e, p, "authx goauth tk", "example.com/none@v1.0.0"); r.code == 0 || p.notFound.Load() == 0 {
		t.Fatalf("a module that does not exist: %d\n%s", r.code, r.stderr)
	}
	if l, rf := ts.logins.Load(), ts.refreshes.Load(); l != 1 || rf != 1 {
		t.Errorf("after a 404: logins %d, refreshes %d; want 1 and 1", l, rf)
	}
}

func basicB64(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

// What `authx goauth` prints, byte for byte, and what it refuses: a
// profile without an https:// prefix, a URL argument without a response
// on stdin.
func TestGoauthOutput(t *testing.T) {
	e := newEnv(t).set("GO_PW=pw-0123")
	e.config(`
profiles:
  gomod:
    scheme: basic
    match: [https://goproxy.example.com/corp/, https://git.example.com/]
    config: {username: alice, password: env:GO_PW}
  plain:
    scheme: basic
    match: http://goproxy.example.com/
    config: {username: alice, password: env:GO_PW}
`)
	want := "https://goproxy.example.com/corp/\nhttps://git.example.com/\n\nAuthorization: Basic " + basicB64("alice", "pw-0123") + "\n\n"
	if r := e.run("goauth", "gomod"); r.code != 0 || r.stdout != want {
		t.Fatalf("goauth gomod: %d %q %q", r.code, r.stdout, r.stderr)
	}
	c := e.cmd("goauth", "gomod", "https://goproxy.example.com/corp/x/@v/list")
	c.Stdin = strings.NewReader("HTTP/1.1 404 Not Found\nContent-Length: 0\n\n")
	if r := runCmd(t, c); r.code != 0 || r.stdout != want {
		t.Fatalf("after a 404: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := e.run("goauth", "plain"); r.code != 2 || r.stdout != "" || len(authxLines(r.stderr)) != 1 {
		t.Errorf("no https prefix: %d %q %q", r.code, r.stdout, r.stderr)
	}
	c = e.cmd("goauth", "gomod", "https://goproxy.example.com/corp/x/@v/list")
	c.Stdin = strings.NewReader("")
	if r := runCmd(t, c); r.code != 2 || r.stdout != "" || len(authxLines(r.stderr)) != 1 {
		t.Errorf("no response on stdin: %d %q %q", r.code, r.stdout, r.stderr)
	}
}

// The go command follows redirects with the headers a credential command
// gave it: it drops Authorization and Cookie on a redirect to another host
// (keeping Authorization for a subdomain) but forwards any other header to
// whatever host the redirect names. So a credential with another header
// (an API key) is refused, nothing printed.
func TestGoauthRefusesForwardedHeaders(t *testing.T) {
	e := newEnv(t).set("XAT=xat-secret-0123")
	e.config(`
profiles:
  corp:
    scheme: jwt
    match: https://goproxy.example.com/corp/
    config: {mode: static, token: env:XAT, header: X-Auth-Token}
  bearer:
    scheme: jwt
    match: https://goproxy.example.com/other/
    config: {mode: static, token: env:XAT}
`)
	r := e.run("goauth", "corp")
	if lines := authxLines(r.stderr); r.code != 10 || r.stdout != "" || len(lines) != 1 || !strings.Contains(lines[0], "redirect") {
		t.Errorf("goauth with an X-Auth-Token credential: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "xat-secret-0123") {
		t.Error("the secret in the output")
	}
	if r := e.run("goauth", "bearer"); r.code != 0 || !strings.Contains(r.stdout, "Authorization: Bearer xat-secret-0123\n") {
		t.Errorf("goauth with a bearer token: %d %q %q", r.code, r.stdout, r.stderr)
	}
}

// The go command captures a credential command's stderr: a login's code
// and URL would never reach the user, and the go command would wait for
// the code's lifetime. So goauth never logs in interactively, even with a
// terminal: exit 3, `run: authx login P`, no browser opened.
func TestGoauthNeverPrompts(t *testing.T) {
	e, opened := deviceEnv(t)
	r := e.runTTY(20*time.Second, "goauth", "dev")
	if r.code != 3 || r.stdout != "" || !strings.Contains(r.stderr, "run: authx login dev") {
		t.Errorf("goauth with a device login to do: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(opened); err == nil {
		t.Error("goauth opened a browser")
	}
}

// The go command fetches in parallel and runs `authx goauth P URL` once
// per refused fetch: N refusals of the same credential renew it once. A
// credential another authx obtained less than session.RenewGrace earlier
// is taken as the renewal and printed.
func TestGoauthRenewsOncePerRefusal(t *testing.T) {
	ts := newTokenServer(t, 3600)
	e := newEnv(t).set("TK_SECRET=right")
	e.config(fmt.Sprintf(`
profiles:
  tk:
    scheme: testkit
    match: https://goproxy.example.com/corp/
    config: {server: %s, user: u, secret: env:TK_SECRET}
`, ts.URL))
	first := e.run("goauth", "tk")
	if first.code != 0 {
		t.Fatalf("goauth tk: %d %q", first.code, first.stderr)
	}
	time.Sleep(session.RenewGrace + 100*time.Millisecond) // the login is no renewal
	var outs []string
	for i := 0; i < 2; i++ {
		c := e.cmd("goauth", "tk", "https://goproxy.example.com/corp/x/@v/list")
		c.Stdin = strings.NewReader("HTTP/1.1 401 Unauthorized\n\n")
		r := runCmd(t, c)
		if r.code != 0 || r.stdout == first.stdout {
			t.Fatalf("401 %d: %d %q %q", i+1, r.code, r.stdout, r.stderr)
		}
		outs = append(outs, r.stdout)
	}
	if l, rf := ts.logins.Load(), ts.refreshes.Load(); l != 1 || rf != 1 || outs[0] != outs[1] {
		t.Errorf("logins %d, refreshes %d, the same renewal printed: %v; want 1, 1, true", l, rf, outs[0] == outs[1])
	}
}

// The go command matches its prefixes by plain string comparison, case-
// and port-sensitively: authx prints them normalized (host in lower case,
// no default port), as the go command writes its request URLs.
func TestGoauthNormalizesPrefixes(t *testing.T) {
	e := newEnv(t).set("GO_PW=pw-0123")
	e.config(`
profiles:
  gomod:
    scheme: basic
    match: [HTTPS://GoProxy.Example.com:443/corp/, https://git.example.com:8443/a/%7Eb/]
    config: {username: alice, password: env:GO_PW}
`)
	want := "https://goproxy.example.com/corp/\nhttps://git.example.com:8443/a/~b/\n\nAuthorization: Basic " + basicB64("alice", "pw-0123") + "\n\n"
	if r := e.run("goauth", "gomod"); r.code != 0 || r.stdout != want {
		t.Errorf("goauth gomod: %d %q %q", r.code, r.stdout, r.stderr)
	}
}
