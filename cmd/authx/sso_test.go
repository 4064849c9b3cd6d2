//go:build linux

package main

// End-to-end tests of single sign-on (#11) against a real OpenID provider
// (panva oidc-provider under node) and a real headless browser (Debian's
// chromium through puppeteer-core), both from plugins/jwt/idptest. authx
// opens the browser through $BROWSER, as it would open the user's. Each
// test names the "Must show" point of the issue it shows. They skip, saying
// why, only when node, chromium or the IdP's node modules are missing
// (.ci/run installs them).

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/authx/authx/plugins/jwt/idptest"
)

// ssoAPI is the profiles' url: the API the tokens are for (never called).
const ssoAPI = "https://api.authx.test"

// ssoEnv is a user environment whose $BROWSER is b (nil: none) and whose
// config holds the given profiles (YAML under profiles:). The IdP's client
// secret is in $IDP_CLIENT_SECRET. Runs are non-interactive
// (AUTHX_NO_INPUT=1, no terminal) unless through runTTY.
func ssoEnv(t *testing.T, p *idptest.IdP, b *idptest.Browser, profiles string) *env {
	t.Helper()
	e := newEnv(t).set("IDP_CLIENT_SECRET=" + p.ClientSecret)
	if b != nil {
		e.set("BROWSER=" + b.Path)
	}
	e.config("profiles:\n" + profiles)
	return e
}

// oauth2Profile is a jwt profile named name in oauth2 mode against p's
// issuer, with the config lines given (one per line, unindented).
func oauth2Profile(name string, p *idptest.IdP, lines string) string {
	return fmt.Sprintf("  %s:\n    scheme: jwt\n    url: %s\n    config:\n      mode: oauth2\n      issuer: %s\n%s",
		name, ssoAPI, p.Issuer, indent(lines, "      "))
}

// The profiles the tests use, by flow.
const (
	// browserLogin: authorization code with PKCE, a public native client,
	// refresh tokens (offline_access needs prompt=consent at oidc-provider).
	browserLogin = `
grant: authorization_code
client_id: authx-native
client_auth: none
scope: [offline_access, profile]
prompt: consent
`
	// deviceLogin: the device flow, a public client.
	deviceLogin = `
grant: device_code
client_id: authx-device
client_auth: none
scope: [offline_access]
`
)

// ptyRun is authx running with a terminal: stdin and stderr are the slave
// side of a pseudo-terminal that is its controlling terminal (/dev/tty), so
// it is interactive; stdout is a pipe.
type ptyRun struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	mu     sync.Mutex
	tty    bytes.Buffer // what authx wrote on the terminal (stderr), \r removed
	done   chan struct{}
	code   int
}

// startTTY starts authx args in e with a terminal, without AUTHX_NO_INPUT.
func (e *env) startTTY(args ...string) *ptyRun {
	e.t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		e.t.Skipf("no pseudo-terminal: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		e.t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		e.t.Fatal(err)
	}
	slave, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	r := &ptyRun{done: make(chan struct{})}
	r.cmd = exec.Command(filepath.Join(binDir, "authx"), args...)
	for _, kv := range e.vars {
		if !strings.HasPrefix(kv, "AUTHX_NO_INPUT=") {
			r.cmd.Env = append(r.cmd.Env, kv)
		}
	}
	r.cmd.Env = append(r.cmd.Env, "TERM=dumb")
	r.cmd.Stdin, r.cmd.Stderr, r.cmd.Stdout = slave, slave, &r.stdout
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := r.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	slave.Close()
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			r.mu.Lock()
			r.tty.Write(bytes.ReplaceAll(buf[:n], []byte("\r"), nil))
			r.mu.Unlock()
			if err != nil { // EIO once authx and all holding the terminal are gone
				return
			}
		}
	}()
	go func() {
		err := r.cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
		} else if err != nil {
			r.code = -1
		}
		master.Close()
		close(r.done)
	}()
	e.t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

// terminal is what authx wrote on its terminal so far.
func (r *ptyRun) terminal() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tty.String()
}

