package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authx/authx/core/session"
	"github.com/authx/authx/plugins/jwt/jwttest"
)

// runWith runs authx with more environment variables for this run only.
func (e *env) runWith(vars []string, args ...string) result {
	e.t.Helper()
	saved := e.vars
	e.vars = append(append([]string(nil), e.vars...), vars...)
	defer func() { e.vars = saved }()
	return e.run(args...)
}

// Must show 4: after the server revokes the cached token, `authx curl P --
// -sf URL` and `authx wget P -- -q -O- URL` exit 0 with one renewal each
// (a refresh for the generic API, which answers 401 invalid_token; a login
// for WordPress, which answers 403 jwt_auth_invalid_token in its body), and
// `authx token P --renew` prints a new token.
func TestWrappersRenewAfterRevocation(t *testing.T) {
	flavours := []struct {
		name, config, path, want string
		renewals                 func(*jwttest.Server) int64
	}{
		{"generic (401 invalid_token)", genericLogin, "/api/me", `"user":"alice"`, (*jwttest.Server).Refreshes},
		{"wordpress (403 jwt_auth_invalid_token)", "preset: wordpress\nusername: alice\npassword: env:API_PW", "/wp-json/wp/v2/users/me", `"slug":"alice"`, (*jwttest.Server).Logins},
	}
	tools := []struct {
		tool string
		args []string
	}{
		{"curl", []string{"-sf"}},
		{"wget", []string{"-q", "-O-"}},
	}
	for _, fl := range flavours {
		t.Run(fl.name, func(t *testing.T) {
			srv := startJWT(t, jwttest.Options{AccessTTL: time.Hour})
			e := jwtEnv(t, srv, fl.config)
			first := e.run("token", "api")
			if first.code != 0 {
				t.Fatalf("login: %+v", first)
			}
			for _, tt := range tools {
				t.Run(tt.tool, func(t *testing.T) {
					needTool(t, tt.tool)
					srv.RevokeAccess()
					before := fl.renewals(srv)
					args := append(append([]string{tt.tool, "api", "--"}, tt.args...), srv.URL+fl.path)
					r := e.run(args...)
					if r.code != 0 || !strings.Contains(r.stdout, fl.want) {
						t.Fatalf("after revocation: %+v; want exit 0 and the answer", r)
					}
					if n := fl.renewals(srv) - before; n != 1 {
						t.Errorf("%d renewals, want 1", n)
					}
				})
			}
			srv.RevokeAccess()
			before := fl.renewals(srv)
			cached := e.run("token", "api")
			renewed := e.runWith([]string{"AUTHX_REFUSED=" + strings.TrimSpace(cached.stdout)}, "token", "api", "--renew")
			if renewed.code != 0 || renewed.stdout == cached.stdout || strings.TrimSpace(renewed.stdout) == "" || fl.renewals(srv)-before != 1 {
				t.Fatalf("token --renew: %+v (cached %q); %d renewals, want a new token from 1", renewed, cached.stdout, fl.renewals(srv)-before)
			}
			if again := e.run("token", "api"); again.stdout != renewed.stdout {
				t.Errorf("the renewed token was not cached: %q then %q", renewed.stdout, again.stdout)
			}
			if r := e.run("header", "api", "--renew"); r.code != 0 || !strings.Contains(r.stdout, strings.TrimSpace(renewed.stdout)) || fl.renewals(srv)-before != 1 {
				t.Errorf("header --renew right after a renewal: %+v; %d renewals, want the same token and no other renewal", r, fl.renewals(srv)-before)
			}
		})
	}
}

