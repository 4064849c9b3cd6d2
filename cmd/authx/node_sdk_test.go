package main

// Tests of the Node SDK (plugins/sdk/node) and of the example written on it
// (docs/examples/apikey-node): real node processes over the real protocol,
// driven by core/host and by the real authx binary. They skip when node or
// the SDK's npm dependencies are missing (cd plugins/sdk/node && npm ci),
// and fail instead under CI (AUTHX_REQUIRE_IDPTEST=1, set by .ci/run, which
// installs both).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/host"
	pluginv1 "github.com/authx/authx/core/proto/authx/plugin/v1"
)

const (
	nodeSDKDir     = "../../plugins/sdk/node"
	nodeExampleDir = "../../docs/examples/apikey-node"
)

// nodeSDK returns the absolute directories of the SDK's test plugin and of
// the example, or skips t (fails it under CI) when node or the npm
// dependencies are missing.
func nodeSDK(t *testing.T) (testdata, example string) {
	t.Helper()
	missing := func(what string) {
		if os.Getenv("AUTHX_REQUIRE_IDPTEST") == "1" {
			t.Fatalf("%s, and AUTHX_REQUIRE_IDPTEST=1", what)
		}
		t.Skip(what)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("node is not installed (Debian package nodejs)")
	}
	sdk, _ := filepath.Abs(nodeSDKDir)
	example, _ = filepath.Abs(nodeExampleDir)
	if _, err := os.Stat(filepath.Join(sdk, "node_modules", "@grpc", "grpc-js")); err != nil {
		missing("the Node SDK's dependencies are not installed (cd plugins/sdk/node && npm ci)")
	}
	if _, err := os.Stat(filepath.Join(example, "node_modules", "authx-plugin-sdk")); err != nil {
		missing("the Node example's dependencies are not installed (cd docs/examples/apikey-node && npm ci)")
	}
	return filepath.Join(sdk, "testdata"), example
}

// The SDK ships the protocol's .proto files, read at run time by
// @grpc/proto-loader: they must be the repository's, byte for byte, and
// the vendored go-plugin ones those of the go-plugin in go.mod.
func TestNodeSDKProtoInSync(t *testing.T) {
	same := func(shipped, canonical string, skipHeader int) {
		t.Helper()
		a, err := os.ReadFile(filepath.Join(nodeSDKDir, "proto", shipped))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(canonical)
		if err != nil {
			t.Fatal(err)
		}
		a = bytes.Join(bytes.SplitAfter(a, []byte("\n"))[skipHeader:], nil)
		if !bytes.Equal(a, b) {
			t.Errorf("plugins/sdk/node/proto/%s differs from %s: copy it again", shipped, canonical)
		}
	}
	same("authx/plugin/v1/plugin.proto", "../../core/proto/authx/plugin/v1/plugin.proto", 0)
	same("health.proto", "../../plugins/sdk/python/proto/health.proto", 0)
	same("grpc_controller.proto", "../../plugins/sdk/python/proto/grpc_controller.proto", 0)
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/hashicorp/go-plugin").Output()
	if err != nil {
		t.Fatalf("go list go-plugin: %v", err)
	}
	same("grpc_stdio.proto", filepath.Join(strings.TrimSpace(string(out)), "internal", "plugin", "grpc_stdio.proto"), 4)
}

// The SDK loads descriptor.json, which generate.js makes from proto/: it
// must be what generate.js makes now.
func TestNodeSDKDescriptorInSync(t *testing.T) {
	nodeSDK(t)
	out, err := exec.Command("node", filepath.Join(nodeSDKDir, "generate.js"), "--check").CombinedOutput()
	if err != nil {
		t.Errorf("node generate.js --check: %v\n%s", err, out)
	}
}

// The SDK's own tests (plugins/sdk/node/test, node's test runner): random
// configs through google.protobuf.Struct's wire form and back, and values
// without a JSON form refused.
func TestNodeSDKUnit(t *testing.T) {
	nodeSDK(t)
	c := exec.Command("node", "--test", "test/")
	c.Dir = nodeSDKDir
	if out, err := c.CombinedOutput(); err != nil {
		t.Errorf("node --test: %v\n%s", err, out)
	}
}

