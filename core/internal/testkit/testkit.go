// Package testkit is a scheme for authx's own tests. It talks to a test
// server like a real token scheme (login, refresh with state, expiry), and
// can misbehave on request: crash during a call, hang, or ask for input.
package testkit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/authx/authx/core"
)

// Scheme implements every optional interface of core.
type Scheme struct{}

var (
	_ core.Refresher        = Scheme{}
	_ core.ChallengeHandler = Scheme{}
	_ core.LogoutHandler    = Scheme{}
	_ core.ActionRunner     = Scheme{}
)

func (Scheme) Describe() core.Description {
	return core.Description{
		Name: "testkit", Version: "0.0.1", Summary: "test scheme for authx's own test suite",
		Config: []core.Field{
			{Name: "server", Type: core.TypeString, Help: "base URL of the test token server"},
			{Name: "user", Type: core.TypeString, Required: true},
			{Name: "secret", Type: core.TypeString, Secret: true},
			{Name: "ask", Type: core.TypeBool, Help: "ask for an OTP through input-required"},
			{Name: "crash_in", Type: core.TypeString, Enum: []string{"", "login", "refresh"}, Help: "SIGKILL itself in this call"},
			{Name: "hang", Type: core.TypeDuration, Help: "sleep this long in login"},
			{Name: "noise", Type: core.TypeBool, Help: "print to stdout and stderr during login"},
		},
		Actions: []core.Action{
			{Name: "echo", Summary: "print the arguments and flags", Usage: "ARGS...",
				Flags: []core.Field{{Name: "upper", Type: core.TypeString, Help: "yes to upper-case"}}},
			{Name: "whoami", Summary: "print the profile's user and whether a credential is cached", NeedsProfile: true},
			{Name: "env", Summary: "print the named variables of the plugin's environment", Usage: "NAME..."},
		},
	}
}

func (Scheme) Configure(_ context.Context, cfg core.Config) []core.Diagnostic {
	if strings.Contains(cfg.String("user", ""), " ") {
		return []core.Diagnostic{core.DiagError("user", "may not contain spaces")}
	}
	return nil
}

type tokenAnswer struct {
	Token     string `json:"token"`
	Refresh   string `json:"refresh"`
	ExpiresIn int    `json:"expires_in"`
}

func post(ctx context.Context, url string, body any) (*tokenAnswer, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return nil, core.Wrap(core.KindConfig, err, "server")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, core.Wrap(core.KindNetwork, err, "test server unreachable")
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, core.Errorf(core.KindRejected, "test server refused the credentials")
	case resp.StatusCode == http.StatusConflict:
		return nil, core.Errorf(core.KindLoginRequired, "refresh token rejected")
	case resp.StatusCode != http.StatusOK:
		return nil, core.Errorf(core.KindBadAnswer, "test server answered HTTP %d", resp.StatusCode)
	}
	var a tokenAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return nil, core.Errorf(core.KindBadAnswer, "test server answered something that is not JSON")
	}
	return &a, nil
}

func credential(a *tokenAnswer) *core.Credential {
	c := &core.Credential{Token: a.Token, Headers: []core.Header{{Name: "Authorization", Value: "Bearer " + a.Token}}}
	if a.Refresh != "" {
		c.State = []byte(a.Refresh)
	}
	if a.ExpiresIn > 0 {
		c.ExpiresAt = time.Now().Add(time.Duration(a.ExpiresIn) * time.Second)
	}
	return c
}

func crash(cfg core.Config, call string) {
	if cfg.String("crash_in", "") == call {
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			p.Kill() // SIGKILL on Unix: no deferred call, no goodbye
		}
		time.Sleep(time.Minute)
	}
}

func (Scheme) Login(ctx context.Context, req core.LoginRequest) (*core.Credential, error) {
	crash(req.Config, "login")
	if req.Config.Bool("noise", false) {
		fmt.Println("NOISE ON STDOUT")
		fmt.Fprintln(os.Stderr, "noise on stderr")
	}
	if d := req.Config.Duration("hang", 0); d > 0 {
		time.Sleep(d)
	}
	body := map[string]string{"user": req.Config.String("user", ""), "secret": req.Config.String("secret", "")}
	if req.Config.Bool("ask", false) {
		if req.Answers["otp"] == "" {
			return nil, &core.InputRequired{Prompts: []core.Prompt{{ID: "otp", Message: "One-time code: "}}, Continuation: []byte("step2")}
		}
		if string(req.Continuation) != "step2" {
			return nil, core.Errorf(core.KindPlugin, "continuation lost")
		}
		body["otp"] = req.Answers["otp"]
	}
	a, err := post(ctx, req.Config.String("server", "")+"/login", body)
	if err != nil {
		return nil, err
	}
	return credential(a), nil
}

func (Scheme) Refresh(ctx context.Context, req core.RefreshRequest) (*core.Credential, error) {
	crash(req.Config, "refresh")
	if len(req.Credential.State) == 0 {
		return nil, core.Errorf(core.KindLoginRequired, "no refresh token")
	}
	a, err := post(ctx, req.Config.String("server", "")+"/refresh", map[string]string{"refresh": string(req.Credential.State)})
	if err != nil {
		return nil, err
	}
	return credential(a), nil
}

func (Scheme) HandleChallenge(_ context.Context, req core.ChallengeRequest) (core.ChallengeResponse, error) {
	if req.Response.Status == http.StatusUnauthorized {
		// A 401 is a refusal before acting: even a POST may be replayed.
		return core.ChallengeResponse{Decision: core.DecisionRefresh, Diagnosis: "token expired", ReplaySafe: true}, nil
	}
	return core.ChallengeResponse{Decision: core.DecisionFail, Diagnosis: fmt.Sprintf("forbidden (HTTP %d)", req.Response.Status)}, nil
}

func (Scheme) Logout(ctx context.Context, req core.LogoutRequest) error {
	_, err := post(ctx, req.Config.String("server", "")+"/logout", map[string]string{"token": req.Credential.Token})
	return err
}

func (Scheme) RunAction(_ context.Context, req core.ActionRequest) (core.ActionResult, error) {
	switch req.Action {
	case "echo":
		out := strings.Join(req.Args, " ")
		if req.Flags["upper"] == "yes" {
			out = strings.ToUpper(out)
		}
		if len(req.Stdin) > 0 {
			out += " stdin=" + string(req.Stdin)
		}
		return core.ActionResult{Stdout: []byte(out + "\n")}, nil
	case "env":
		var out strings.Builder
		for _, name := range req.Args {
			if v, ok := os.LookupEnv(name); ok {
				fmt.Fprintf(&out, "%s=%s\n", name, v)
			} else {
				fmt.Fprintf(&out, "%s unset\n", name)
			}
		}
		return core.ActionResult{Stdout: []byte(out.String())}, nil
	case "whoami":
		return core.ActionResult{Stdout: []byte(fmt.Sprintf("user=%s cached=%v\n", req.Config.String("user", ""), req.Credential != nil))}, nil
	}
	return core.ActionResult{Stderr: []byte("unknown action\n"), ExitCode: 2}, nil
}