// 10 scripts told of the same refusal each run `authx token P --renew`,
// without naming the refused token: one refresh, one new token for all.
func TestTokenRenewIsSingleFlight(t *testing.T) {
	srv := startJWT(t, jwttest.Options{AccessTTL: time.Hour, Latency: 100 * time.Millisecond})
	e := jwtEnv(t, srv, genericLogin)
	old := e.run("token", "api")
	if old.code != 0 {
		t.Fatalf("login: %+v", old)
	}
	// Not told which token was refused, --renew takes one obtained within
	// session.RenewGrace for a concurrent renewal: let the login age.
	time.Sleep(session.RenewGrace + 100*time.Millisecond)
	srv.RevokeAccess()
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			r := e.run("token", "api", "--renew")
			mu.Lock()
			defer mu.Unlock()
			if r.code != 0 {
				t.Errorf("exit %d: %s", r.code, r.stderr)
			}
			seen[r.stdout]++
		})
	}
	wg.Wait()
	if srv.Refreshes() != 1 || srv.Logins() != 1 || len(seen) != 1 || seen[old.stdout] != 0 {
		t.Errorf("10 concurrent --renew: %d refreshes, %d logins, %d distinct tokens (old one %d times); want 1, 1, 1 new", srv.Refreshes(), srv.Logins(), len(seen), seen[old.stdout])
	}
}

// A refused request is renewed for the next run, but run again only when
// that is safe: curl needs -f (without it the refusal's body is already on
// stdout, as with -i), a body from stdin cannot be read twice. A probe of a
// URL that does not answer GET finds nothing to renew; a 404 is no refusal.
func TestWrappersRerunOnlyWhatIsReplayable(t *testing.T) {
	srv := startJWT(t, jwttest.Options{AccessTTL: time.Hour})
	e := jwtEnv(t, srv, genericLogin)
	if r := e.run("token", "api"); r.code != 0 {
		t.Fatalf("login: %+v", r)
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		renewals int64
	}{
		{"curl without -f", []string{"curl", "api", "--", "-s", srv.URL + "/api/me"}, 0, 1},
		{"curl -fi", []string{"curl", "api", "--", "-sfi", srv.URL + "/api/me"}, 22, 1},
		{"curl -f -d @-", []string{"curl", "api", "--", "-sf", "-d", "@-", srv.URL + "/api/notes"}, 22, 0},
		{"curl -f -X POST", []string{"curl", "api", "--", "-sf", "-XPOST", srv.URL + "/api/notes"}, 22, 0},
		{"wget --post-file=/dev/stdin", []string{"wget", "api", "--", "-q", "-O-", "--post-file=/dev/stdin", srv.URL + "/api/notes"}, 6, 0},
		{"curl -f on a 404", []string{"curl", "api", "--", "-sf", srv.URL + "/api/nothing-here"}, 22, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			needTool(t, tt.args[0])
			srv.RevokeAccess()
			before := srv.Refreshes() + srv.Logins()
			r := e.run(tt.args...)
			if r.code != tt.code || strings.Contains(r.stdout, `"user":"alice"`) {
				t.Errorf("%+v; want exit %d and no second run", r, tt.code)
			}
			if n := srv.Refreshes() + srv.Logins() - before; n != tt.renewals {
				t.Errorf("%d renewals, want %d", n, tt.renewals)
			}
			if said := strings.Contains(r.stderr, "renewed it for the next run"); said != (tt.renewals == 1) || strings.Count(r.stderr, "\n") > 1 {
				t.Errorf("stderr %q: want one line saying so exactly when renewed", r.stderr)
			}
			if tt.renewals == 1 {
				if again := e.run(tt.args...); again.code != 0 || !strings.Contains(again.stdout, `"user":"alice"`) {
					t.Errorf("the next run: %+v, want the renewed credential accepted", again)
				}
			}
		})
	}
}

