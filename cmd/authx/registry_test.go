package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authx/authx/plugins/jwt/jwttest"
)

var buildHelperOnce sync.Once

// dockerHelperDir returns a directory holding docker-credential-authx
// beside authx-cli and authx, as `make install` lays them out: a copy of
// the test binaries plus the helper, built once.
func dockerHelperDir(t *testing.T) string {
	t.Helper()
	helper := filepath.Join(binDir, dockerHelperName)
	buildHelperOnce.Do(func() {
		out, err := exec.Command("go", "build", "-o", helper, "../docker-credential-authx").CombinedOutput()
		if err != nil {
			t.Fatalf("building %s: %v\n%s", dockerHelperName, err, out)
		}
	})
	if _, err := os.Stat(helper); err != nil {
		t.Fatal(err)
	}
	return binDir
}

// registry is Debian's docker-registry (distribution 2.8) on 127.0.0.1
// over TLS with a test CA, requiring htpasswd (bcrypt) Basic credentials.
type registry struct {
	host    string // 127.0.0.1:PORT
	certDir string // ca.crt, for skopeo's --*-cert-dir
}

func startRegistry(t *testing.T, user, password string) *registry {
	t.Helper()
	bin := needProgram(t, "docker-registry", "docker-registry")
	htpasswd := needProgram(t, "htpasswd", "apache2-utils")
	dir := t.TempDir()
	pki, err := jwttest.NewPKI("unused")
	if err != nil {
		t.Fatal(err)
	}
	certDir := filepath.Join(dir, "certs")
	os.MkdirAll(certDir, 0o700)
	files := map[string][]byte{"certs/ca.crt": pki.CAPEM, "server.crt": pki.ServerPEM, "server.key": pki.ServerKey}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(htpasswd, "-Bbn", user, password).Output()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "htpasswd"), out, 0o600)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := l.Addr().String()
	l.Close()
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog: {disabled: true}
storage:
  filesystem: {rootdirectory: %s}
http:
  addr: %s
  secret: authx-test-secret
  tls: {certificate: %s, key: %s}
auth:
  htpasswd: {realm: authx-test, path: %s}
