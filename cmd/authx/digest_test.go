package main

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/plugins/digest/digesttest"
)

// The digest scheme against real Apache (mod_auth_digest with
// AuthDigestNcCheck On) and lighttpd (SHA-256): separate authx processes,
// each signing with the nonce count the previous one stored.

var digestBuild struct {
	once sync.Once
	err  error
}

// digestPlugin builds authx-plugin-digest beside the test's authx, where
// authx finds it.
func digestPlugin(t *testing.T) {
	t.Helper()
	digestBuild.once.Do(func() {
		out, err := exec.Command("go", "build", "-o", binDir+string(os.PathSeparator), "../../plugins/digest/cmd/authx-plugin-digest").CombinedOutput()
		if err != nil {
			digestBuild.err = fmt.Errorf("%v: %s", err, out)
		}
	})
	if digestBuild.err != nil {
		t.Fatal(digestBuild.err)
	}
}

// digestEnv is an environment whose profile dg logs in to srv's /private/
// with the password in $DIGEST_PW; the profile matches the whole server.
func digestEnv(t *testing.T, srv *digesttest.Server, password string) *env {
	t.Helper()
	digestPlugin(t)
	e := newEnv(t).set("DIGEST_PW=" + password)
	e.config(fmt.Sprintf(`profiles:
  dg:
    scheme: digest
    match: %s/
    url: %s/private/
    config:
      username: %s
      password: env:DIGEST_PW
`, srv.URL, srv.URL, srv.User))
	return e
}

// checkLog checks the server's access log after n authx commands that
// each made one request under /private/: one probe without credentials
// (the login's), then n requests each accepted at once, with nonce
// counts 1..n on one nonce.
func checkLog(t *testing.T, srv *digesttest.Server, n int) {
	t.Helper()
	reqs := srv.Requests(t)
	if len(reqs) != n+1 {
		t.Fatalf("the server saw %d requests, want %d (a probe and %d signed): %+v", len(reqs), n+1, n, reqs)
	}
	if reqs[0].Status != 401 || reqs[0].Authorization != "" {
		t.Errorf("first request: %+v, want the login's probe (401, no credentials)", reqs[0])
	}
	nonce := reqs[1].Param("nonce")
	for i, r := range reqs[1:] {
		if r.Status != 200 {
			t.Errorf("request %d after the login: HTTP %d (%+v)", i+1, r.Status, r)
		}
		if got, want := r.Param("nc"), fmt.Sprintf("%08x", i+1); got != want || r.Param("nonce") != nonce {
			t.Errorf("request %d: nc=%s nonce=%s, want nc=%s on nonce %s", i+1, got, r.Param("nonce"), want, nonce)
		}
	}
}

func TestDigestApacheAcrossProcesses(t *testing.T) {
	srv := digesttest.Apache(t, digesttest.Options{})
	e := digestEnv(t, srv, srv.Password)
	for i := range 5 {
		r := e.run("request", "dg", "GET", srv.URL+"/private/")
		if r.code != 0 || r.stdout != "private\n" {
			t.Fatalf("authx request %d: exit %d %q\n%s", i+1, r.code, r.stdout, r.stderr)
		}
	}
	checkLog(t, srv, 5)
	if log := srv.ErrorLog(t); strings.Contains(log, "AH01774") {
		t.Errorf("Apache saw a replayed nonce count:\n%s", log)
	}

	t.Run("curl", func(t *testing.T) {
		for i := range 5 {
			r := e.run("curl", "dg", "--", "-sS", "--fail", srv.URL+"/private/")
			if r.code != 0 || r.stdout != "private\n" {
				t.Fatalf("authx curl %d: exit %d %q\n%s", i+1, r.code, r.stdout, r.stderr)
			}
		}
		checkLog(t, srv, 10) // the nonce counts go on from the requests': 6 to 10, no 401
		if log := srv.ErrorLog(t); strings.Contains(log, "AH01774") {
			t.Errorf("Apache saw a replayed nonce count:\n%s", log)
		}
	})
}

func TestDigestLighttpdSHA256AcrossProcesses(t *testing.T) {
	srv := digesttest.Lighttpd(t, digesttest.Options{Algorithm: "SHA-256"})
	e := digestEnv(t, srv, srv.Password)
	for i := range 5 {
		r := e.run("request", "dg", "GET", srv.URL+"/private/")
		if r.code != 0 || r.stdout != "private\n" {
			t.Fatalf("authx request %d: exit %d %q\n%s", i+1, r.code, r.stdout, r.stderr)
		}
	}
	for i := range 5 { // and through curl, which gets the nonce counts that follow
		r := e.run("curl", "dg", "--", "-sS", "--fail", srv.URL+"/private/")
		if r.code != 0 || r.stdout != "private\n" {
			t.Fatalf("authx curl %d: exit %d %q\n%s", i+1, r.code, r.stdout, r.stderr)
		}
	}
	srv.Stop() // lighttpd writes its access log when it stops
	checkLog(t, srv, 10)
	for _, r := range srv.Requests(t)[1:] {
		if r.Param("algorithm") != "SHA-256" {
			t.Errorf("algorithm %q, want SHA-256", r.Param("algorithm"))
		}
	}
}