// Point 5: curl -L forwards every header but Authorization and Cookie to
// the host a redirect names, so authx refuses -L with a credential holding
// another header (and --location-trusted always); with Authorization only,
// -L works and the other origin sees no credential.
func TestCurlLocationSendsNoCredentialElsewhere(t *testing.T) {
	needTool(t, "curl")
	var leaked atomic.Value
	leaked.Store("")
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, h := range []string{"X-Api-Key", "Authorization", "Cookie"} {
			if v := r.Header.Get(h); v != "" {
				leaked.Store(h + ": " + v)
			}
		}
		fmt.Fprintln(w, "other origin")
	}))
	defer other.Close()
	home := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/landing", http.StatusFound)
	}))
	defer home.Close()
	e := newEnv(t).set("KEY=k3y-s3cret", "TOK=t0k-s3cret")
	e.config(fmt.Sprintf(`profiles:
  key:
    scheme: jwt
    url: %[1]s
    config: {mode: static, token: env:KEY, header: X-Api-Key, prefix: ""}
  bearer:
    scheme: jwt
    url: %[1]s
    config: {mode: static, token: env:TOK}
`, home.URL))
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"-L with an API key header", []string{"curl", "key", "--", "-sL", home.URL + "/go"}, 2, "X-Api-Key"},
		{"--location with an API key header", []string{"curl", "key", "--", "-s", "--location", home.URL + "/go"}, 2, "X-Api-Key"},
		{"-L among combined flags", []string{"curl", "key", "--", "-sSfL", home.URL + "/go"}, 2, "-L"},
		{"--location-trusted", []string{"curl", "bearer", "--", "-s", "--location-trusted", home.URL + "/go"}, 2, "--location-trusted"},
		{"-L with Authorization only", []string{"curl", "bearer", "--", "-sL", home.URL + "/go"}, 0, ""},
		{"-K: a config authx cannot check", []string{"curl", "bearer", "--", "-s", "-K", "/dev/null", home.URL + "/go"}, 2, "-K"},
		{"wget -i: URLs authx cannot check", []string{"wget", "bearer", "--", "-q", "-i", "/dev/null"}, 2, "-i"},
		{"wget -e input=", []string{"wget", "bearer", "--", "-q", "-e", "input=/dev/null"}, 2, "-e input"},
		{"wget -r follows links", []string{"wget", "bearer", "--", "-q", "-r", home.URL + "/go"}, 2, "-r: wget would follow links"},
		{"wget -qp", []string{"wget", "bearer", "--", "-qp", home.URL + "/go"}, 2, "-p: wget would follow links"},
		{"wget --mirror", []string{"wget", "bearer", "--", "--mirror", home.URL + "/go"}, 2, "--mirror"},
		{"wget -H", []string{"wget", "bearer", "--", "-H", home.URL + "/go"}, 2, "-H"},
		{"wget -e recursive=on", []string{"wget", "bearer", "--", "-e", "recursive=on", home.URL + "/go"}, 2, "-e recursive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaked.Store("")
			r := e.run(tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("%+v; want exit %d mentioning %q", r, tt.code, tt.want)
			}
			if tt.code == 0 && r.stdout != "other origin\n" {
				t.Errorf("stdout %q: the redirect was not followed", r.stdout)
			}
			if l := leaked.Load().(string); l != "" {
				t.Errorf("the other origin received %q", l)
			}
			if strings.Contains(r.stderr, "s3cret") {
				t.Errorf("stderr shows the secret: %q", r.stderr)
			}
		})
	}
	// wget after a "--" of the user's still follows no redirect: authx's
	// --max-redirect=0 goes before it, where wget reads options.
	t.Run("wget after --", func(t *testing.T) {
		needTool(t, "wget")
		for _, prof := range []string{"bearer", "key"} {
			r := e.run("wget", prof, "--", "-q", "-O", "/dev/null", "--", home.URL+"/go")
			if r.code != 8 || leaked.Load().(string) != "" {
				t.Errorf("wget %s -- … -- URL: %+v, the other origin received %q; want wget's exit 8 on the redirect and nothing sent there", prof, r, leaked.Load())
			}
		}
	})
	// A ~/.curlrc saying location-trusted is not read (curl -q).
	if err := os.WriteFile(filepath.Join(e.home, ".curlrc"), []byte("location-trusted\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := e.run("curl", "bearer", "--", "-s", home.URL+"/go"); r.code != 0 || strings.Contains(r.stdout, "other origin") || leaked.Load().(string) != "" {
		t.Errorf("with location-trusted in ~/.curlrc: %+v, the other origin received %q", r, leaked.Load())
	}
	// Without -L the API key goes to the profile's origin only.
	if r := e.run("curl", "key", "--", "-s", home.URL+"/go"); r.code != 0 || leaked.Load().(string) != "" {
		t.Errorf("without -L: %+v", r)
	}
}