// wait waits up to timeout for authx to exit and returns its result (the
// terminal's text as stderr); on timeout it kills authx and fails.
func (r *ptyRun) wait(t *testing.T, timeout time.Duration) result {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(timeout):
		r.cmd.Process.Kill()
		<-r.done
		t.Fatalf("authx %v did not finish within %v; terminal:\n%s", r.cmd.Args[1:], timeout, r.terminal())
	}
	time.Sleep(50 * time.Millisecond) // the terminal's last bytes
	return result{r.stdout.String(), r.terminal(), r.code}
}

// runTTY runs authx args in e with a terminal, for at most timeout.
func (e *env) runTTY(timeout time.Duration, args ...string) result {
	e.t.Helper()
	return e.startTTY(args...).wait(e.t, timeout)
}

// runNoTTY runs authx args in e in a session of its own: no controlling
// terminal, whatever the test's.
func (e *env) runNoTTY(args ...string) result {
	e.t.Helper()
	c := exec.Command(filepath.Join(binDir, "authx"), args...)
	c.Env = e.vars
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return runCmd(e.t, c)
}

// claimsOf decodes a JWT's header and claims (unverified).
func claimsOf(t *testing.T, token string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %.30q", token)
	}
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	c, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if json.Unmarshal(h, &header) != nil || json.Unmarshal(c, &claims) != nil {
		t.Fatalf("undecodable JWT %.30q", token)
	}
	return header, claims
}

// loginThroughBrowser runs `authx login NAME` with a terminal and checks
// that it completed through the browser, once.
func loginThroughBrowser(t *testing.T, e *env, p *idptest.IdP, b *idptest.Browser, name string) {
	t.Helper()
	start := time.Now()
	r := e.runTTY(30*time.Second, "login", name)
	runs := b.Runs(10 * time.Second)
	if r.code != 0 {
		t.Fatalf("authx login %s: exit %d\n%s\nbrowser runs: %+v", name, r.code, r.stderr, runs)
	}
	t.Logf("authx login %s through the browser took %v", name, time.Since(start).Round(time.Millisecond))
	opened := b.Opened()
	if len(opened) != 1 || !strings.HasPrefix(opened[0], p.Issuer+"/auth?") ||
		!strings.Contains(opened[0], "code_challenge_method=S256") || !strings.Contains(opened[0], "redirect_uri=http%3A%2F%2F127.0.0.1%3A") {
		t.Errorf("$BROWSER was given %q; want one authorization URL with PKCE S256 and a loopback redirect", opened)
	}
	if len(runs) != 1 || runs[0].Status != 0 || !strings.HasPrefix(runs[0].Out, "landed http://127.0.0.1:") {
		t.Errorf("browser runs %+v; want one that landed on the loopback redirect", runs)
	} else if _, page, _ := strings.Cut(runs[0].Out, "\npage: "); strings.TrimSpace(page) == "" {
		t.Errorf("the loopback landing page says nothing; it should say the login is done")
	} else {
		t.Logf("the landing page says: %s", page)
	}
	if n := p.CountEventually("grant.success", "authorization_code", 1); n != 1 {
		t.Errorf("%d authorization codes exchanged, want 1", n)
	}
}

