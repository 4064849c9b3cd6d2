package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
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

	"github.com/authx/authx/plugins/jwt/jwttest"
)

// needProgram skips t when the program bin is not installed, saying which
// Debian package has it; under CI (AUTHX_REQUIRE_IDPTEST=1) that fails.
func needProgram(t *testing.T, bin, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s is not installed (Debian package %s; .ci/run installs it)", bin, pkg)
	if os.Getenv("AUTHX_REQUIRE_IDPTEST") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// kubeAPI is a Kubernetes API server as kubectl get pods sees it, over TLS
// on 127.0.0.1: legacy discovery (/api, /api/v1, /apis) and the pods of
// namespace default, each only with a bearer token the token server
// accepts (a webhook token authenticator: it asks the issuer's resource
// endpoint), else the 401 Status a real API server answers.
type kubeAPI struct {
	*httptest.Server
	issuer string // the jwttest server whose /api/me validates tokens
	refuse atomic.Bool
	mu     sync.Mutex
	log    []string // "401 /api" ...
	tokens map[string]bool
}

func startKubeAPI(t *testing.T, issuer string) *kubeAPI {
	k := &kubeAPI{issuer: issuer, tokens: map[string]bool{}}
	k.Server = httptest.NewTLSServer(http.HandlerFunc(k.serve))
	t.Cleanup(k.Close)
	return k
}

func (k *kubeAPI) note(status int, r *http.Request) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.log = append(k.log, fmt.Sprintf("%d %s", status, r.URL.Path))
}

func (k *kubeAPI) requests() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return strings.Join(k.log, ", ")
}

