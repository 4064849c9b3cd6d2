package pluginrpc_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/internal/testkit"
	"github.com/authx/authx/core/pluginrpc"
	"github.com/authx/authx/plugins/basic"
)

// connect serves impl over an in-memory gRPC connection with the real
// adapters on both sides.
func connect(t *testing.T, impl core.Scheme) *pluginrpc.Client {
	t.Helper()
	client, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{
		pluginrpc.PluginName: &pluginrpc.SchemePlugin{Impl: impl},
	})
	t.Cleanup(func() { client.Close() })
	raw, err := client.Dispense(pluginrpc.PluginName)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(*pluginrpc.Client)
}

func tokenServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		json.NewDecoder(r.Body).Decode(&body)
		switch {
		case r.URL.Path == "/login" && body["secret"] == "right":
			json.NewEncoder(w).Encode(map[string]any{"token": "tok-" + body["otp"], "refresh": "r1", "expires_in": 60})
		case r.URL.Path == "/login":
			w.WriteHeader(http.StatusUnauthorized)
		case r.URL.Path == "/refresh" && body["refresh"] == "r1":
			json.NewEncoder(w).Encode(map[string]any{"token": "tok2", "expires_in": 60})
		default:
			w.WriteHeader(http.StatusConflict)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDescribeOverTheWire(t *testing.T) {
	c := connect(t, testkit.Scheme{})
	d, err := c.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := core.Capabilities{Login: true, Refresh: true, HandleChallenge: true, Logout: true, Actions: true}
	if d.Name != "testkit" || d.Capabilities != want || d.ProtocolMinor != pluginrpc.ProtocolMinor {
		t.Errorf("description = %+v", d)
	}
	if f, ok := d.Field("secret"); !ok || !f.Secret || f.Type != core.TypeString {
		t.Errorf("secret field = %+v, %v", f, ok)
	}
	if f, _ := d.Field("crash_in"); len(f.Enum) != 3 {
		t.Errorf("enum lost: %+v", f)
	}
	if a, ok := d.Action("whoami"); !ok || !a.NeedsProfile {
		t.Errorf("action whoami = %+v", a)
	}
	bd, err := connect(t, basic.New()).Describe(context.Background())
	if err != nil || bd.Capabilities != (core.Capabilities{Login: true, HandleChallenge: true}) {
		t.Errorf("basic capabilities = %+v, %v", bd.Capabilities, err)
	}
	if f, _ := bd.Field("netrc"); f.Default != false {
		t.Errorf("default lost: %#v", f.Default)
	}
}

func TestConfigureDiagnostics(t *testing.T) {
	c := connect(t, basic.New())
	ds, err := c.Configure(context.Background(), core.Config{"usernme": "alice", "password": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) == 0 || ds[0].Field != "usernme" || !strings.Contains(ds[0].Message, `did you mean "username"`) {
		t.Fatalf("diagnostics = %+v", ds)
	}
	// Login re-checks: a bad config is INVALID_ARGUMENT, i.e. a config error.
	_, err = c.Login(context.Background(), core.LoginRequest{Config: core.Config{"username": "a:b", "password": "x"}})
	if core.KindOf(err) != core.KindConfig || !strings.Contains(err.Error(), "username") {
		t.Fatalf("login with a bad config: %v (%v)", err, core.KindOf(err))
	}
}

func TestLoginRefreshAndErrors(t *testing.T) {
	srv := tokenServer(t)
	c := connect(t, testkit.Scheme{})
	cfg := core.Config{"server": srv.URL, "user": "u", "secret": "right", "ask": true}

	_, err := c.Login(context.Background(), core.LoginRequest{Config: cfg})
	var ir *core.InputRequired
	if !errors.As(err, &ir) || len(ir.Prompts) != 1 || ir.Prompts[0].ID != "otp" || string(ir.Continuation) != "step2" {
		t.Fatalf("first login = %v, want input required", err)
	}
	cred, err := c.Login(context.Background(), core.LoginRequest{Config: cfg, Answers: map[string]string{"otp": "42"}, Continuation: ir.Continuation})
	if err != nil {
		t.Fatal(err)
	}
	if cred.Token != "tok-42" || string(cred.State) != "r1" || time.Until(cred.ExpiresAt) < 50*time.Second {
		t.Errorf("credential = %+v", cred)
	}
	ref, err := c.Refresh(context.Background(), core.RefreshRequest{Config: cfg, Credential: cred})
	if err != nil || ref.Token != "tok2" {
		t.Errorf("refresh = %+v, %v", ref, err)
	}
	_, err = c.Refresh(context.Background(), core.RefreshRequest{Config: cfg, Credential: ref})
	if core.KindOf(err) != core.KindLoginRequired {
		t.Errorf("refresh without state: %v (%v), want login required", err, core.KindOf(err))
	}

	bad := core.Config{"server": srv.URL, "user": "u", "secret": "wrong"}
	_, err = c.Login(context.Background(), core.LoginRequest{Config: bad})
	if core.KindOf(err) != core.KindRejected || err.Error() != "test server refused the credentials" {
		t.Errorf("rejected login: %q (%v)", err, core.KindOf(err))
	}
	_, err = connect(t, basic.New()).Refresh(context.Background(), core.RefreshRequest{Config: core.Config{"username": "a"}, Credential: cred})
	if core.KindOf(err) != core.KindUnsupported {
		t.Errorf("refresh on basic: %v (%v), want unsupported", err, core.KindOf(err))
	}
}

func TestChallengeAndActions(t *testing.T) {
	c := connect(t, testkit.Scheme{})
	cfg := core.Config{"user": "u"}
	res, err := c.HandleChallenge(context.Background(), core.ChallengeRequest{Config: cfg,
		Credential: &core.Credential{Token: "t"},
		Request:    core.HTTPRequest{Method: "POST", URL: "http://127.0.0.1/x", Header: http.Header{"X-A": {"1"}}},
		Response:   core.HTTPResponse{Status: 401, BodyPrefix: []byte(strings.Repeat("x", 10000))}})
	if err != nil || res.Decision != core.DecisionRefresh || res.Diagnosis != "token expired" {
		t.Errorf("challenge = %+v, %v", res, err)
	}
	out, err := c.RunAction(context.Background(), core.ActionRequest{Action: "echo", Args: []string{"a", "b"}, Flags: map[string]string{"upper": "yes"}, Stdin: []byte("in")})
	if err != nil || string(out.Stdout) != "A B stdin=in\n" || out.ExitCode != 0 {
		t.Errorf("echo = %q, %v", out.Stdout, err)
	}
	out, err = c.RunAction(context.Background(), core.ActionRequest{Action: "whoami", Config: cfg, Credential: &core.Credential{Token: "t"}})
	if err != nil || string(out.Stdout) != "user=u cached=true\n" {
		t.Errorf("whoami = %q, %v", out.Stdout, err)
	}
	_, err = c.RunAction(context.Background(), core.ActionRequest{Action: "nope"})
	if core.KindOf(err) != core.KindUnsupported {
		t.Errorf("unknown action: %v", err)
	}
}