// Must show 1: `authx login P` with grant: authorization_code and issuer:
// completes through the headless browser; `authx token P` then serves from
// the cache with no plugin process; after the access token expires it
// refreshes (rotation) with no browser.
func TestSSOBrowserLoginCachesAndRefreshes(t *testing.T) {
	const ttl = 4 * time.Second
	p := idptest.Start(t, idptest.Options{AccessTokenTTL: ttl})
	b := idptest.NewBrowser(t, p, idptest.BrowserOptions{})
	e := ssoEnv(t, p, b, oauth2Profile("sso", p, browserLogin))

	loginThroughBrowser(t, e, p, b, "sso")
	obtained := time.Now() // the access token's, at the latest

	cached := e.run("token", "sso", "--log-level", "debug")
	if cached.code != 0 || cached.stdout == "" || !strings.Contains(cached.stderr, "served from cache") || strings.Contains(cached.stderr, "plugin started") {
		t.Fatalf("authx token after login should come from the cache without a plugin: exit %d %q\n%s", cached.code, cached.stdout, cached.stderr)
	}

	// Past the access token's expiry: a refresh, non-interactive, no browser.
	for _, want := range []int{1, 2} {
		time.Sleep(time.Until(obtained.Add(ttl + 300*time.Millisecond)))
		obtained = time.Now()
		r := e.run("token", "sso")
		if r.code != 0 || r.stdout == cached.stdout {
			t.Fatalf("refresh %d: exit %d, same token %v\n%s", want, r.code, r.stdout == cached.stdout, r.stderr)
		}
		if n := p.CountEventually("grant.success", "refresh_token", want); n != want {
			t.Fatalf("%d refreshes at the IdP, want %d", n, want)
		}
		cached = r
	}
	// The IdP rotates refresh tokens and refuses a used one (revoking the
	// whole grant): a second refresh succeeding means the rotated one was
	// stored.
	if n := p.Count("refresh_token.consumed", ""); n != 2 {
		t.Errorf("%d refresh tokens consumed, want 2 (rotation)", n)
	}
	if n := p.Count("grant.error", ""); n != 0 {
		t.Errorf("token endpoint errors: %+v", p.Events())
	}
	if o := b.Opened(); len(o) != 1 {
		t.Errorf("the browser was opened %d times, want once (the login): %q", len(o), o)
	}
	if n := p.Count("grant.success", "authorization_code"); n != 1 {
		t.Errorf("%d logins, want 1", n)
	}
}

// deviceURL is where the user approves a device code: the
// verification_uri_complete authx showed, or the verification_uri with the
// user_code.
var (
	deviceCompleteRe = regexp.MustCompile(`http://127\.0\.0\.1:\d+/device\?user_code=[A-Z0-9-]+`)
	deviceURIRe      = regexp.MustCompile(`http://127\.0\.0\.1:\d+/device\b`)
	userCodeRe       = regexp.MustCompile(`\b[A-Z]{4}-[A-Z]{4}\b`)
)

