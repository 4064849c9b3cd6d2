package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/tlsconfig"
	"github.com/authx/authx/plugins/jenkins/jenkinstest"
	"github.com/authx/authx/plugins/jwt/jwttest"
)

// Issue 11, point 8: a profile's ca_file, client_cert and client_key
// apply to the requests authx makes for it, not only to the plugin's.

// mtlsAPI is an API behind mutual TLS with a private CA: it answers
// "hello CN" to a client certificate of the CA that sends the bearer token
// (401 without it), and refuses the handshake without a certificate.
func mtlsAPI(t *testing.T, pki *jwttest.PKI, token string) *httptest.Server {
	return mtlsAPIWith(t, pki, "Bearer "+token)
}

// mtlsAPIWith is mtlsAPI wanting the Authorization header authorization.
func mtlsAPIWith(t *testing.T, pki *jwttest.PKI, authorization string) *httptest.Server {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != authorization {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "hello %s\n", r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	srv.TLS = pki.ServerTLS()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// tlsEnv is an environment whose profile "api" is a static jwt token for
// url with the PKI's ca_file, client_cert and client_key (file:), and
// whose profile "bare" is the same without them. TMPDIR is an empty
// directory of its own.
func tlsEnv(t *testing.T, pki *jwttest.PKI, url string) (*env, string) {
	e := newEnv(t)
	dir := filepath.Join(e.home, "pki")
	tmp := filepath.Join(e.home, "tmp")
	os.MkdirAll(dir, 0o700)
	os.MkdirAll(tmp, 0o700)
	for name, b := range map[string][]byte{"ca.pem": pki.CAPEM, "client.pem": pki.ClientPEM, "client.key": pki.ClientKey} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e.set("API_TOKEN=static-token-1", "TMPDIR="+tmp)
	e.config(`profiles:
  api:
    scheme: jwt
    url: ` + url + `
    config:
      mode: static
      token: env:API_TOKEN
      ca_file: ~/pki/ca.pem
      client_cert: ` + filepath.Join(dir, "client.pem") + `
      client_key: file:` + filepath.Join(dir, "client.key") + `
  bare:
    scheme: jwt
    url: ` + url + `
    config: {mode: static, token: env:API_TOKEN}
`)
	return e, tmp
}

func TestRequestProfileTLS(t *testing.T) {
	pki, err := jwttest.NewPKI("script-client")
	if err != nil {
		t.Fatal(err)
	}
	srv := mtlsAPI(t, pki, "static-token-1")
	e, tmp := tlsEnv(t, pki, srv.URL)
	for _, run := range []string{"login", "cached"} { // the second serves the token from the cache
		r := e.run("--log-level", "debug", "request", "api", "GET", srv.URL+"/x")
		if r.code != 0 || r.stdout != "hello script-client\n" {
			t.Fatalf("%s: request api: %+v", run, r)
		}
		if strings.Contains(r.stderr, "PRIVATE KEY") || strings.Contains(r.stderr, string(pki.ClientKey[40:80])) {
			t.Fatalf("%s: the key in the log:\n%s", run, r.stderr)
		}
		if started := strings.Contains(r.stderr, "plugin ready"); started != (run == "login") {
			t.Fatalf("%s: plugin started %v:\n%s", run, started, r.stderr)
		}
	}
	r := e.run("request", "bare", "GET", srv.URL+"/x")
	if r.code != 5 || !strings.Contains(r.stderr, "certificate signed by unknown authority") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Fatalf("without the settings: %+v", r)
	}
	if names := entries(t, tmp); len(names) != 0 {
		t.Fatalf("files left in TMPDIR: %v", names)
	}
}

// A profile whose settings are wrong says which, in one line naming the
// file and key, exit 2, without quoting the key.
func TestRequestProfileTLSErrors(t *testing.T) {
	pki, err := jwttest.NewPKI("script-client")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := jwttest.NewPKI("script-client")
	srv := mtlsAPI(t, pki, "static-token-1")
	e, _ := tlsEnv(t, pki, srv.URL)
	os.WriteFile(filepath.Join(e.home, "pki", "other.key"), other.ClientKey, 0o600)
	fields := map[string]string{"ca_file": "~/pki/ca.pem", "client_cert": "~/pki/client.pem", "client_key": "file:~/pki/client.key"}
	tests := []struct{ name, key, value, want string }{
		{"no ca_file", "ca_file", "~/pki/nope.pem", "profiles.api.config.ca_file: " + filepath.Join(e.home, "pki", "nope.pem") + ": cannot read it: no such file or directory"},
		{"a key of another certificate", "client_key", "file:~/pki/other.key", "profiles.api.config.client_cert, client_key: the private key does not match the certificate"},
		{"no key", "client_key", "", "profiles.api.config.client_key: client_cert and client_key go together"},
		{"a missing key file", "client_key", "file:~/pki/none.key", "profiles.api.config.client_key in "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := "profiles:\n  api:\n    scheme: jwt\n    url: " + srv.URL + "\n    config:\n      mode: static\n      token: env:API_TOKEN\n"
			for _, k := range []string{"ca_file", "client_cert", "client_key"} {
				v := fields[k]
				if k == tt.key {
					v = tt.value
				}
				if v != "" {
					cfg += "      " + k + ": " + v + "\n"
				}
			}
			e.config(cfg)
			r := e.run("request", "api", "GET", srv.URL+"/x")
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) || strings.Contains(r.stderr, "PRIVATE KEY") {
				t.Fatalf("%+v", r)
			}
		})
	}
}