`, filepath.Join(dir, "data"), host, filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"), filepath.Join(dir, "htpasswd"))
	cfgPath := filepath.Join(dir, "config.yml")
	os.WriteFile(cfgPath, []byte(cfg), 0o600)
	var logs bytes.Buffer
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pki.CAPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: time.Second}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		res, err := client.Get("https://" + host + "/v2/")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 401 { // up, and asking for credentials
				break
			}
			t.Fatalf("registry /v2/ without credentials: %s", res.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry did not start: %v\n%s", err, logs.String())
		}
	}
	return &registry{host: host, certDir: certDir}
}

// ociImage writes a one-layer OCI image layout tagged latest in dir.
func ociImage(t *testing.T, dir string) {
	t.Helper()
	var layer, gz bytes.Buffer
	tw := tar.NewWriter(&layer)
	body := []byte("hello from authx\n")
	tw.WriteHeader(&tar.Header{Name: "hello.txt", Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(1700000000, 0)})
	tw.Write(body)
	tw.Close()
	zw := gzip.NewWriter(&gz)
	zw.Write(layer.Bytes())
	zw.Close()
	blob := func(data []byte) (string, int) {
		sum := sha256.Sum256(data)
		h := hex.EncodeToString(sum[:])
		p := filepath.Join(dir, "blobs", "sha256", h)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return "sha256:" + h, len(data)
	}
	diffID := sha256.Sum256(layer.Bytes())
	layerDigest, layerSize := blob(gz.Bytes())
	config, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux", "config": map[string]any{},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + hex.EncodeToString(diffID[:])}}})
	configDigest, configSize := blob(config)
	manifest, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": configDigest, "size": configSize},
		"layers": []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layerDigest, "size": layerSize}}})
	manifestDigest, manifestSize := blob(manifest)
	index, _ := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []any{map[string]any{
		"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifestDigest, "size": manifestSize,
		"annotations": map[string]string{"org.opencontainers.image.ref.name": "latest"}}}})
	os.WriteFile(filepath.Join(dir, "index.json"), index, 0o644)
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}

// skopeo runs skopeo in e, with authx's helper on PATH and an auth file
// whose credHelpers send reg to it.
func skopeo(e *env, reg *registry, args ...string) result {
	e.t.Helper()
	auth := filepath.Join(e.home, "auth.json")
	os.WriteFile(auth, []byte(fmt.Sprintf(`{"credHelpers":{%q:"authx"}}`, reg.host)), 0o600)
	c := exec.Command("skopeo", append([]string{"--insecure-policy"}, args...)...)
	c.Env = append(append([]string(nil), e.vars...), "REGISTRY_AUTH_FILE="+auth)
	for i, v := range c.Env {
		if strings.HasPrefix(v, "PATH=") {
			c.Env[i] = "PATH=" + dockerHelperDir(e.t) + string(os.PathListSeparator) + strings.TrimPrefix(v, "PATH=")
		}
	}
	return runCmd(e.t, c)
}

// Must show 3 (registry): skopeo pushes an image to and pulls it from
// docker-registry with docker-credential-authx as the only credential
// source (a basic profile whose password comes from the environment), and
// skopeo logout erases the cached credential; with a password the registry
// refuses, skopeo fails with its own error and no secret is printed; with
// no profile, the protocol's miss; with a login that needs the user,
// authx's one line.
func TestRegistryPushPull(t *testing.T) {
	needProgram(t, "skopeo", "skopeo")
	reg := startRegistry(t, "alice", "reg-s3cret-pw")
	e := newEnv(t).set("REG_PW=reg-s3cret-pw")
	e.config(fmt.Sprintf("profiles:\n  reg:\n    scheme: basic\n    match: [https://%s/]\n    config:\n      username: alice\n      password: env:REG_PW\n", reg.host))
	src := filepath.Join(e.home, "src")
	ociImage(t, src)
	ref := "docker://" + reg.host + "/authx/hello:v1"

	push := skopeo(e, reg, "copy", "--dest-cert-dir", reg.certDir, "oci:"+src+":latest", ref)
	if push.code != 0 {
		t.Fatalf("push: %+v", push)
	}
	out := filepath.Join(e.home, "pulled")
	pull := skopeo(e, reg, "copy", "--src-cert-dir", reg.certDir, ref, "oci:"+out+":latest")
	if pull.code != 0 {
		t.Fatalf("pull: %+v", pull)
	}
	if _, err := os.Stat(filepath.Join(out, "index.json")); err != nil {
		t.Fatalf("pulled image: %v", err)
	}

	// skopeo logout runs the helper's erase: the cached credential is gone.
	credentialOf := func() string {
		st := e.run("status")
		for _, l := range strings.Split(st.stdout, "\n") {
			if f := strings.Fields(l); len(f) >= 4 && f[0] == "reg" { // PROFILE SCHEME STORE CREDENTIAL ...
				return f[3]
			}
		}
		t.Fatalf("status: %+v", st)
		return ""
	}
	if c := credentialOf(); c == "none" {
		t.Fatal("status shows no cached credential after the pull")
	}
	if r := skopeo(e, reg, "logout", reg.host); r.code != 0 || credentialOf() != "none" {
		t.Fatalf("skopeo logout: %+v; status shows %s, want none", r, credentialOf())
	}

	// A user whose password the registry refuses (its own cache).
	bad := newEnv(t).set("REG_PW=wrong-password")
	bad.config(fmt.Sprintf("profiles:\n  reg:\n    scheme: basic\n    match: [https://%s/]\n    config:\n      username: alice\n      password: env:REG_PW\n", reg.host))
	r := skopeo(bad, reg, "copy", "--src-cert-dir", reg.certDir, ref, "oci:"+filepath.Join(bad.home, "refused")+":latest")
	if r.code == 0 || !strings.Contains(r.stderr, "unauthorized: authentication required") || strings.Contains(r.stdout+r.stderr, "wrong-password") {
		t.Fatalf("refused: %+v; want skopeo's own authentication error", r)
	}
	c := exec.Command(filepath.Join(dockerHelperDir(t), dockerHelperName), "get")
	c.Env, c.Stdin = bad.vars, strings.NewReader(reg.host)
	if got := runCmd(t, c); !strings.Contains(got.stdout, `"Username":"alice","Secret":"wrong-password"`) {
		t.Fatalf("the refused credentials were not authx's: %+v", got)
	}

	// No profile for the registry: the protocol's miss, and skopeo goes on
	// without credentials, which the registry refuses.
	none := newEnv(t)
	none.config("profiles:\n  other:\n    scheme: basic\n    match: [https://elsewhere.example/]\n    config: {username: a, password: b}\n")
	r = skopeo(none, reg, "copy", "--src-cert-dir", reg.certDir, ref, "oci:"+filepath.Join(none.home, "anon")+":latest")
	if r.code == 0 || !strings.Contains(r.stderr, "unauthorized: authentication required") || strings.Contains(r.stderr, "authx:") {
		t.Fatalf("no profile: %+v; want skopeo's own authentication error", r)
	}

	// A login that needs the user, in a run without one: skopeo's error
	// quoting the helper, and authx's one line.
	ask := newEnv(t)
	ask.config(fmt.Sprintf("profiles:\n  reg:\n    scheme: basic\n    match: [https://%s/]\n    config:\n      username: alice\n      password: \"prompt:\"\n", reg.host))
	r = skopeo(ask, reg, "copy", "--src-cert-dir", reg.certDir, ref, "oci:"+filepath.Join(ask.home, "ask")+":latest")
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if r.code == 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], `authx: profile "reg": `) || !strings.Contains(lines[1], "error getting credentials - err: exit status 3") {
		t.Fatalf("login required: %+v; want authx's one line and skopeo's error", r)
	}
}

// docker-credential-authx speaks the protocol as docker-credential-helpers
// does: get's JSON (Basic credentials as user and password, a token as an
// identity token), the miss, erase, store refused, list, version, usage
// errors; every error on stdout with a non-zero exit, nothing but the
// answer on stdout.
func TestDockerCredentialHelper(t *testing.T) {
	helper := filepath.Join(dockerHelperDir(t), dockerHelperName)
	e := newEnv(t).set("REG_PW=pw:with:colons", "TOK=static-registry-token")
	e.config(`profiles:
  reg:
    scheme: basic
    match: [https://127.0.0.1:5000/]
    config: {username: alice, password: env:REG_PW}
  quay:
    scheme: jwt
    match: [https://quay.example/v2/team/]
    config: {mode: static, token: env:TOK}
  plain:
    scheme: basic
    match: [http://localhost:5001/]
    config: {username: bob, password: env:REG_PW}
`)
	helperRun := func(stdin string, args ...string) result {
		c := exec.Command(helper, args...)
		c.Env, c.Stdin = e.vars, strings.NewReader(stdin)
		return runCmd(t, c)
	}
	for _, tt := range []struct {
		stdin, action string
		code          int
		stdout        string
	}{
		{"127.0.0.1:5000\n", "get", 0, `{"ServerURL":"127.0.0.1:5000","Username":"alice","Secret":"pw:with:colons"}` + "\n"},
		{"quay.example/team", "get", 0, `{"ServerURL":"quay.example/team","Username":"<token>","Secret":"static-registry-token"}` + "\n"},
		{"localhost:5001", "get", 0, `{"ServerURL":"localhost:5001","Username":"bob","Secret":"pw:with:colons"}` + "\n"},
		{"quay.example", "get", 1, "credentials not found in native keychain\n"},
		{"127.0.0.1:5001", "get", 1, "credentials not found in native keychain\n"},
		{"", "get", 1, "no credentials server URL\n"},
		{"127.0.0.1:5000\r\nX: y", "get", 2, ""},
		{"", "list", 0, "{}\n"},
		{`{"ServerURL":"127.0.0.1:5000","Username":"alice","Secret":"x"}`, "store", 10, ""},
		{`{"ServerURL":"127.0.0.1:5000"}`, "store", 1, "no credentials username\n"},
		{"", "frobnicate", 1, "Unknown credential action `frobnicate`\n"},
		{"127.0.0.1:5000", "erase", 0, ""},
		{"127.0.0.1:5000", "erase", 1, "credentials not found in native keychain\n"},
	} {
		r := helperRun(tt.stdin, tt.action)
		if r.code != tt.code || tt.stdout != "" && r.stdout != tt.stdout || strings.Count(r.stdout, "\n") > 1 {
			t.Errorf("%s %q: %+v; want exit %d, stdout %q", tt.action, tt.stdin, r, tt.code, tt.stdout)
		}
		if tt.code != 0 && strings.Contains(r.stderr, "pw:with:colons") {
			t.Errorf("%s %q: the secret on stderr: %q", tt.action, tt.stdin, r.stderr)
		}
	}
	if r := helperRun("", "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "docker-credential-authx (github.com/authx/authx) ") {
		t.Errorf("version: %+v", r)
	}
	if r := helperRun(""); r.code != 1 || r.stdout != "Usage: docker-credential-authx <store|get|erase|list|version>\n" {
		t.Errorf("no action: %+v", r)
	}
}

// A tool that keeps stdin open does not hold the helper: get gives up
// after toolInputTimeout with one line and exit 2 (nothing obtained).
func TestDockerCredentialStdinBoundedInTime(t *testing.T) {
	helper := filepath.Join(dockerHelperDir(t), dockerHelperName)
	e := newEnv(t)
	e.config("profiles:\n  reg:\n    scheme: basic\n    match: [https://registry.example.com/]\n    config: {username: alice, password: pw}\n")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	pw.WriteString("registry.example.com") // no EOF
	c := exec.Command(helper, "get")
	c.Env, c.Stdin = e.vars, pr
	timer := time.AfterFunc(toolInputTimeout+5*time.Second, func() { pw.Close() })
	defer timer.Stop()
	defer pw.Close()
	start := time.Now()
	r := runCmd(t, c)
	pr.Close()
	// The helper protocol's error message on stdout, authx's line on stderr.
	if took := time.Since(start); r.code != 2 || strings.Count(r.stdout, "\n") != 1 || !strings.Contains(r.stdout, "nothing complete on stdin") ||
		len(authxLines(r.stderr)) != 1 || took > toolInputTimeout+3*time.Second {
		t.Fatalf("code %d after %s: %q %q", r.code, took, r.stdout, r.stderr)
	}
}
