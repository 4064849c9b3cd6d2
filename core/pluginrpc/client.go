package pluginrpc

import (
	"context"

	"github.com/authx/authx/core"
	pluginv1 "github.com/authx/authx/core/proto/authx/plugin/v1"
)

// Client is the host's view of a running plugin. Its methods mirror
// core.Scheme and its optional interfaces; every failure is a *core.Error,
// and Login returns a *core.InputRequired error when the plugin asks for
// input. The host must not call a method whose capability the plugin's
// description does not claim.
type Client struct {
	rpc pluginv1.AuthSchemeClient
}

// NewClient wraps a generated gRPC client (used by tests and the
// conformance kit).
func NewClient(rpc pluginv1.AuthSchemeClient) *Client { return &Client{rpc: rpc} }

// Describe fetches the plugin's description.
func (c *Client) Describe(ctx context.Context) (core.Description, error) {
	r, err := c.rpc.Describe(ctx, &pluginv1.DescribeRequest{})
	if err != nil {
		return core.Description{}, fromStatus(err, "describe")
	}
	return fromDescription(r), nil
}

// Configure asks the plugin to check cfg.
func (c *Client) Configure(ctx context.Context, cfg core.Config) ([]core.Diagnostic, error) {
	s, err := toStruct(cfg)
	if err != nil {
		return nil, err
	}
	r, err := c.rpc.Configure(ctx, &pluginv1.ConfigureRequest{Config: s})
	if err != nil {
		return nil, fromStatus(err, "configure")
	}
	return fromDiagnostics(r.GetDiagnostics()), nil
}

// Login obtains a credential or returns a *core.InputRequired error.
func (c *Client) Login(ctx context.Context, req core.LoginRequest) (*core.Credential, error) {
	s, err := toStruct(req.Config)
	if err != nil {
		return nil, err
	}
	r, err := c.rpc.Login(ctx, &pluginv1.LoginRequest{Config: s, Url: req.URL, Interactive: req.Interactive,
		Answers: req.Answers, Continuation: req.Continuation})
	if err != nil {
		return nil, fromStatus(err, "login")
	}
	if ir := r.GetInputRequired(); ir != nil {
		out := &core.InputRequired{Continuation: ir.GetContinuation()}
		for _, p := range ir.GetPrompts() {
			out.Prompts = append(out.Prompts, core.Prompt{ID: p.GetId(), Message: p.GetMessage(), Secret: p.GetSecret()})
		}
		return nil, out
	}
	if r.GetCredential() == nil {
		return nil, core.Errorf(core.KindPlugin, "plugin login returned neither a credential nor a prompt")
	}
	return FromCredential(r.GetCredential()), nil
}

// Refresh renews a credential.
func (c *Client) Refresh(ctx context.Context, req core.RefreshRequest) (*core.Credential, error) {
	s, err := toStruct(req.Config)
	if err != nil {
		return nil, err
	}
	r, err := c.rpc.Refresh(ctx, &pluginv1.RefreshRequest{Config: s, Url: req.URL, Credential: ToCredential(req.Credential)})
	if err != nil {
		return nil, fromStatus(err, "refresh")
	}
	if r.GetCredential() == nil {
		return nil, core.Errorf(core.KindPlugin, "plugin refresh returned no credential")
	}
	return FromCredential(r.GetCredential()), nil
}

// Apply computes per-request headers.
func (c *Client) Apply(ctx context.Context, req core.ApplyRequest) ([]core.Header, error) {
	s, err := toStruct(req.Config)
	if err != nil {
		return nil, err
	}
	r, err := c.rpc.Apply(ctx, &pluginv1.ApplyRequest{Config: s, Url: req.URL, Credential: ToCredential(req.Credential),
		Request: toHTTPRequest(req.Request)})
	if err != nil {
		return nil, fromStatus(err, "apply")
	}
	return fromHeaders(r.GetHeaders()), nil
}

// HandleChallenge asks the plugin what to do after a 401/403.
func (c *Client) HandleChallenge(ctx context.Context, req core.ChallengeRequest) (core.ChallengeResponse, error) {
	s, err := toStruct(req.Config)
	if err != nil {
		return core.ChallengeResponse{}, err
	}
	r, err := c.rpc.HandleChallenge(ctx, &pluginv1.HandleChallengeRequest{Config: s, Url: req.URL, Credential: ToCredential(req.Credential),
		Request: toHTTPRequest(req.Request), Response: toHTTPResponse(req.Response)})
	if err != nil {
		return core.ChallengeResponse{}, fromStatus(err, "challenge")
	}
	out := core.ChallengeResponse{Decision: core.DecisionFail, Diagnosis: r.GetDiagnosis(),
		Credential: FromCredential(r.GetCredential()), ReplaySafe: r.GetReplaySafe()}
	for d, pd := range decisions {
		if pd == r.GetDecision() {
			out.Decision = d
		}
	}
	if out.Decision == core.DecisionRetry && out.Credential == nil {
		return core.ChallengeResponse{}, core.Errorf(core.KindPlugin, "plugin asked to retry without a credential")
	}
	return out, nil
}

// Logout revokes a credential on the server.
func (c *Client) Logout(ctx context.Context, req core.LogoutRequest) error {
	s, err := toStruct(req.Config)
	if err != nil {
		return err
	}
	_, err = c.rpc.Logout(ctx, &pluginv1.LogoutRequest{Config: s, Url: req.URL, Credential: ToCredential(req.Credential)})
	return fromStatus(err, "logout")
}

// RunAction runs a plugin-defined action.
func (c *Client) RunAction(ctx context.Context, req core.ActionRequest) (core.ActionResult, error) {
	s, err := toStruct(req.Config)
	if err != nil {
		return core.ActionResult{}, err
	}
	r, err := c.rpc.RunAction(ctx, &pluginv1.RunActionRequest{Action: req.Action, Args: req.Args, Flags: req.Flags,
		Config: s, Url: req.URL, Credential: ToCredential(req.Credential), Stdin: req.Stdin})
	if err != nil {
		return core.ActionResult{}, fromStatus(err, "action "+req.Action)
	}
	return core.ActionResult{Stdout: r.GetStdout(), Stderr: r.GetStderr(), ExitCode: int(r.GetExitCode())}, nil
}