// toolShim puts a script named tool first on e's PATH: it records its
// arguments (in log) and what TMPDIR holds while it runs (in log.tmp), then runs the real tool
// with the same arguments and inherited descriptors.
func toolShim(t *testing.T, e *env, tool string) (log string) {
	real, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("%s is not installed (.ci/run installs it)", tool)
	}
	dir := filepath.Join(e.home, "shim")
	os.MkdirAll(dir, 0o700)
	log = filepath.Join(e.home, tool+".log")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + log + "\nls -A \"$TMPDIR\" > " + log + ".tmp\nexec " + real + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, tool), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	for i, v := range e.vars {
		if strings.HasPrefix(v, "PATH=") {
			e.vars[i] = "PATH=" + dir + ":" + strings.TrimPrefix(v, "PATH=")
		}
	}
	return log
}

// curl and wget present the client certificate and trust the CA; the key
// reaches them through an inherited descriptor, never argv or a file.
func TestWrappersProfileTLS(t *testing.T) {
	pki, err := jwttest.NewPKI("script-client")
	if err != nil {
		t.Fatal(err)
	}
	srv := mtlsAPI(t, pki, "static-token-1")
	keyChunk := string(pki.ClientKey[40:80])
	for _, tool := range []string{"curl", "wget"} {
		t.Run(tool, func(t *testing.T) {
			e, tmp := tlsEnv(t, pki, srv.URL)
			log := toolShim(t, e, tool)
			args := map[string][]string{
				"curl": {"curl", "api", "--", "-sS", srv.URL + "/x"},
				"wget": {"wget", "api", "--", "-qO-", srv.URL + "/x"},
			}[tool]
			r := e.run(args...)
			if r.code != 0 || r.stdout != "hello script-client\n" {
				t.Fatalf("%s: %+v", tool, r)
			}
			seen, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(seen), "PRIVATE KEY") || strings.Contains(string(seen), keyChunk) || strings.Contains(string(seen), "static-token-1") {
				t.Fatalf("a secret in %s's argv or TMPDIR:\n%s", tool, seen)
			}
			if during, err := os.ReadFile(log + ".tmp"); err != nil || len(during) != 0 {
				t.Fatalf("TMPDIR while %s ran: %q %v", tool, during, err)
			}
			if names := entries(t, tmp); len(names) != 0 {
				t.Fatalf("files left in TMPDIR: %v", names)
			}
			r = e.run(append([]string{args[0], "bare"}, args[2:]...)...)
			if r.code == 0 {
				t.Fatalf("%s without the settings: %+v", tool, r)
			}
		})
	}
}

// client_key's secret reference is resolved once per run, shared by the
// host's TLS settings and the plugin's config: a cmd: runs once, even when
// the run logs in (cold cache) and sends the request.
func TestProfileTLSKeyResolvedOnce(t *testing.T) {
	pki, err := jwttest.NewPKI("script-client")
	if err != nil {
		t.Fatal(err)
	}
	srv := mtlsAPI(t, pki, "static-token-1")
	e, _ := tlsEnv(t, pki, srv.URL)
	counter := filepath.Join(e.home, "runs")
	e.config(`profiles:
  api:
    scheme: jwt
    url: ` + srv.URL + `
    config:
      mode: static
      token: env:API_TOKEN
      ca_file: ~/pki/ca.pem
      client_cert: ~/pki/client.pem
      client_key: "cmd:echo run >> ` + counter + `; cat ` + filepath.Join(e.home, "pki", "client.key") + `"
`)
	for i := 1; i <= 2; i++ { // a login, then from the cache
		if r := e.run("request", "api", "GET", srv.URL+"/x"); r.code != 0 || r.stdout != "hello script-client\n" {
			t.Fatalf("request %d: %+v", i, r)
		}
		if runs, _ := os.ReadFile(counter); strings.Count(string(runs), "run") != i {
			t.Fatalf("after request %d the key command ran %d times", i, strings.Count(string(runs), "run"))
		}
	}
}