// recordingUI is a core.UI that records what a LoginStream showed.
type recordingUI struct {
	mu             sync.Mutex
	notices, links []string
}

func (u *recordingUI) Notify(_ context.Context, m string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.notices = append(u.notices, m)
	return nil
}

func (u *recordingUI) OpenURL(_ context.Context, url string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.links = append(u.links, url)
	return nil
}

// TestNodeSDKOverTheProtocol drives every call of the SDK's test plugin
// through core/host: what Describe derives, Configure's checks, each error
// class's status (so authx's kind and exit code), input required with a
// continuation, LoginStream's events, Refresh, Apply's state, a challenge,
// and a nested config that crosses google.protobuf.Struct both ways.
func TestNodeSDKOverTheProtocol(t *testing.T) {
	testdata, _ := nodeSDK(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	h := host.New(host.Options{SearchPath: []string{testdata}})
	defer h.Close()
	ctx := context.Background()
	p, err := h.Start(ctx, host.Spec{Scheme: "sdktest"})
	if err != nil {
		t.Fatal(err)
	}

	d, err := p.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantCaps := core.Capabilities{Login: true, Refresh: true, Apply: true, HandleChallenge: true, Actions: true}
	if d.Name != "sdktest" || d.Version != "1.2.3" || d.ProtocolMinor != 4 || d.Capabilities != wantCaps || len(d.Config) != 4 || len(d.Actions) != 1 {
		t.Errorf("describe: %+v", d)
	}
	wantData := map[string]any{"list": []any{1.0, "two", true, nil, map[string]any{"deep": -2.5}}, "string_value": "x", "empty": map[string]any{}}
	if len(d.Config) > 1 && !reflect.DeepEqual(d.Config[1].Default, wantData) {
		t.Errorf("the default of data, a nested object: %#v", d.Config[1].Default)
	}

	// Configure: the SDK checks keys and types, then the author's checks.
	ds, err := p.Configure(ctx, core.Config{"mdoe": "x", "count": 1.5, "must": "yes"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range ds {
		got[d.Field] = d.Message
	}
	want := map[string]string{"mdoe": `unknown key; did you mean "mode"?`, "count": "expected an integer", "must": "expected a bool"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("diagnostics: %v, want %v", got, want)
	}
	if ds, err := p.Configure(ctx, core.Config{"mode": "warn"}); err != nil || len(ds) != 1 || ds[0].Severity != core.SeverityWarning {
		t.Errorf("a warning: %v %+v", err, ds)
	}

	// A credential, with what the SDK converts: headers, expiry, state.
	cred, err := p.Login(ctx, core.LoginRequest{Config: core.Config{}, URL: "https://api.example.test/"})
	if err != nil {
		t.Fatal(err)
	}
	if cred.Token != "tok" || !reflect.DeepEqual(cred.Headers, []core.Header{{Name: "Authorization", Value: "Bearer tok"}}) ||
		string(cred.State) != "n=0" || time.Until(cred.ExpiresAt) < 59*time.Minute || time.Until(cred.ExpiresAt) > time.Hour {
		t.Errorf("credential: %+v", cred)
	}

	// Each error class is its status code, so its kind and exit code.
	for mode, kind := range map[string]core.Kind{
		"config": core.KindConfig, "login-required": core.KindLoginRequired, "rejected": core.KindRejected,
		"unreachable": core.KindNetwork, "timeout": core.KindTimeout, "bad-answer": core.KindBadAnswer,
		"server-error": core.KindHTTP, "forbidden": core.KindForbidden, "unsupported": core.KindUnsupported,
		"crash": core.KindPlugin, "multiline": core.KindRejected,
		"server-5xx": core.KindHTTPServer, "token-invalid": core.KindTokenInvalid,
	} {
		_, err := p.Login(ctx, core.LoginRequest{Config: core.Config{"mode": mode}})
		if core.KindOf(err) != kind {
			t.Errorf("mode %s: %v (kind %v), want kind %v", mode, err, core.KindOf(err), kind)
		}
		if err != nil && (strings.Contains(err.Error(), "secret-in-stack") || strings.Contains(err.Error(), "second line")) {
			t.Errorf("mode %s: the message holds more than its first line: %v", mode, err)
		}
	}
	if _, err := p.Login(ctx, core.LoginRequest{Config: core.Config{"mode": "config"}}); err == nil || !strings.Contains(err.Error(), "mode: bad value") {
		t.Errorf("a ConfigError names its field: %v", err)
	}
	if _, err := p.Login(ctx, core.LoginRequest{Config: core.Config{"count": "x"}}); core.KindOf(err) != core.KindConfig || !strings.Contains(err.Error(), "count: expected an integer") {
		t.Errorf("login with a bad config: %v", err)
	}

	// Input required, and the continuation handed back.
	_, err = p.Login(ctx, core.LoginRequest{Config: core.Config{"mode": "ask"}, URL: "https://a.test/", Interactive: true})
	var ir *core.InputRequired
	if !errors.As(err, &ir) || len(ir.Prompts) != 1 || ir.Prompts[0].ID != "code" || !ir.Prompts[0].Secret || string(ir.Continuation) != "step1:https://a.test/" {
		t.Fatalf("input required: %v %+v", err, ir)
	}
	cred, err = p.Login(ctx, core.LoginRequest{Config: core.Config{"mode": "ask"}, Answers: map[string]string{"code": "42"}, Continuation: ir.Continuation})
	if err != nil || cred.Token != "answered-42-step1:https://a.test/" {
		t.Errorf("answered login: %v %+v", err, cred)
	}

	// LoginStream: the notice and the URL reach the host's UI; without a UI
	// the same login fails at once as needing the user.
	ui := &recordingUI{}
	if _, err := p.Login(ctx, core.LoginRequest{Config: core.Config{"mode": "ui"}, UI: ui, Interactive: true}); err != nil {
		t.Errorf("login with a UI: %v", err)
	}
	if !reflect.DeepEqual(ui.notices, []string{"enter the code ABCD"}) || !reflect.DeepEqual(ui.links, []string{"https://idp.example.test/device"}) {
		t.Errorf("the UI saw notices %q and URLs %q", ui.notices, ui.links)
	}
	if _, err := p.Login(ctx, core.LoginRequest{Config: core.Config{"mode": "ui"}}); core.KindOf(err) != core.KindLoginRequired {
		t.Errorf("login needing the user without a UI: %v, want login required", err)
	}

	// Refresh, Apply with state, HandleChallenge.
	base, _ := p.Login(ctx, core.LoginRequest{Config: core.Config{"mode": "sign"}})
	if r, err := p.Refresh(ctx, core.RefreshRequest{Config: core.Config{}, Credential: base}); err != nil || r.Token != "tok-refreshed" || string(r.State) != "n=0" || time.Until(r.ExpiresAt) > time.Minute {
		t.Errorf("refresh: %v %+v", err, r)
	}
	ar, err := p.Apply(ctx, core.ApplyRequest{Config: core.Config{}, Credential: base, Request: core.HTTPRequest{Method: "POST", URL: "https://a.test/x"}})
	if err != nil || !reflect.DeepEqual(ar.Headers, []core.Header{{Name: "X-Sig", Value: "POST https://a.test/x 1"}}) || string(ar.State) != "n=1" {
		t.Errorf("apply: %v %+v", err, ar)
	}
	cr, err := p.HandleChallenge(ctx, core.ChallengeRequest{Config: core.Config{}, Credential: base, Response: core.HTTPResponse{Status: 401}})
	if err != nil || cr.Decision != core.DecisionRefresh || cr.Diagnosis != "got 401" || !cr.ReplaySafe {
		t.Errorf("challenge: %v %+v", err, cr)
	}
	cr, err = p.HandleChallenge(ctx, core.ChallengeRequest{Config: core.Config{}, Credential: base, Response: core.HTTPResponse{Status: 401}, Retried: true})
	if err != nil || cr.Decision != core.DecisionFail || cr.Diagnosis != "still 401" {
		t.Errorf("second refusal: %v %+v", err, cr)
	}

	// A nested config crosses Struct intact, both ways: objects, arrays,
	// numbers, null, booleans, keys that look like Value's own fields.
	nested := map[string]any{
		"list":  []any{1.0, -0.5, 1e21, "two", true, false, nil, []any{}, map[string]any{"deep": map[string]any{"deeper": []any{"x y"}}}},
		"empty": map[string]any{}, "string_value": "s", "stringValue": "t", "kind": "k", "null": nil, "ünï": "çødé",
	}
	res, err := p.RunAction(ctx, core.ActionRequest{Action: "echo", Args: []string{"a", "-"}, Flags: map[string]string{"f": "v"}, Config: core.Config{"data": nested, "count": 3.0, "must": false}})
	if err != nil {
		t.Fatal(err)
	}
	var echoed struct {
		Config map[string]any    `json:"config"`
		Args   []string          `json:"args"`
		Flags  map[string]string `json:"flags"`
	}
	if err := json.Unmarshal(res.Stdout, &echoed); err != nil {
		t.Fatalf("echo: %v: %q", err, res.Stdout)
	}
	wantConfig := map[string]any{"data": nested, "count": 3.0, "must": false, "mode": "ok"}
	if !reflect.DeepEqual(echoed.Config, wantConfig) || !reflect.DeepEqual(echoed.Args, []string{"a", "-"}) || echoed.Flags["f"] != "v" || res.ExitCode != 0 {
		t.Errorf("echo:\n got %#v %v %v\nwant %#v", echoed.Config, echoed.Args, echoed.Flags, wantConfig)
	}
	if _, err := p.RunAction(ctx, core.ActionRequest{Action: "nope"}); core.KindOf(err) != core.KindUnsupported {
		t.Errorf("an unknown action: %v", err)
	}
	if err := p.Logout(ctx, core.LogoutRequest{Config: core.Config{}}); core.KindOf(err) != core.KindUnsupported {
		t.Errorf("logout, not implemented: %v", err)
	}
	h.Close()
	noScriptOrphans(t, filepath.Join(testdata, "authx-plugin-sdktest"), home)
}

// TestNodeSDKGoPluginContract checks what go-plugin needs from a plugin on
// the SDK, without authx: the handshake, stdout closed after it, the health,
// stdio and controller services, exiting on Shutdown, SIGTERM, SIGINT and
// when the parent dies, and refusing to run without the cookie or protocol v1.
func TestNodeSDKGoPluginContract(t *testing.T) {
	testdata, _ := nodeSDK(t)
	script := filepath.Join(testdata, "authx-plugin-sdktest")
	home := t.TempDir()
	path := os.Getenv("PATH")

	// startPythonPlugin and waitExit (python_example_test.go) start and
	// wait for any plugin script as go-plugin would.
	c, line, rest := startPythonPlugin(t, path, home, script)
	m := handshakeLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("handshake line %q", line)
	}
	socket := m[1]
	if fi, err := os.Stat(socket); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("socket %s: %v, mode %v; want no access for group and others", socket, err, fi.Mode())
	}
	conn, err := grpc.NewClient("unix://"+socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	health, err := grpc_health_v1.NewHealthClient(conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: "plugin"})
	if err != nil || health.GetStatus() != grpc_health_v1.HealthCheckResponse_SERVING {
		t.Errorf("health of plugin: %v %v", health, err)
	}
	if _, err := grpc_health_v1.NewHealthClient(conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: "other"}); status.Code(err) != codes.NotFound {
		t.Errorf("health of another service: %v, want NotFound", err)
	}
	stdio, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, "/plugin.GRPCStdio/StreamStdio")
	if err == nil {
		err = stdio.SendMsg(&emptypb.Empty{})
	}
	if err == nil {
		err = stdio.CloseSend()
	}
	if err != nil {
		t.Errorf("StreamStdio: %v", err)
	}
	if err := conn.Invoke(ctx, "/plugin.GRPCBroker/StartStream", &emptypb.Empty{}, &emptypb.Empty{}); status.Code(err) != codes.Unimplemented {
		t.Errorf("an unknown service: %v, want Unimplemented", err)
	}
	if _, err := pluginv1.NewAuthSchemeClient(conn).Logout(ctx, &pluginv1.LogoutRequest{}); status.Code(err) != codes.Unimplemented {
		t.Errorf("Logout: %v, want Unimplemented", err)
	}
	start := time.Now()
	if err := conn.Invoke(ctx, "/plugin.GRPCController/Shutdown", &emptypb.Empty{}, &emptypb.Empty{}); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := stdio.RecvMsg(new(emptypb.Empty)); err == nil {
		t.Errorf("the stdio stream carried data")
	}
	if s := <-rest; s != "" {
		t.Errorf("the plugin wrote %q to stdout after the handshake", s)
	}
	if err := waitExit(c, 5*time.Second); err != nil {
		t.Errorf("exit after Shutdown: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the plugin took %s to exit after Shutdown", took)
	}
	if _, err := os.Stat(socket); !os.IsNotExist(err) {
		t.Errorf("socket %s left behind: %v", socket, err)
	}

	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		c, line, _ = startPythonPlugin(t, path, home, script)
		c.Process.Signal(sig)
		if err := waitExit(c, 5*time.Second); err != nil || c.ProcessState.ExitCode() != 0 {
			t.Errorf("exit after %v: %v (%v)", sig, err, c.ProcessState)
		}
		if m := handshakeLine.FindStringSubmatch(line); m == nil {
			t.Errorf("handshake line %q", line)
		} else if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
			t.Errorf("socket left behind after %v: %v", sig, err)
		}
	}

	// The parent (a shell here) dies: the plugin notices within a second or so.
	startPythonPlugin(t, path, home, "sh", "-c", `"$0" & sleep 1`, script)
	noScriptOrphans(t, script, home)

	for name, env := range map[string][]string{
		"no cookie":     {"PATH=" + path},
		"no v1 offered": {"PATH=" + path, "AUTHX_PLUGIN=6c1fa2b1-authx-plugin-v1", "PLUGIN_PROTOCOL_VERSIONS=2,3"},
	} {
		c := exec.Command(script)
		c.Env = env
		var out, errb strings.Builder
		c.Stdout, c.Stderr = &out, &errb
		err := c.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || out.Len() != 0 || strings.Count(errb.String(), "\n") != 1 {
			t.Errorf("%s: %v, stdout %q, stderr %q; want exit 1 and one line on stderr", name, err, out.String(), errb.String())
		}
	}
}

