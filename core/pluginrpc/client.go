package pluginrpc

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

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
	// minor is the protocol minor version the plugin's last Describe
	// answered: from 3 on, Login goes through LoginStream.
	minor atomic.Uint32
}

// NewClient wraps a generated gRPC client (used by tests and the
// conformance kit).
func NewClient(rpc pluginv1.AuthSchemeClient) *Client { return &Client{rpc: rpc} }

// MaxAnswerSize bounds every answer the host reads from a plugin: a larger
// one is refused by gRPC from its length prefix, before it is read into
// memory. go-plugin's own default is 2 GiB.
const MaxAnswerSize = 4 << 20

// bounded is the call option every call carries.
var bounded = grpc.MaxCallRecvMsgSize(MaxAnswerSize)

// callError turns a failed call into a *core.Error naming the call. When
// the caller's deadline (call_timeout) has passed, that is the failure,
// whatever gRPC reports: "context deadline exceeded" if the host's timer
// fired first, "stream terminated by RST_STREAM with error code: CANCEL" if
// the plugin's did.
func callError(ctx context.Context, start time.Time, call string, err error) error {
	if err == nil {
		return nil
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return core.Errorf(core.KindTimeout, "plugin call %s timed out after %s (call_timeout; raise it if the server is just slow)", call, d.Sub(start).Round(time.Millisecond))
	}
	return fromStatus(err, call)
}

// checked returns cred, or a KindPlugin error when it is not a credential
// the host may hand on (see core.Credential.Validate).
func checked(call string, cred *core.Credential) (*core.Credential, error) {
	if err := cred.Validate(); err != nil {
		return nil, core.Prefix("plugin "+call+" answered an unusable credential", err, core.KindPlugin)
	}
	return cred, nil
}

// Describe fetches the plugin's description.
func (c *Client) Describe(ctx context.Context) (core.Description, error) {
	start := time.Now()
	r, err := c.rpc.Describe(ctx, &pluginv1.DescribeRequest{}, bounded)
	if err != nil {
		return core.Description{}, callError(ctx, start, "describe", err)
	}
	c.minor.Store(r.GetProtocolMinor())
	return fromDescription(r), nil
}

// Described tells the client the plugin's description when the host took
// it from its cache instead of calling Describe: the calls that follow go
// as they would after that Describe.
func (c *Client) Described(d core.Description) { c.minor.Store(d.ProtocolMinor) }

// StreamMinor is the protocol minor version from which a plugin serves
// LoginStream.
const StreamMinor = 3

// Configure asks the plugin to check cfg.
func (c *Client) Configure(ctx context.Context, cfg core.Config) ([]core.Diagnostic, error) {
	s, err := toStruct(cfg)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	r, err := c.rpc.Configure(ctx, &pluginv1.ConfigureRequest{Config: s}, bounded)
	if err != nil {
		return nil, callError(ctx, start, "configure", err)
	}
	return fromDiagnostics(r.GetDiagnostics()), nil
}

// Login obtains a credential or returns a *core.InputRequired error. For a
// plugin whose Describe answered protocol minor 3 or later it calls
// LoginStream, showing the plugin's notices and URLs through req.UI (nil:
// the plugin is told there is no UI); for an older one it calls the unary
// Login, and req.UI is not used.
func (c *Client) Login(ctx context.Context, req core.LoginRequest) (*core.Credential, error) {
	s, err := toStruct(req.Config)
	if err != nil {
		return nil, err
	}
	wire := &pluginv1.LoginRequest{Config: s, Url: req.URL, Interactive: req.Interactive,
		Answers: req.Answers, Continuation: req.Continuation, Challenge: toChallenge(req.Challenge)}
	start := time.Now()
	if c.minor.Load() >= StreamMinor {
		wire.Ui = req.UI != nil
		return c.loginStream(ctx, start, wire, req.UI)
	}
	r, err := c.rpc.Login(ctx, wire, bounded)
	if err != nil {
		return nil, callError(ctx, start, "login", err)
	}
	return loginResult(r)
}

// loginStream runs a LoginStream: it shows each notice and opens each URL
// through ui, after checking them (CheckNotice, CheckURL), until the event
// that carries the result.
func (c *Client) loginStream(ctx context.Context, start time.Time, wire *pluginv1.LoginRequest, ui core.UI) (*core.Credential, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream when the host stops reading it
	stream, err := c.rpc.LoginStream(ctx, wire, bounded)
	if err != nil {
		return nil, callError(ctx, start, "login", err)
	}
	for events := 0; ; events++ {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil, core.Errorf(core.KindPlugin, "plugin login stream ended without a result")
		}
		if err != nil {
			return nil, callError(ctx, start, "login", err)
		}
		if r := ev.GetResult(); r != nil {
			return loginResult(r)
		}
		if events >= MaxLoginEvents {
			return nil, core.Errorf(core.KindPlugin, "plugin login sent more than %d notices and URLs", MaxLoginEvents)
		}
		if err := showEvent(ctx, ev, ui); err != nil {
			return nil, err
		}
	}
}