// Point 7: SIGKILL authx while wget runs: no wgetrc holding the credential
// is left in any directory, then or at the next run.
func TestKilledWgetLeavesNoWgetrc(t *testing.T) {
	needTool(t, "wget")
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		fmt.Fprintln(w, "late")
	}))
	defer srv.Close()
	defer close(release)
	e := newEnv(t).set("TOK=t0k-s3cret")
	e.config(fmt.Sprintf("profiles:\n  api:\n    scheme: jwt\n    url: %s\n    config: {mode: static, token: env:TOK}\n", srv.URL))
	tmp := filepath.Join(e.home, "tmp")
	os.MkdirAll(tmp, 0o700)
	e.set("TMPDIR=" + tmp)
	wgetrcs := func() []string {
		var found []string
		filepath.Walk(tmp, func(path string, fi os.FileInfo, err error) error {
			if err == nil && fi.Mode().IsRegular() {
				if data, _ := os.ReadFile(path); strings.Contains(string(data), "t0k-s3cret") {
					found = append(found, path)
				}
			}
			return nil
		})
		return found
	}
	c := e.cmd("wget", "api", "--", "-q", "-O-", "-t", "1", srv.URL+"/hang")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		c.Process.Kill()
		t.Fatal("wget never sent its request")
	}
	if f := wgetrcs(); len(f) != 0 {
		t.Errorf("while wget runs, files hold the credential: %v", f)
	}
	c.Process.Kill() // authx itself (the front exec'd authx-cli in its place)
	c.Wait()
	if f := wgetrcs(); len(f) != 0 {
		t.Errorf("after authx was killed, files hold the credential: %v", f)
	}
	if r := e.run("token", "api"); r.code != 0 {
		t.Fatalf("next run: %+v", r)
	}
	if f := wgetrcs(); len(f) != 0 {
		t.Errorf("after the next run, files hold the credential: %v", f)
	}
}

// Point 12: `authx header P --url U` refuses a U outside the credential's
// own scope (the WordPress preset scopes its token to /wp-json/), as the
// wrappers do, whether the credential comes from a login or from the cache
// through the fast front.
func TestHeaderURLAppliesTheCredentialScope(t *testing.T) {
	srv := startJWT(t, jwttest.Options{AccessTTL: time.Hour})
	e := jwtEnv(t, srv, "preset: wordpress\nusername: alice\npassword: env:API_PW")
	outside := srv.URL + "/wp-admin/options.php"
	for i, src := range []string{"login", "cache"} {
		r := e.run("header", "api", "--url", outside)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "credential's scope") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%s: header --url outside the credential's scope: %+v, want exit 2 and one line", src, r)
		}
		if i == 0 {
			if r := e.run("token", "api"); r.code != 0 { // fill the cache
				t.Fatalf("login: %+v", r)
			}
		}
	}
	if r := e.run("header", "api", "--url", srv.URL+"/wp-json/wp/v2/users/me"); r.code != 0 || !strings.HasPrefix(r.stdout, "Authorization: Bearer ") {
		t.Errorf("header --url inside the scope: %+v", r)
	}
	if _, err := exec.LookPath("curl"); err == nil {
		r := e.run("curl", "api", "--", "-sf", outside)
		if r.code != 2 || !strings.Contains(r.stderr, "credential's scope") {
			t.Errorf("curl outside the credential's scope: %+v, want the same refusal", r)
		}
	}
}