// A plugin whose SDK lacks its dependencies exits before the handshake
// with one line naming the module, which authx shows (Node's own report
// would end in its version line).
func TestNodeSDKMissingDependency(t *testing.T) {
	nodeSDK(t)
	dir := t.TempDir()
	sdk := filepath.Join(dir, "node_modules", "authx-plugin-sdk")
	if err := os.MkdirAll(sdk, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"index.js", "struct.js", "descriptor.json", "package.json"} {
		data, err := os.ReadFile(filepath.Join(nodeSDKDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sdk, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(dir, "authx-plugin-broken")
	code := "#!/usr/bin/env node\nrequire('authx-plugin-sdk').serve({ describe: () => ({ name: 'broken' }), login: () => ({ token: 't' }) });\n"
	if err := os.WriteFile(script, []byte(code), 0o755); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t).set("AUTHX_PLUGIN_PATH=" + dir)
	r := e.run("token", "--scheme", "broken")
	if r.code != 6 || strings.Count(r.stderr, "\n") != 1 ||
		!strings.Contains(r.stderr, "exited before the plugin handshake (exit status 1): authx-plugin-sdk: cannot load @grpc/grpc-js: Cannot find module '@grpc/grpc-js' (the plugin's node_modules is incomplete: run npm ci)") {
		t.Errorf("a missing dependency: %+v", r)
	}

	// A library the script requires after the SDK is missing.
	sdkIndex, _ := filepath.Abs(filepath.Join(nodeSDKDir, "index.js"))
	code = fmt.Sprintf("#!/usr/bin/env node\nconst sdk = require(%q);\nrequire('no-such-lib');\n", sdkIndex)
	if err := os.WriteFile(script, []byte(code), 0o755); err != nil {
		t.Fatal(err)
	}
	r = e.run("token", "--scheme", "broken")
	if r.code != 6 || strings.Count(r.stderr, "\n") != 1 ||
		!strings.Contains(r.stderr, "(exit status 1): authx-plugin-broken: Error: Cannot find module 'no-such-lib'") {
		t.Errorf("a missing library of the script: %+v", r)
	}
}

// TestNodeExampleWithAuthx runs the example through the real authx: header
// and token, a profile whose nested config (more headers) reaches the
// server through `authx request`, its action, config errors by field, a
// prompt that cannot be asked, and a clean trace log.
func TestNodeExampleWithAuthx(t *testing.T) {
	_, dir := nodeSDK(t)
	script := filepath.Join(dir, "authx-plugin-apikey")
	e := newEnv(t).set("AUTHX_PLUGIN_PATH="+dir, "API_KEY=k-123+secret")

	r := e.run("header", "--scheme", "apikey", "--set", "key=env:API_KEY")
	if r.code != 0 || r.stdout != "X-API-Key: k-123+secret\n" || r.stderr != "" {
		t.Errorf("authx header: %+v", r)
	}

	var seen http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
		fmt.Fprintln(w, "hello")
	}))
	defer srv.Close()
	e.config(fmt.Sprintf(`profiles:
  api:
    scheme: apikey
    url: %s/
    config:
      key: env:API_KEY
      header: X-Key
      headers: {X-Tenant: acme, X-Team: "blue team", X-Empty: ""}
`, srv.URL))
	r = e.run("request", "api", "GET", "/hello", "--fail")
	if r.code != 0 || r.stdout != "hello\n" {
		t.Fatalf("authx request: %+v", r)
	}
	for name, want := range map[string]string{"X-Key": "k-123+secret", "X-Tenant": "acme", "X-Team": "blue team"} {
		if seen.Get(name) != want {
			t.Errorf("the server got %s: %q, want %q (all: %v)", name, seen.Get(name), want, seen)
		}
	}
	if _, ok := seen["X-Empty"]; !ok {
		t.Errorf("the empty header of the nested config was lost: %v", seen)
	}

	r = e.run("apikey", "fingerprint", "--profile", "api")
	if r.code != 0 || r.stdout != "cebfc86f58a3b8b7\n" {
		t.Errorf("the fingerprint action: %+v", r)
	}

	r = e.run("header", "--scheme", "apikey", "--set", "key=env:API_KEY", "--set", "header=bad header")
	if r.code != 2 || !strings.Contains(r.stderr, `--set header: "bad header" is not an HTTP header name`) {
		t.Errorf("bad header name: %+v", r)
	}
	r = e.run("header", "--scheme", "apikey", "--set", "key=env:API_KEY", "--set", "hedaer=X")
	if r.code != 2 || !strings.Contains(r.stderr, `hedaer: unknown key; did you mean "header"?`) {
		t.Errorf("unknown key: %+v", r)
	}
	r = e.run("header", "--scheme", "apikey")
	if r.code != 3 || r.stdout != "" || !strings.Contains(r.stderr, "login needs input (key)") {
		t.Errorf("no key, no terminal: %+v", r)
	}
	r = e.run("header", "--scheme", "apikey", "--set", "key=env:API_KEY", "--log-level", "trace")
	if r.code != 0 || strings.Contains(r.stderr, "[WARN]") || strings.Contains(r.stderr, "[ERROR]") || strings.Contains(r.stderr, "k-123") {
		t.Errorf("trace log has warnings, errors or the key:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "authx-plugin-apikey: plugin address: ") || !strings.Contains(r.stderr, "@module=plugin.apikey") ||
		!strings.Contains(r.stderr, "asked the plugin to shut down") {
		t.Errorf("the plugin's JSON log lines are not parsed by the host:\n%s", r.stderr)
	}
	noScriptOrphans(t, script, e.home)
}