// An expired nonce (AuthDigestNonceLifetime 1) is renewed within one
// command: 401 stale=true, then the same request with the new nonce.
func TestDigestStaleNonceRenewed(t *testing.T) {
	srv := digesttest.Apache(t, digesttest.Options{NonceLifetime: 1})
	e := digestEnv(t, srv, srv.Password)
	if r := e.run("request", "dg", "GET", srv.URL+"/private/"); r.code != 0 {
		t.Fatalf("first request: exit %d\n%s", r.code, r.stderr)
	}
	time.Sleep(2500 * time.Millisecond)
	r := e.run("request", "dg", "GET", srv.URL+"/private/")
	if r.code != 0 || r.stdout != "private\n" {
		t.Fatalf("after the nonce expired: exit %d %q\n%s", r.code, r.stdout, r.stderr)
	}
	reqs := srv.Requests(t)
	if len(reqs) != 4 || reqs[2].Status != 401 || reqs[3].Status != 200 || reqs[3].Param("nc") != "00000001" ||
		reqs[3].Param("nonce") == reqs[2].Param("nonce") {
		t.Errorf("requests: %+v", reqs)
	}
	// The renewed nonce is the one the next process uses.
	if r := e.run("request", "dg", "GET", srv.URL+"/private/"); r.code != 0 {
		t.Fatalf("after the renewal: exit %d\n%s", r.code, r.stderr)
	}
	if reqs := srv.Requests(t); len(reqs) != 5 || reqs[4].Status != 200 || reqs[4].Param("nc") != "00000002" || reqs[4].Param("nonce") != reqs[3].Param("nonce") {
		t.Errorf("requests: %+v", reqs)
	}
}

// A wrong password: exit 4 (rejected), one line naming realm and user,
// and the password in no encoding.
func TestDigestWrongPassword(t *testing.T) {
	srv := digesttest.Apache(t, digesttest.Options{})
	const wrong = "wrong-Pass:word/1"
	e := digestEnv(t, srv, wrong)
	r := e.run("request", "dg", "GET", srv.URL+"/private/")
	t.Logf("stderr: %s", r.stderr)
	if r.code != core.KindRejected.ExitCode() {
		t.Fatalf("exit %d, want %d\n%s", r.code, core.KindRejected.ExitCode(), r.stderr)
	}
	msg := strings.TrimSuffix(r.stderr, "\n")
	if strings.Contains(msg, "\n") || !strings.Contains(msg, `"alice"`) || !strings.Contains(msg, srv.Realm) {
		t.Errorf("stderr is not one line naming user and realm: %q", r.stderr)
	}
	for _, enc := range []string{wrong, url.QueryEscape(wrong), url.PathEscape(wrong), base64.StdEncoding.EncodeToString([]byte(wrong)),
		base64.StdEncoding.EncodeToString([]byte("alice:" + wrong)), hex.EncodeToString([]byte(wrong))} {
		if strings.Contains(r.stdout+r.stderr, enc) {
			t.Errorf("output holds the password (%q): %q %q", enc, r.stdout, r.stderr)
		}
	}
	// Nor in the debug log.
	if d := e.run("request", "dg", "GET", srv.URL+"/private/", "--log-level", "debug"); d.code != core.KindRejected.ExitCode() || strings.Contains(d.stderr, wrong) {
		t.Errorf("with --log-level debug: exit %d\n%s", d.code, d.stderr)
	}
	// No retry loop: per command the request and at most one retry, and
	// only the first login probes.
	if n := len(srv.Requests(t)); n > 5 {
		t.Errorf("%d requests for a wrong password", n)
	}
}

// The credential goes only inside the protection space (AuthDigestDomain
// /private/), even where the profile matches (the whole server).
func TestDigestProtectionSpace(t *testing.T) {
	srv := digesttest.Apache(t, digesttest.Options{})
	e := digestEnv(t, srv, srv.Password)
	if r := e.run("request", "dg", "GET", srv.URL+"/private/"); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	r := e.run("request", "dg", "GET", srv.URL+"/echo-auth/")
	if r.code != 0 || r.stdout != "echo\n" {
		t.Fatalf("outside the protection space: exit %d %q\n%s", r.code, r.stdout, r.stderr)
	}
	for _, q := range srv.Requests(t) {
		if strings.HasPrefix(q.URI, "/echo-auth/") && q.Authorization != "" {
			t.Errorf("credential sent outside the protection space: %+v", q)
		}
	}
	if _, err := os.Stat(filepath.Join(binDir, "authx-plugin-digest")); err != nil {
		t.Fatal(err)
	}
}