// Must show 2: grant: device_code: the code and URL appear on stderr, the
// headless browser approves, the token is cached.
func TestSSODeviceLogin(t *testing.T) {
	p := idptest.Start(t, idptest.Options{})
	opener := idptest.NewBrowser(t, p, idptest.BrowserOptions{Inert: true}) // records, approves nothing
	user := idptest.NewBrowser(t, p, idptest.BrowserOptions{})
	e := ssoEnv(t, p, opener, oauth2Profile("dev", p, deviceLogin))

	start := time.Now()
	run := e.startTTY("login", "dev")
	var shown string
	for deadline := time.Now().Add(10 * time.Second); ; {
		shown = run.terminal()
		if userCodeRe.MatchString(shown) && deviceURIRe.MatchString(shown) {
			break
		}
		if time.Now().After(deadline) {
			r := run.wait(t, time.Second)
			t.Fatalf("no user code and verification URL on stderr within 10s: exit %d\n%s", r.code, r.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	code := userCodeRe.FindString(shown)
	if !strings.Contains(shown, p.Issuer+"/device") {
		t.Errorf("stderr lacks the verification_uri %s/device:\n%s", p.Issuer, shown)
	}
	visit := deviceCompleteRe.FindString(shown)
	if visit == "" {
		visit = p.Issuer + "/device?user_code=" + code
	}
	if out, err := user.Visit(context.Background(), visit); err != nil || out != "success" {
		t.Fatalf("approving %s: %q %v", visit, out, err)
	}
	r := run.wait(t, 20*time.Second) // oidc-provider sends no interval: authx polls every 5 s
	if r.code != 0 {
		t.Fatalf("authx login dev: exit %d\n%s", r.code, r.stderr)
	}
	t.Logf("device login took %v", time.Since(start).Round(time.Millisecond))
	if n := p.CountEventually("grant.success", idptest.DeviceCode, 1); n != 1 {
		t.Errorf("%d device codes exchanged, want 1", n)
	}
	cached := e.run("token", "dev", "--log-level", "debug")
	if cached.code != 0 || cached.stdout == "" || !strings.Contains(cached.stderr, "served from cache") || strings.Contains(cached.stderr, "plugin started") {
		t.Errorf("authx token after the device login should come from the cache: exit %d %q\n%s", cached.code, cached.stdout, cached.stderr)
	}
	if n := p.Count("grant.success", ""); n != 1 {
		t.Errorf("%d token requests answered, want 1", n)
	}
}

// Must show 3: in a non-interactive run with an empty cache both flows exit
// 3 within a second, open no browser, print the `authx login` hint.
func TestSSONonInteractiveFailsFast(t *testing.T) {
	p := idptest.Start(t, idptest.Options{})
	b := idptest.NewBrowser(t, p, idptest.BrowserOptions{Inert: true})
	profiles := oauth2Profile("sso", p, browserLogin) + oauth2Profile("dev", p, deviceLogin)
	var slowest time.Duration
	defer func() { t.Logf("slowest non-interactive failure: %v", slowest.Round(time.Millisecond)) }()
	for _, tc := range []struct {
		name string
		vars []string // beside no terminal
		args []string
	}{
		{"AUTHX_NO_INPUT", nil, nil},
		{"CI=true", []string{"CI=true"}, nil},
		{"--no-input", nil, []string{"--no-input"}},
		{"no terminal", nil, nil},
	} {
		for _, profile := range []string{"sso", "dev"} {
			t.Run(tc.name+"/"+profile, func(t *testing.T) {
				e := ssoEnv(t, p, b, profiles)
				if tc.name != "AUTHX_NO_INPUT" { // the others alone must suffice
					var vars []string
					for _, kv := range e.vars {
						if !strings.HasPrefix(kv, "AUTHX_NO_INPUT=") {
							vars = append(vars, kv)
						}
					}
					e.vars = vars
				}
				e.set(tc.vars...)
				for _, cmd := range [][]string{{"token", profile}, {"header", profile}} {
					start := time.Now()
					r := e.runNoTTY(append(cmd, tc.args...)...)
					took := time.Since(start)
					slowest = max(slowest, took)
					if r.code != 3 || took > time.Second || !strings.Contains(r.stderr, "run: authx login "+profile) {
						t.Errorf("authx %v: exit %d after %v; want exit 3 within 1s saying `run: authx login %s`:\n%s",
							cmd, r.code, took.Round(time.Millisecond), profile, r.stderr)
					}
				}
			})
		}
	}
	if o := b.Opened(); len(o) != 0 {
		t.Errorf("a browser was opened: %q", o)
	}
	for _, ev := range []string{"device_code.saved", "authorization.success", "interaction.ended", "grant.success"} {
		if n := p.Count(ev, ""); n != 0 {
			t.Errorf("the IdP saw %d %s; want nothing", n, ev)
		}
	}
}

// Must show 4 (private_key_jwt, resource): client credentials with a
// private_key_jwt client whose key is a secret reference; `resource`
// selects the access token's audience (oidc-provider ignores `audience`).
func TestSSOPrivateKeyJWTAndResource(t *testing.T) {
	p := idptest.Start(t, idptest.Options{})
	keyFile := filepath.Join(t.TempDir(), "client.pem")
	if err := os.WriteFile(keyFile, p.ClientKeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf(`
client_id: authx-jwt
client_auth: private_key_jwt
client_assertion_key: file:%s
scope: [api:read]
`, keyFile)
	e := ssoEnv(t, p, nil,
		oauth2Profile("api", p, key+"resource: ["+p.Resources[0]+"]")+
			oauth2Profile("other", p, key+"resource: ["+p.Resources[1]+"]\naudience: [https://ignored.example]"))
	for i, name := range []string{"api", "other"} {
		r := e.run("token", name)
		if r.code != 0 {
			t.Fatalf("authx token %s: exit %d\n%s", name, r.code, r.stderr)
		}
		header, claims := claimsOf(t, r.stdout)
		if header["typ"] != "at+jwt" || claims["aud"] != p.Resources[i] || claims["client_id"] != idptest.KeyClientID || claims["iss"] != p.Issuer {
			t.Errorf("%s: token header %v claims %v; want typ at+jwt, aud %s, client_id %s", name, header, claims, p.Resources[i], idptest.KeyClientID)
		}
	}
	// A second assertion has a new jti: the IdP takes each once.
	if r := e.run("login", "api"); r.code != 0 {
		t.Errorf("second login with private_key_jwt: exit %d\n%s", r.code, r.stderr)
	}
	if n := p.CountEventually("grant.success", "client_credentials", 3); n != 3 {
		t.Errorf("%d client_credentials grants, want 3; events %+v", n, p.Events())
	}
}

// Must show 4 (token exchange): grant: token_exchange whose subject_token
// is another profile's access token (profile:NAME) gets a token for another
// resource, for the same subject.
func TestSSOTokenExchangeFromProfile(t *testing.T) {
	p := idptest.Start(t, idptest.Options{})
	e := ssoEnv(t, p, nil,
		oauth2Profile("base", p, `
client_id: authx-secret
client_secret: env:IDP_CLIENT_SECRET
resource: [`+p.Resources[0]+`]
`)+oauth2Profile("exchanged", p, `
grant: token_exchange
client_id: authx-post
client_secret: env:IDP_CLIENT_SECRET
client_auth: body
subject_token: profile:base
resource: [`+p.Resources[1]+`]
`))
	r := e.run("token", "exchanged")
	if r.code != 0 {
		t.Fatalf("authx token exchanged: exit %d\n%s", r.code, r.stderr)
	}
	_, claims := claimsOf(t, r.stdout)
	if claims["aud"] != p.Resources[1] || claims["sub"] != idptest.SecretClientID || claims["client_id"] != idptest.PostClientID {
		t.Errorf("exchanged token claims %v; want aud %s, sub %s (the subject token's), client_id %s", claims, p.Resources[1], idptest.SecretClientID, idptest.PostClientID)
	}
	if n := p.CountEventually("grant.success", idptest.TokenExchange, 1); n != 1 {
		t.Errorf("%d token exchanges, want 1", n)
	}
	if n := p.Count("grant.success", "client_credentials"); n != 1 {
		t.Errorf("%d subject tokens obtained, want 1 (the base profile's)", n)
	}
	base := e.run("token", "base")
	if base.code != 0 {
		t.Fatalf("authx token base: exit %d\n%s", base.code, base.stderr)
	}
	if _, c := claimsOf(t, base.stdout); c["aud"] != p.Resources[0] {
		t.Errorf("the base profile's token has aud %v, want %s", c["aud"], p.Resources[0])
	}
	if n := p.Count("grant.success", "client_credentials"); n != 1 {
		t.Errorf("the base profile's token was not cached by the exchange: %d client_credentials grants", n)
	}
}

// Must show 4 (--id-token, revocation at logout): after a browser login,
// `authx token P --id-token` prints the validated id_token (also from the
// cache, with no plugin); `authx logout P` revokes at the revocation
// endpoint, after which no token is served without a new login.
func TestSSOIDTokenAndLogoutRevokes(t *testing.T) {
	p := idptest.Start(t, idptest.Options{})
	b := idptest.NewBrowser(t, p, idptest.BrowserOptions{})
	e := ssoEnv(t, p, b, oauth2Profile("sso", p, browserLogin))
	loginThroughBrowser(t, e, p, b, "sso")

	r := e.run("token", "sso", "--id-token", "--log-level", "debug")
	if r.code != 0 {
		t.Fatalf("authx token --id-token: exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "plugin started") {
		t.Errorf("--id-token started a plugin; the cache holds the id_token:\n%s", r.stderr)
	}
	header, claims := claimsOf(t, r.stdout)
	if header["typ"] == "at+jwt" || claims["iss"] != p.Issuer || claims["aud"] != idptest.NativeClientID || claims["sub"] != p.User || claims["nonce"] == nil {
		t.Errorf("id_token header %v claims %v; want iss %s, aud %s, sub %s, a nonce", header, claims, p.Issuer, idptest.NativeClientID, p.User)
	}
	if at := e.run("token", "sso"); at.code != 0 || at.stdout == r.stdout {
		t.Errorf("authx token (the access token) gave the id_token or failed: exit %d", at.code)
	}

	out := e.run("logout", "sso")
	if out.code != 0 {
		t.Fatalf("authx logout: exit %d\n%s", out.code, out.stderr)
	}
	if n := p.CountEventually("revocation.success", "", 1); n < 1 {
		t.Fatalf("no revocation at the IdP: %+v", p.Events())
	}
	if p.CountEventually("refresh_token.destroyed", "", 1) != 1 || p.CountEventually("grant.revoked", "", 1) != 1 {
		t.Errorf("logout did not revoke the refresh token (and with it the grant): %+v", p.Events())
	}
	if r := e.run("token", "sso"); r.code != 3 || !strings.Contains(r.stderr, "run: authx login sso") {
		t.Errorf("after logout: exit %d, want 3 and the login hint:\n%s", r.code, r.stderr)
	}
	if o := b.Opened(); len(o) != 1 {
		t.Errorf("the browser was opened %d times, want once", len(o))
	}
}

// Must show 5: 20 parallel `authx token P` with an expired access token →
// exactly one refresh at the IdP.
func TestSSOConcurrentRefreshOnce(t *testing.T) {
	const ttl = 3 * time.Second
	p := idptest.Start(t, idptest.Options{AccessTokenTTL: ttl})
	b := idptest.NewBrowser(t, p, idptest.BrowserOptions{})
	e := ssoEnv(t, p, b, oauth2Profile("sso", p, browserLogin))
	loginThroughBrowser(t, e, p, b, "sso")
	time.Sleep(ttl + 300*time.Millisecond)

	var mu sync.Mutex
	var wg sync.WaitGroup
	seen := map[string]int{}
	start := time.Now()
	for range 20 {
		wg.Go(func() {
			r := e.run("token", "sso")
			mu.Lock()
			defer mu.Unlock()
			if r.code != 0 {
				t.Errorf("exit %d: %s", r.code, r.stderr)
			}
			seen[r.stdout]++
		})
	}
	wg.Wait()
	t.Logf("20 parallel authx token after expiry took %v", time.Since(start).Round(time.Millisecond))
	time.Sleep(200 * time.Millisecond) // a stray second refresh would be counted
	if n := p.Count("grant.success", "refresh_token"); n != 1 || len(seen) != 1 {
		t.Errorf("20 parallel after expiry: %d refreshes at the IdP, %d distinct tokens; want 1 and 1", n, len(seen))
	}
	if n := p.Count("grant.error", ""); n != 0 {
		t.Errorf("token endpoint errors (a reused refresh token revokes the grant): %+v", p.Events())
	}
	if o := b.Opened(); len(o) != 1 {
		t.Errorf("the browser was opened %d times, want once", len(o))
	}
}

// What to build 2 (beside the must-shows): the user refusing consent at the
// IdP (error=access_denied on the redirect) is a clear one-line error, and
// nothing is cached.
func TestSSOBrowserLoginDenied(t *testing.T) {
	p := idptest.Start(t, idptest.Options{})
	b := idptest.NewBrowser(t, p, idptest.BrowserOptions{Deny: true})
	e := ssoEnv(t, p, b, oauth2Profile("sso", p, browserLogin))
	start := time.Now()
	r := e.runTTY(30*time.Second, "login", "sso")
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	last := lines[len(lines)-1]
	if r.code == 0 || !strings.Contains(last, "access_denied") && !strings.Contains(strings.ToLower(last), "denied") {
		t.Errorf("a refused consent: exit %d after %v; want a failure whose one line says access was denied:\n%s",
			r.code, time.Since(start).Round(time.Millisecond), r.stderr)
	}
	if n := p.Count("grant.success", ""); n != 0 {
		t.Errorf("%d tokens issued after a refusal", n)
	}
	if r := e.run("token", "sso"); r.code != 3 {
		t.Errorf("after a refused login: exit %d, want 3 (nothing cached)", r.code)
	}
}