// valid asks the issuer whether tok is a live access token.
func (k *kubeAPI) valid(tok string) bool {
	if k.refuse.Load() {
		return false
	}
	req, _ := http.NewRequest("GET", k.issuer+"/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == 200
}

func (k *kubeAPI) serve(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !k.valid(tok) {
		k.note(401, r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`+"\n")
		return
	}
	var body string
	ctype := "application/json"
	switch r.URL.Path {
	case "/version": // kubectl's version dispatcher (Google's packaging) asks first
		body = `{"major":"1","minor":"32","gitVersion":"v1.32.4","gitCommit":"59526cd4867447956156ae3a602fcbac10a2c335","gitTreeState":"clean","buildDate":"2025-04-22T16:02:27Z","goVersion":"go1.23.6","compiler":"gc","platform":"linux/amd64"}`
	case "/api":
		body = `{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"127.0.0.1:6443"}]}`
	case "/apis":
		body = `{"kind":"APIGroupList","apiVersion":"v1","groups":[]}`
	case "/api/v1":
		body = `{"kind":"APIResourceList","groupVersion":"v1","resources":[{"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"shortNames":["po"],"categories":["all"]}]}`
	case "/api/v1/namespaces/default/pods":
		if strings.Contains(r.Header.Get("Accept"), "as=Table;v=v1;g=meta.k8s.io") { // what kubectl get asks for, to print the server's columns
			ctype = "application/json;as=Table;v=v1;g=meta.k8s.io"
			body = `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"4242"},"columnDefinitions":[{"name":"Name","type":"string","format":"name","description":"Name must be unique within a namespace.","priority":0},{"name":"Ready","type":"string","format":"","description":"The aggregate readiness state of this pod for accepting traffic.","priority":0},{"name":"Status","type":"string","format":"","description":"The aggregate status of the containers in this pod.","priority":0},{"name":"Restarts","type":"string","format":"","description":"The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.","priority":0},{"name":"Age","type":"string","format":"","description":"CreationTimestamp is a timestamp representing the server time when this object was created.","priority":0}],"rows":[{"cells":["hello-authx","1/1","Running","0","42m"],"object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"hello-authx","namespace":"default","uid":"0b0e5c1e-6f2a-4c1e-9d1a-2b7d3c4e5f60","resourceVersion":"4241","creationTimestamp":"2026-11-30T17:00:00Z"}}}]}`
			break
		}
		body = `{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"4242"},"items":[{"metadata":{"name":"hello-authx","namespace":"default","uid":"0b0e5c1e-6f2a-4c1e-9d1a-2b7d3c4e5f60","resourceVersion":"4241","creationTimestamp":"2026-11-30T17:00:00Z"},"spec":{"containers":[{"name":"hello","image":"busybox"}]},"status":{"phase":"Running","containerStatuses":[{"name":"hello","ready":true,"restartCount":0,"image":"busybox","imageID":"","started":true,"state":{"running":{"startedAt":"2026-11-30T17:00:01Z"}}}]}}]}`
	default:
		k.note(404, r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}`+"\n")
		return
	}
	k.note(200, r)
	w.Header().Set("Content-Type", ctype)
	fmt.Fprintln(w, body)
}

// kubeconfig writes a kubeconfig for k whose user runs authx
// kube-credential with args, asking for apiVersion.
func (k *kubeAPI) kubeconfig(t *testing.T, dir, apiVersion string, args ...string) string {
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.Certificate().Raw})
	quoted, _ := json.Marshal(append([]string{"kube-credential"}, args...))
	interactive := ""
	if strings.HasSuffix(apiVersion, "/v1") {
		interactive = "\n        interactiveMode: Never"
	}
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: authx
  user:
    exec:
        apiVersion: %s
        command: %s
        args: %s%s
contexts:
- name: test
  context: {cluster: test, user: authx}
current-context: test
`, k.URL, base64.StdEncoding.EncodeToString(ca), apiVersion, filepath.Join(binDir, "authx"), quoted, interactive)
	p := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// kubectlMinor returns the minor version of the kubectl client.
func kubectlMinor(t *testing.T) int {
	out, err := exec.Command("kubectl", "version", "--client", "-o", "json").Output()
	var v struct {
		ClientVersion struct{ Minor string } `json:"clientVersion"`
	}
	if err != nil || json.Unmarshal(out, &v) != nil {
		t.Fatalf("kubectl version --client -o json: %v\n%s", err, out)
	}
	var minor int
	fmt.Sscanf(v.ClientVersion.Minor, "%d", &minor)
	return minor
}

// kubectl runs kubectl in e with the kubeconfig.
func kubectl(e *env, kubeconfig string, args ...string) result {
	e.t.Helper()
	c := exec.Command("kubectl", append([]string{"--kubeconfig", kubeconfig}, args...)...)
	c.Env = append(append([]string(nil), e.vars...), "KUBECACHEDIR="+filepath.Join(e.home, "kubecache"))
	return runCmd(e.t, c)
}

// Must show 3 (kubectl): kubectl get pods with authx as its exec
// credential plugin, in both API versions; after the server stops
// accepting the token, kubectl's rerun of the plugin renews it; a server
// that refuses every token gives kubectl's own error and authx's one line.
func TestKubectlGetPods(t *testing.T) {
	needProgram(t, "kubectl", "kubernetes-client")
	srv := startJWT(t, jwttest.Options{AccessTTL: time.Hour})
	e := jwtEnv(t, srv, genericLogin)
	api := startKubeAPI(t, srv.URL)
	versions := []string{"client.authentication.k8s.io/v1beta1"}
	if minor := kubectlMinor(t); minor >= 22 { // v1 came with kubectl 1.22; Debian 12's is 1.20
		versions = append(versions, "client.authentication.k8s.io/v1")
	} else {
		t.Logf("kubectl 1.%d: ExecCredential v1beta1 only", minor)
	}
	for _, v := range versions {
		t.Run(v[strings.LastIndexByte(v, '/')+1:], func(t *testing.T) {
			kc := api.kubeconfig(t, t.TempDir(), v, "api")
			r := kubectl(e, kc, "get", "pods")
			if r.code != 0 || !strings.Contains(r.stdout, "hello-authx   1/1     Running") {
				t.Fatalf("kubectl get pods: %+v\nserver saw: %s", r, api.requests())
			}
			t.Logf("kubectl printed:\n%s\nserver saw: %s", r.stdout, api.requests())
		})
	}
	if n := srv.Logins(); n != 1 {
		t.Errorf("%d logins, want 1 (the second kubectl ran on the cached token)", n)
	}
	kc := api.kubeconfig(t, t.TempDir(), versions[len(versions)-1], "api")

	// The issuer revokes the token: the server answers 401, kubectl runs
	// authx again, which renews (a refresh) instead of serving it again.
	srv.RevokeAccess()
	r := kubectl(e, kc, "get", "pods")
	t.Logf("after revocation: %+v\nserver saw: %s", r, api.requests())
	if n := srv.Refreshes(); n != 1 {
		t.Errorf("%d refreshes after the revocation, want 1", n)
	}
	r = kubectl(e, kc, "get", "pods")
	if r.code != 0 || !strings.Contains(r.stdout, "hello-authx") || srv.Refreshes() != 1 || srv.Logins() != 1 {
		t.Fatalf("after renewal: %+v; %d refreshes, %d logins", r, srv.Refreshes(), srv.Logins())
	}

	// A server that refuses every token: kubectl's own error, and one line
	// from authx, which renewed once; no token on the terminal.
	api.refuse.Store(true)
	tok := strings.TrimSpace(e.run("token", "api").stdout)
	r = kubectl(e, kc, "get", "pods")
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if r.code == 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], `authx: profile "api": the server refused`) ||
		lines[1] != "error: You must be logged in to the server (Unauthorized)" || r.stdout != "" || strings.Contains(r.stderr, tok) {
		t.Fatalf("refused: %+v; want kubectl's error and one line from authx", r)
	}
	if n := srv.Refreshes(); n != 2 {
		t.Errorf("%d refreshes, want 2 (one renewal per refusal kubectl reported)", n)
	}
}

// kube-credential run by hand: an ExecCredential of the version asked for,
// with the token and its expiry; a request of another version is one line
// and exit 2, with nothing on stdout.
func TestKubeCredentialOutput(t *testing.T) {
	srv := startJWT(t, jwttest.Options{AccessTTL: time.Hour})
	e := jwtEnv(t, srv, genericLogin)
	tok := strings.TrimSpace(e.run("token", "api").stdout)
	for _, tt := range []struct{ info, version string }{
		{"", "client.authentication.k8s.io/v1beta1"},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`, "client.authentication.k8s.io/v1"},
	} {
		r := e.runWith([]string{"KUBERNETES_EXEC_INFO=" + tt.info}, "kube-credential", "api")
		var got struct {
			Kind, APIVersion string
			Status           struct{ Token, ExpirationTimestamp string }
		}
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &got) != nil {
			t.Fatalf("%+v", r)
		}
		exp, err := time.Parse(time.RFC3339, got.Status.ExpirationTimestamp)
		if got.Kind != "ExecCredential" || got.APIVersion != tt.version || got.Status.Token != tok || err != nil || time.Until(exp) < 50*time.Minute {
			t.Errorf("info %q: %s", tt.info, r.stdout)
		}
	}
	r := e.runWith([]string{`KUBERNETES_EXEC_INFO={"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1","spec":{}}`}, "kube-credential", "api")
	if r.code != 2 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "v1alpha1") {
		t.Errorf("v1alpha1: %+v", r)
	}
	if r := e.run("kube-credential", "api", "--id-token"); r.code != 10 || r.stdout != "" {
		t.Errorf("--id-token without one: %+v", r)
	}
	// Basic credentials are no bearer token.
	r = e.runWith([]string{"PW=pw"}, "kube-credential", "--scheme", "basic", "--set", "username=a", "--set", "password=env:PW")
	if r.code != 10 || r.stdout != "" || !strings.Contains(r.stderr, "no bearer token") {
		t.Errorf("basic: %+v", r)
	}
}

// On a terminal, with the kubeconfig's interactiveMode: Never, kubectl
// tells the plugin the run is not interactive: a login that would prompt
// fails at once with one line (exit 3) instead of waiting at the terminal.
// The same profile asked by hand on the terminal does prompt.
func TestKubeCredentialNeverPromptsWhenKubectlSaysSo(t *testing.T) {
	needProgram(t, "kubectl", "kubernetes-client")
	needProgram(t, "script", "util-linux")
	if kubectlMinor(t) < 22 {
		t.Skip("interactiveMode needs ExecCredential v1 (kubectl 1.22+)")
	}
	api := startKubeAPI(t, "http://127.0.0.1:1")
	e := newEnv(t)
	e.config("profiles:\n  ask:\n    scheme: basic\n    config:\n      username: alice\n      password: \"prompt:\"\n")
	vars := e.vars[:0:0]
	for _, v := range e.vars {
		if v != "AUTHX_NO_INPUT=1" { // a terminal, and nothing else says non-interactive
			vars = append(vars, v)
		}
	}
	kc := api.kubeconfig(t, t.TempDir(), "client.authentication.k8s.io/v1", "ask")
	onTerminal := func(command string) result {
		c := exec.Command("script", "-qec", command, "/dev/null")
		c.Env = vars
		c.Stdin = strings.NewReader("") // the terminal gets no answer: a prompt would wait
		done := make(chan result, 1)
		go func() { done <- runCmd(t, c) }()
		select {
		case r := <-done:
			return r
		case <-time.After(20 * time.Second):
			c.Process.Kill()
			t.Fatalf("%s: still running after 20 s (waiting at a prompt?)", command)
			return result{}
		}
	}
	r := onTerminal("kubectl --kubeconfig " + kc + " get pods")
	if r.code == 0 || !strings.Contains(r.stdout, "needs a terminal but this run is non-interactive") || strings.Contains(r.stdout, "Password") {
		t.Fatalf("kubectl with interactiveMode Never: %+v", r)
	}
	// By hand on the terminal the same profile prompts (and gets no answer).
	r = onTerminal(filepath.Join(binDir, "authx") + " kube-credential ask")
	if !strings.Contains(strings.ToLower(r.stdout), "password") {
		t.Fatalf("by hand on a terminal: %+v; want a prompt", r)
	}
}

// --id-token sends the login's ID token, expiring when it does (before the
// credential); an ID token that has expired while the credential has not
// is never sent: authx renews, which here needs the user (exit 3, one
// line).
func TestKubeCredentialIDToken(t *testing.T) {
	e, _ := deviceEnv(t)
	jwtWith := func(exp time.Time) string {
		payload, _ := json.Marshal(map[string]any{"sub": "alice", "exp": exp.Unix()})
		return "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ln"
	}
	exp := time.Now().Add(10 * time.Minute).Truncate(time.Second)
	live, stale := jwtWith(exp), jwtWith(time.Now().Add(-time.Minute))
	e.config(fmt.Sprintf("profiles:\n  dev:\n    scheme: device\n    url: https://api.example.com/\n    config: {code: WDJB-MJHT, id_token: %s}\n"+
		"  old:\n    scheme: device\n    url: https://api.example.com/\n    config: {code: WDJB-MJHT, id_token: %s}\n", live, stale))
	for _, p := range []string{"dev", "old"} {
		if r, _ := onTerminal(t, e, nil, "login", p); r.code != 0 {
			t.Fatalf("login %s: %+v", p, r)
		}
	}
	info := []string{`KUBERNETES_EXEC_INFO={"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`}
	r := e.runWith(info, "kube-credential", "dev", "--id-token")
	want := fmt.Sprintf(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{},"status":{"token":%q,"expirationTimestamp":%q}}`+"\n", live, exp.UTC().Format(time.RFC3339))
	if r.code != 0 || r.stdout != want {
		t.Errorf("--id-token: %+v\nwant %s", r, want)
	}
	r = e.runWith(info, "kube-credential", "old", "--id-token")
	if r.code != 3 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "run: authx login old") {
		t.Errorf("expired ID token: %+v; want exit 3, one line, nothing on stdout", r)
	}
}

// An expired ID token that a refresh keeps (an OpenID Provider whose
// refresh answer has no id_token) is not refreshed again at every kubectl
// run: authx logs in instead, which here needs the user (exit 3).
func TestKubeCredentialIDTokenKeptByRefresh(t *testing.T) {
	e, _ := deviceEnv(t)
	payload, _ := json.Marshal(map[string]any{"sub": "alice", "exp": time.Now().Add(-time.Minute).Unix()})
	stale := "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ln"
	e.config(fmt.Sprintf("profiles:\n  kept:\n    scheme: device\n    url: https://api.example.com/\n    config: {code: WDJB-MJHT, id_token: %s, refresh: keep-id-token}\n", stale))
	if r, _ := onTerminal(t, e, nil, "login", "kept"); r.code != 0 {
		t.Fatalf("login: %+v", r)
	}
	info := []string{`KUBERNETES_EXEC_INFO={"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`}
	r := e.runWith(info, "kube-credential", "kept", "--id-token")
	if r.code != 3 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "run: authx login kept") {
		t.Errorf("an expired ID token a refresh keeps: %+v; want exit 3, one line, nothing on stdout", r)
	}
}

// With the agent running, a store: memory profile's token reaches kubectl
// from the agent, as `authx token` gets it: one login for two kubectl
// runs, and no token in any file of the cache directory.
func TestKubectlWithAgent(t *testing.T) {
	needProgram(t, "kubectl", "kubernetes-client")
	srv := startJWT(t, jwttest.Options{AccessTTL: time.Hour})
	e := newEnv(t).set("API_PW=wonderland")
	e.config(fmt.Sprintf("profiles:\n  api:\n    scheme: jwt\n    url: %s\n    store: memory\n    config:\n%s", srv.URL, indent(genericLogin, "      ")))
	e.withAgent()
	api := startKubeAPI(t, srv.URL)
	kc := api.kubeconfig(t, t.TempDir(), "client.authentication.k8s.io/v1beta1", "api")
	for i := 0; i < 2; i++ {
		if r := kubectl(e, kc, "get", "pods"); r.code != 0 || !strings.Contains(r.stdout, "hello-authx") {
			t.Fatalf("kubectl get pods #%d: %+v", i+1, r)
		}
	}
	if n := srv.Logins(); n != 1 {
		t.Errorf("%d logins, want 1: the agent holds the token", n)
	}
	tok := strings.TrimSpace(e.run("token", "api").stdout)
	filepath.WalkDir(filepath.Join(e.home, "cache"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if data, _ := os.ReadFile(p); tok != "" && strings.Contains(string(data), tok) {
				t.Errorf("the token is in %s", p)
			}
		}
		return nil
	})
}

// A second run from the same process (a client-go program with several
// clients, or a refusal of a token the scheme cannot renew) prints the
// credential again: renewing a static token gives the same one, which
// kubectl then sends (and a refusing server refuses, with kubectl's own
// error). Several processes are told apart.
func TestKubeCredentialSecondRunPrints(t *testing.T) {
	e := newEnv(t).set("KTOK=static-kube-0123")
	e.config("profiles:\n  work:\n    scheme: jwt\n    match: https://k8s.example.com/\n    config: {mode: static, token: env:KTOK}\n")
	c := exec.Command("sh", "-c", `"$0" kube-credential work && echo && "$0" kube-credential work`, filepath.Join(binDir, "authx"))
	c.Env = append(append([]string(nil), e.vars...),
		`KUBERNETES_EXEC_INFO={"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`)
	r := runCmd(t, c)
	if r.code != 0 || strings.Count(r.stdout, `"token":"static-kube-0123"`) != 2 {
		t.Errorf("two runs from one process: %+v", r)
	}
	if strings.Contains(r.stderr, "static-kube-0123") {
		t.Errorf("the token on stderr: %q", r.stderr)
	}
}

// Two kubectl processes at once: each one's second run is told apart (a
// few recent processes are remembered per profile), so a refusal reported
// by the first after the second got its token still renews.
func TestKubeCredentialRemembersSeveralProcesses(t *testing.T) {
	ts := newTokenServer(t, 3600)
	e := newEnv(t).set("TK_SECRET=right")
	e.config(fmt.Sprintf("profiles:\n  tk:\n    scheme: testkit\n    match: https://k8s.example.com/\n    config: {server: %s, user: u, secret: env:TK_SECRET}\n", ts.URL))
	info := `KUBERNETES_EXEC_INFO={"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`
	flag := filepath.Join(t.TempDir(), "go-on")
	authx := filepath.Join(binDir, "authx")
	var aOut bytes.Buffer
	a := exec.Command("sh", "-c", `"$0" kube-credential tk && echo && while [ ! -e "$1" ]; do sleep 0.05; done && "$0" kube-credential tk`, authx, flag)
	a.Env, a.Stdout, a.Stderr = append(append([]string(nil), e.vars...), info), &aOut, &aOut
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	defer a.Process.Kill()
	for i := 0; i < 200 && ts.logins.Load() == 0; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // the first run's record
	b := exec.Command("sh", "-c", `"$0" kube-credential tk`, authx)
	b.Env = append(append([]string(nil), e.vars...), info)
	if r := runCmd(t, b); r.code != 0 {
		t.Fatalf("the other process: %+v", r)
	}
	os.WriteFile(flag, nil, 0o600)
	if err := a.Wait(); err != nil {
		t.Fatalf("the first process: %v\n%s", err, aOut.String())
	}
	if l, rf := ts.logins.Load(), ts.refreshes.Load(); l != 1 || rf != 1 || !strings.Contains(aOut.String(), "renewed it") {
		t.Errorf("logins %d, refreshes %d; want 1 and 1 (the first process's second run renews)\n%s", l, rf, aOut.String())
	}
}

// The record of what kube-credential served, beside the cache entry, holds
// no plain digest of the token (an HMAC keyed with the store's name key),
// and goes with the entry: after `authx logout` no trace of it is left.
func TestKubeCredentialServedRecordRemoved(t *testing.T) {
	const tok = "static-kube-0123"
	e := newEnv(t).set("KTOK=" + tok)
	e.config("profiles:\n  work:\n    scheme: jwt\n    match: https://k8s.example.com/\n    config: {mode: static, token: env:KTOK}\n")
	c := exec.Command("sh", "-c", `"$0" kube-credential work`, filepath.Join(binDir, "authx"))
	c.Env = append(append([]string(nil), e.vars...),
		`KUBERNETES_EXEC_INFO={"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`)
	if r := runCmd(t, c); r.code != 0 {
		t.Fatalf("kube-credential: %+v", r)
	}
	sum := sha256.Sum256([]byte(tok))
	records := func() (names []string, plain bool) {
		filepath.Walk(e.home, func(path string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return nil
			}
			if strings.HasSuffix(path, ".kube") || strings.HasSuffix(path, ".side") {
				names = append(names, filepath.Base(path))
			}
			data, _ := os.ReadFile(path)
			plain = plain || bytes.Contains(data, []byte(hex.EncodeToString(sum[:])))
			return nil
		})
		return names, plain
	}
	if names, plain := records(); len(names) != 1 || plain {
		t.Fatalf("after kube-credential: records %v, a plain SHA-256 of the token: %v", names, plain)
	}
	if r := e.run("logout", "work"); r.code != 0 {
		t.Fatalf("logout: %+v", r)
	}
	if names, _ := records(); len(names) != 0 {
		t.Errorf("after logout: %v left", names)
	}
}
