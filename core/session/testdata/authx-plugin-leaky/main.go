// Command authx-plugin-leaky is a scheme that puts the profile's password,
// and its Basic credentials, in every message it sends (its errors, its
// panics, its diagnoses, its config diagnostics, its action's error) in
// the encodings a server may echo them. The host must mask them all.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/sdk"
)

type scheme struct{}

func (scheme) Describe() core.Description {
	return core.Description{
		Name: "leaky", Version: "0.0.1", Summary: "leaks its password in every message",
		Config: []core.Field{
			{Name: "user", Type: core.TypeString},
			{Name: "password", Type: core.TypeString, Secret: true},
			{Name: "leak", Type: core.TypeString, Help: "where to leak: login, panic, log, configure, challenge, forbidden, apply, logout, refresh"},
		},
		Actions: []core.Action{{Name: "leak", Summary: "fail quoting the password", NeedsProfile: true}},
	}
}

// echo is the password as a careless server echoes it: raw, JSON-escaped
// (Go and PHP), form-encoded and in base64, alone and as Basic credentials.
func echo(cfg core.Config) string {
	user, pw := cfg.String("user", ""), cfg.String("password", "")
	goJSON, _ := json.Marshal(pw)
	php := strings.ReplaceAll(string(goJSON), "/", `\/`)
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + pw))
	return fmt.Sprintf("raw %s, json %s, php %s, form %s, base64 %s, auth header was Basic %s, realm=%q",
		pw, goJSON, php, url.QueryEscape(pw), base64.StdEncoding.EncodeToString([]byte(pw)), basic, "Basic "+basic)
}

func (scheme) Configure(_ context.Context, cfg core.Config) []core.Diagnostic {
	if cfg.String("leak", "") == "configure" {
		return []core.Diagnostic{core.DiagError("password", "%s", "is wrong: "+echo(cfg))}
	}
	return nil
}

func (scheme) Login(_ context.Context, req core.LoginRequest) (*core.Credential, error) {
	switch req.Config.String("leak", "") {
	case "login":
		return nil, core.Errorf(core.KindRejected, "server said: %s", echo(req.Config))
	case "panic":
		panic("boom " + echo(req.Config))
	case "log": // a careless plugin logs what it sends, then the token it got
		sdk.Logger("leaky").Debug("logging in", "sent", echo(req.Config))
		defer func() {
			sdk.Logger("leaky").Info("logged in", "authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(req.Config.String("user", "")+":"+req.Config.String("password", ""))))
		}()
	}
	token := base64.StdEncoding.EncodeToString([]byte(req.Config.String("user", "") + ":" + req.Config.String("password", "")))
	return &core.Credential{Token: token, Headers: []core.Header{{Name: "Authorization", Value: "Basic " + token}}}, nil
}

func (scheme) Refresh(_ context.Context, req core.RefreshRequest) (*core.Credential, error) {
	return nil, core.Errorf(core.KindNetwork, "refresh with %s refused: %s", req.Credential.State, echo(req.Config))
}

func (scheme) HandleChallenge(_ context.Context, req core.ChallengeRequest) (core.ChallengeResponse, error) {
	if req.Config.String("leak", "") == "forbidden" {
		return core.ChallengeResponse{}, core.Errorf(core.KindForbidden, "forbidden: %s; token %s", echo(req.Config), req.Credential.Token)
	}
	return core.ChallengeResponse{Decision: core.DecisionFail, Diagnosis: "refused: " + echo(req.Config) + "; token " + req.Credential.Token}, nil
}

func (scheme) Apply(_ context.Context, req core.ApplyRequest) (*core.ApplyResult, error) {
	return nil, core.Errorf(core.KindConfig, "cannot sign with %s (token %s)", echo(req.Config), req.Credential.Token)
}

func (scheme) Logout(_ context.Context, req core.LogoutRequest) error {
	return core.Errorf(core.KindNetwork, "revocation of %s failed: %s", req.Credential.Token, echo(req.Config))
}

func (scheme) RunAction(_ context.Context, req core.ActionRequest) (core.ActionResult, error) {
	return core.ActionResult{}, core.Errorf(core.KindHTTP, "action failed: %s", echo(req.Config))
}

var _ core.Applier = scheme{}

func main() { sdk.Serve(scheme{}) }