// A server that forgot its nonces (Apache restarted: a new secret) refuses
// a nonce that served requests without stale=true: one retry with its new
// nonce, within the same command.
func TestDigestServerRestart(t *testing.T) {
	srv := digesttest.Apache(t, digesttest.Options{})
	e := digestEnv(t, srv, srv.Password)
	for range 2 {
		if r := e.run("request", "dg", "GET", srv.URL+"/private/"); r.code != 0 {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
	}
	srv.Restart(t)
	r := e.run("request", "dg", "GET", srv.URL+"/private/")
	if r.code != 0 || r.stdout != "private\n" {
		t.Fatalf("after the restart: exit %d %q\n%s", r.code, r.stdout, r.stderr)
	}
	reqs := srv.Requests(t)
	if n := len(reqs); n != 5 || reqs[3].Status != 401 || reqs[4].Status != 200 || reqs[4].Param("nc") != "00000001" {
		t.Errorf("requests: %+v", reqs)
	}
}

// Concurrent commands take successive nonce counts under the cache
// entry's lock, but their requests may reach the server out of order:
// Apache then refuses the lower count as a replay, and that command
// retries once with a new nonce. Every command succeeds.
func TestDigestConcurrentProcesses(t *testing.T) {
	srv := digesttest.Apache(t, digesttest.Options{})
	e := digestEnv(t, srv, srv.Password)
	if r := e.run("request", "dg", "GET", srv.URL+"/private/"); r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	const n = 6
	results := make(chan result, n)
	for range n {
		go func() { results <- e.run("request", "dg", "GET", srv.URL+"/private/") }()
	}
	for range n {
		if r := <-results; r.code != 0 || r.stdout != "private\n" {
			t.Errorf("exit %d\n%s", r.code, r.stderr)
		}
	}
	replays := strings.Count(srv.ErrorLog(t), "AH01774")
	t.Logf("%d of %d concurrent requests reached Apache out of nonce-count order", replays, n)
	if t.Failed() {
		t.Logf("access log: %+v", srv.Requests(t))
	}
}

// The password changed after a credential was cached: the cached one is
// refused, retried once on a new nonce, refused again, and the plugin's
// diagnosis of the second refusal is the message (exit 4), once.
func TestDigestPasswordChangedAfterLogin(t *testing.T) {
	srv := digesttest.Apache(t, digesttest.Options{})
	e := digestEnv(t, srv, srv.Password)
	if r := e.run("request", "dg", "GET", srv.URL+"/private/"); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	e.set("DIGEST_PW=changed-" + srv.Password)
	r := e.run("request", "dg", "GET", srv.URL+"/private/")
	if r.code != core.KindRejected.ExitCode() || !strings.Contains(r.stderr, `refused user "alice" in realm "authx digest test" (Digest MD5) again with a new nonce; check the username and password`) {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if reqs := srv.Requests(t); len(reqs) != 4 || reqs[2].Status != 401 || reqs[3].Status != 401 || reqs[3].Param("nc") != "00000001" {
		t.Errorf("requests: %+v", reqs)
	}
}

// authx proxy with the digest scheme: plain curl through it gets Apache's
// protected page, each request signed at once with the next nonce count
// (no 401 after the login's probe); a path outside the profile's scope
// reaches Apache with no credential.
func TestDigestThroughProxy(t *testing.T) {
	srv := digesttest.Apache(t, digesttest.Options{})
	digestPlugin(t)
	e := newEnv(t).set("DIGEST_PW=" + srv.Password)
	e.config(fmt.Sprintf(`profiles:
  dg:
    scheme: digest
    url: %s/private/
    config:
      username: %s
      password: env:DIGEST_PW
`, srv.URL, srv.User))
	p := startProxy(t, e, "dg")
	for i := range 5 {
		if out, code := curlOut(t, "-f", p.base+"private/"); code != 0 || out != "private\n" {
			t.Fatalf("request %d through the proxy: exit %d %q; proxy: %s", i+1, code, out, p.stderr)
		}
	}
	if out, code := curlOut(t, "-f", p.base+"echo-auth/"); code != 0 || out != "echo\n" {
		t.Fatalf("outside the scope: exit %d %q; proxy: %s", code, out, p.stderr)
	}
	p.stop(t)
	reqs := srv.Requests(t)
	if len(reqs) != 7 {
		t.Fatalf("Apache saw %d requests, want 7 (the probe, 5 signed, 1 outside the scope): %+v", len(reqs), reqs)
	}
	if reqs[0].Status != 401 || reqs[0].Authorization != "" {
		t.Errorf("first request %+v, want the login's probe", reqs[0])
	}
	for i, r := range reqs[1:6] {
		if got, want := r.Param("nc"), fmt.Sprintf("%08x", i+1); r.Status != 200 || got != want {
			t.Errorf("signed request %d: HTTP %d nc=%s, want 200 nc=%s", i+1, r.Status, got, want)
		}
	}
	if last := reqs[6]; !strings.HasPrefix(last.URI, "/echo-auth/") || last.Authorization != "" {
		t.Errorf("outside the scope: %+v, want /echo-auth/ without credentials", last)
	}
	if strings.Contains(p.stderr.String(), srv.Password) {
		t.Error("the proxy's stderr holds the password")
	}
}