// The wrappers' probe after a refusal goes over the profile's TLS
// settings: without them it could not reach an mTLS server, and the
// refusal would never be seen.
func TestProbeUsesProfileTLS(t *testing.T) {
	pki, err := jwttest.NewPKI("script-client")
	if err != nil {
		t.Fatal(err)
	}
	srv := mtlsAPI(t, pki, "the-good-token")
	dir := t.TempDir()
	ca, cert := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "client.pem")
	os.WriteFile(ca, pki.CAPEM, 0o600)
	os.WriteFile(cert, pki.ClientPEM, 0o600)
	l, err := tlsconfig.Load(ca, cert, string(pki.ClientKey))
	if err != nil {
		t.Fatal(err)
	}
	stale := &core.Credential{Token: "stale", Headers: []core.Header{{Name: "Authorization", Value: "Bearer stale"}}}
	req := toolRequest{URL: srv.URL + "/x"}
	scope := []string{srv.URL + "/"}
	resp, err := probe(context.Background(), stale, scope, req, profileTransport(5*time.Second, l))
	if err != nil || resp == nil || resp.Status != http.StatusUnauthorized {
		t.Fatalf("probe with the settings: %+v %v", resp, err)
	}
	if resp, err := probe(context.Background(), stale, scope, req, profileTransport(5*time.Second, nil)); err == nil || resp != nil {
		t.Fatalf("probe without the settings: %+v %v", resp, err)
	}
}

// Any scheme that declares the fields gets them: basic makes no request of
// its own, and declares them for authx's.
func TestBasicProfileTLS(t *testing.T) {
	pki, err := jwttest.NewPKI("basic-client")
	if err != nil {
		t.Fatal(err)
	}
	srv := mtlsAPIWith(t, pki, "Basic YWxpY2U6czNjcmV0") // alice:s3cret
	e, _ := tlsEnv(t, pki, srv.URL)
	e.set("API_PW=s3cret")
	e.config(`profiles:
  api:
    scheme: basic
    url: ` + srv.URL + `
    config: {username: alice, password: env:API_PW, ca_file: ~/pki/ca.pem, client_cert: ~/pki/client.pem, client_key: "file:~/pki/client.key"}
  half:
    scheme: basic
    url: ` + srv.URL + `
    config: {username: alice, password: env:API_PW, client_cert: ~/pki/client.pem}
`)
	if r := e.run("request", "api", "GET", srv.URL+"/x"); r.code != 0 || r.stdout != "hello basic-client\n" {
		t.Fatalf("request api: %+v", r)
	}
	if r := e.run("request", "half", "GET", srv.URL+"/x"); r.code != 2 || !strings.Contains(r.stderr, "client_cert and client_key go together") {
		t.Fatalf("request half: %+v", r)
	}
}

// jenkins applies the settings to its own requests (the crumb a password
// login fetches) and authx to the build request.
func TestJenkinsProfileTLS(t *testing.T) {
	pki, err := jwttest.NewPKI("ci-client")
	if err != nil {
		t.Fatal(err)
	}
	srv := startJenkins(t, jenkinstest.Options{Jobs: ciJobs, TLS: pki.ServerTLS()})
	e, _ := tlsEnv(t, pki, srv.URL)
	e.set("JENKINS_PW=admin-pw")
	e.config(`profiles:
  ci:
    scheme: jenkins
    url: ` + srv.URL + `
    config: {user: admin, password: env:JENKINS_PW, ca_file: ~/pki/ca.pem, client_cert: ~/pki/client.pem, client_key: "file:~/pki/client.key"}
  bare:
    scheme: jenkins
    url: ` + srv.URL + `
    config: {user: admin, password: env:JENKINS_PW}
`)
	if r := e.run("request", "ci", "POST", "/job/x/build", "-i", "--fail"); r.code != 0 || !strings.HasPrefix(r.stdout, "HTTP/1.1 201") {
		t.Fatalf("build: %+v", r)
	}
	if r := e.run("request", "bare", "POST", "/job/x/build"); r.code != 5 || !strings.Contains(r.stderr, "crumbIssuer") || !strings.Contains(r.stderr, "certificate signed by unknown authority") {
		t.Fatalf("without the settings: %+v", r)
	}
}