// authx exec cannot tell a refusal from the command's exit code: the
// command says so itself with `authx token P --renew`, naming the token it
// was given, and gets a new one; a second command told of the same
// refusal gets the same new token without another renewal.
func TestExecCommandRenewsWithTokenRenew(t *testing.T) {
	srv := startJWT(t, jwttest.Options{AccessTTL: time.Hour})
	e := jwtEnv(t, srv, genericLogin)
	e.set("PATH=" + binDir + string(os.PathListSeparator) + os.Getenv("PATH"))
	old := e.run("token", "api")
	if old.code != 0 {
		t.Fatalf("login: %+v", old)
	}
	srv.RevokeAccess()
	script := `new=$(AUTHX_REFUSED=$AUTHX_TOKEN authx token api --renew) && test -n "$new" && test "$new" != "$AUTHX_TOKEN" && echo "$new"`
	first := e.run("exec", "api", "--", "sh", "-c", script)
	if first.code != 0 || srv.Refreshes() != 1 {
		t.Fatalf("exec + token --renew: %+v; %d refreshes, want a new token from 1", first, srv.Refreshes())
	}
	// Another script refused the same token: it gets the new one, with no
	// other renewal.
	second := e.runWith([]string{"AUTHX_REFUSED=" + strings.TrimSpace(old.stdout)}, "token", "api", "--renew")
	if second.stdout != first.stdout || srv.Refreshes() != 1 {
		t.Errorf("a second --renew of the same refusal: %+v; %d refreshes, want %q from none", second, srv.Refreshes(), first.stdout)
	}
	if r := e.run("exec", "api", "--", "sh", "-c", `echo "$AUTHX_TOKEN"`); r.stdout != first.stdout {
		t.Errorf("exec after the renewal hands out %q, want the renewed %q", r.stdout, first.stdout)
	}
}

// 6 scripts running `authx curl P -- -sf URL` when the server revokes the
// token renew it once between them, and all get their answer.
func TestParallelWrappersRenewOnce(t *testing.T) {
	needTool(t, "curl")
	srv := startJWT(t, jwttest.Options{AccessTTL: time.Hour, Latency: 50 * time.Millisecond})
	e := jwtEnv(t, srv, genericLogin)
	if r := e.run("token", "api"); r.code != 0 {
		t.Fatalf("login: %+v", r)
	}
	srv.RevokeAccess()
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if r := e.run("curl", "api", "--", "-sf", srv.URL+"/api/me"); r.code != 0 || !strings.Contains(r.stdout, `"user":"alice"`) {
				t.Errorf("%+v", r)
			}
		})
	}
	wg.Wait()
	if srv.Refreshes() != 1 || srv.Logins() != 1 {
		t.Errorf("6 parallel curl after a revocation: %d refreshes, %d logins; want 1 and 1", srv.Refreshes(), srv.Logins())
	}
}

// TestRenewOfAnIrreplaceableCredentialFails: a static token the server
// refused cannot be renewed; --renew told which value was refused says so
// (exit 4) instead of printing it again, which would make a script's retry
// loop on a dead token.
func TestRenewOfAnIrreplaceableCredentialFails(t *testing.T) {
	e := newEnv(t).set("TK=st4tic-t0ken")
	e.config("profiles:\n  st:\n    scheme: jwt\n    url: https://api.example.com\n    config: {mode: static, token: env:TK}\n")
	if r := e.run("token", "st"); r.code != 0 || r.stdout != "st4tic-t0ken\n" {
		t.Fatalf("token: %+v", r)
	}
	r := e.runWith([]string{"AUTHX_REFUSED=st4tic-t0ken"}, "token", "st", "--renew")
	if r.code != 4 || r.stdout != "" || !strings.Contains(r.stderr, "replace it") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("--renew of a refused static token: %+v; want exit 4, one line saying to replace it", r)
	}
	if strings.Contains(r.stderr, "st4tic-t0ken") {
		t.Errorf("stderr shows the token: %q", r.stderr)
	}
}