// showEvent checks one notice or URL of a login and hands it to ui. An
// event of a kind this host does not know (a newer minor's) is skipped.
func showEvent(ctx context.Context, ev *pluginv1.LoginEvent, ui core.UI) error {
	var kind string
	var show func() error
	switch e := ev.GetEvent().(type) {
	case *pluginv1.LoginEvent_Notice:
		kind, show = "a notice", func() error {
			if err := CheckNotice(e.Notice.GetMessage()); err != nil {
				return core.Prefix("plugin login sent an unusable notice", err, core.KindPlugin)
			}
			return ui.Notify(ctx, e.Notice.GetMessage())
		}
	case *pluginv1.LoginEvent_OpenUrl:
		kind, show = "a URL to open", func() error {
			if err := CheckURL(e.OpenUrl.GetUrl()); err != nil {
				return core.Prefix("plugin login sent an unusable URL", err, core.KindPlugin)
			}
			return ui.OpenURL(ctx, e.OpenUrl.GetUrl())
		}
	default:
		return nil
	}
	if ui == nil {
		return core.Errorf(core.KindPlugin, "plugin login sent %s although the host offered no UI", kind)
	}
	return show()
}

// loginResult turns a login's answer into a credential or a
// *core.InputRequired error.
func loginResult(r *pluginv1.LoginResponse) (*core.Credential, error) {
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
	return checked("login", FromCredential(r.GetCredential()))
}

// Refresh renews a credential.
func (c *Client) Refresh(ctx context.Context, req core.RefreshRequest) (*core.Credential, error) {
	s, err := toStruct(req.Config)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	r, err := c.rpc.Refresh(ctx, &pluginv1.RefreshRequest{Config: s, Url: req.URL, Credential: ToCredential(req.Credential)}, bounded)
	if err != nil {
		return nil, callError(ctx, start, "refresh", err)
	}
	if r.GetCredential() == nil {
		return nil, core.Errorf(core.KindPlugin, "plugin refresh returned no credential")
	}
	return checked("refresh", FromCredential(r.GetCredential()))
}

// Apply computes per-request headers and, from a plugin of minor 4 on,
// the credential's new state (nil: unchanged).
func (c *Client) Apply(ctx context.Context, req core.ApplyRequest) (*core.ApplyResult, error) {
	s, err := toStruct(req.Config)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	r, err := c.rpc.Apply(ctx, &pluginv1.ApplyRequest{Config: s, Url: req.URL, Credential: ToCredential(req.Credential),
		Request: toHTTPRequest(req.Request)}, bounded)
	if err != nil {
		return nil, callError(ctx, start, "apply", err)
	}
	return applyResult(r)
}

// applyResult decodes and checks an Apply's answer: headers the host may
// send and a state within the credential's bounds (Credential.Validate).
func applyResult(r *pluginv1.ApplyResponse) (*core.ApplyResult, error) {
	res := fromApplyResponse(r)
	if _, err := checked("apply", &core.Credential{Headers: res.Headers, State: res.State}); err != nil {
		return nil, err
	}
	return res, nil
}

// HandleChallenge asks the plugin what to do after a 401/403.
func (c *Client) HandleChallenge(ctx context.Context, req core.ChallengeRequest) (core.ChallengeResponse, error) {
	s, err := toStruct(req.Config)
	if err != nil {
		return core.ChallengeResponse{}, err
	}
	start := time.Now()
	r, err := c.rpc.HandleChallenge(ctx, &pluginv1.HandleChallengeRequest{Config: s, Url: req.URL, Credential: ToCredential(req.Credential),
		Request: toHTTPRequest(req.Request), Response: toHTTPResponse(req.Response), Retried: req.Retried}, bounded)
	if err != nil {
		return core.ChallengeResponse{}, callError(ctx, start, "challenge", err)
	}
	out := core.ChallengeResponse{Decision: core.DecisionFail, Diagnosis: message(r.GetDiagnosis()),
		Credential: FromCredential(r.GetCredential()), ReplaySafe: r.GetReplaySafe()}
	for d, pd := range decisions {
		if pd == r.GetDecision() {
			out.Decision = d
		}
	}
	if out.Decision == core.DecisionRetry && out.Credential == nil {
		return core.ChallengeResponse{}, core.Errorf(core.KindPlugin, "plugin asked to retry without a credential")
	}
	if _, err := checked("challenge", out.Credential); err != nil {
		return core.ChallengeResponse{}, err
	}
	return out, nil
}

// Logout revokes a credential on the server.
func (c *Client) Logout(ctx context.Context, req core.LogoutRequest) error {
	s, err := toStruct(req.Config)
	if err != nil {
		return err
	}
	start := time.Now()
	_, err = c.rpc.Logout(ctx, &pluginv1.LogoutRequest{Config: s, Url: req.URL, Credential: ToCredential(req.Credential)}, bounded)
	return callError(ctx, start, "logout", err)
}

// RunAction runs a plugin-defined action.
func (c *Client) RunAction(ctx context.Context, req core.ActionRequest) (core.ActionResult, error) {
	s, err := toStruct(req.Config)
	if err != nil {
		return core.ActionResult{}, err
	}
	start := time.Now()
	r, err := c.rpc.RunAction(ctx, &pluginv1.RunActionRequest{Action: req.Action, Args: req.Args, Flags: req.Flags,
		Config: s, Url: req.URL, Credential: ToCredential(req.Credential), Stdin: req.Stdin}, bounded)
	if err != nil {
		return core.ActionResult{}, callError(ctx, start, "action "+req.Action, err)
	}
	return core.ActionResult{Stdout: r.GetStdout(), Stderr: r.GetStderr(), ExitCode: int(r.GetExitCode())}, nil
}
