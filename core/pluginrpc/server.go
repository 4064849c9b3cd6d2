package pluginrpc

import (
	"context"
	"fmt"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/authx/authx/core"
	pluginv1 "github.com/authx/authx/core/proto/authx/plugin/v1"
)

// server adapts a core.Scheme to the generated gRPC service.
type server struct {
	pluginv1.UnimplementedAuthSchemeServer
	impl core.Scheme
	desc core.Description
}

// NewServer returns the gRPC service for impl. It fills in the description's
// capabilities and protocol minor version, and checks every config against
// the schema before the scheme sees it.
func NewServer(impl core.Scheme) pluginv1.AuthSchemeServer {
	d := impl.Describe()
	d.Capabilities = core.CapabilitiesOf(impl)
	d.ProtocolMinor = ProtocolMinor
	return &server{impl: impl, desc: d}
}

func unsupported(call string) error {
	return status.Errorf(codes.Unimplemented, "this scheme does not support %s", call)
}

func (s *server) Describe(context.Context, *pluginv1.DescribeRequest) (*pluginv1.DescribeResponse, error) {
	d, err := toDescription(s.desc)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "describe: %v", err)
	}
	return d, nil
}

// check validates cfg against the schema and the scheme's own rules.
func (s *server) check(ctx context.Context, cfg core.Config) []core.Diagnostic {
	ds := core.CheckConfig(cfg, s.desc.Config)
	if core.HasErrors(ds) {
		return ds
	}
	return append(ds, s.impl.Configure(ctx, cfg)...)
}

// checked decodes the config and fails with INVALID_ARGUMENT when it is bad.
func (s *server) checked(ctx context.Context, c interface{ GetConfig() *structpb.Struct }) (core.Config, error) {
	cfg := fromStruct(c.GetConfig())
	for _, d := range s.check(ctx, cfg) {
		if d.Severity != core.SeverityWarning {
			return nil, status.Error(codes.InvalidArgument, formatDiag(d))
		}
	}
	return cfg, nil
}

func formatDiag(d core.Diagnostic) string {
	if d.Field == "" {
		return d.Message
	}
	return fmt.Sprintf("%s: %s", d.Field, d.Message)
}

func (s *server) Configure(ctx context.Context, req *pluginv1.ConfigureRequest) (*pluginv1.ConfigureResponse, error) {
	return &pluginv1.ConfigureResponse{Diagnostics: toDiagnostics(s.check(ctx, fromStruct(req.GetConfig())))}, nil
}

func (s *server) Login(ctx context.Context, req *pluginv1.LoginRequest) (*pluginv1.LoginResponse, error) {
	return s.login(ctx, req, nil)
}

// LoginStream runs the scheme's Login with a UI whose notices and URLs are
// sent as events (when the host offers a UI), then sends the result.
func (s *server) LoginStream(req *pluginv1.LoginRequest, stream pluginv1.AuthScheme_LoginStreamServer) error {
	var ui *streamUI
	if req.GetUi() {
		ui = &streamUI{stream: stream}
		defer ui.close()
	}
	res, err := s.login(stream.Context(), req, ui)
	if err != nil {
		return err
	}
	ui.close() // no event may follow the result
	return stream.Send(&pluginv1.LoginEvent{Event: &pluginv1.LoginEvent_Result{Result: res}})
}

// login runs the scheme's Login with ui (nil: none).
func (s *server) login(ctx context.Context, req *pluginv1.LoginRequest, ui *streamUI) (*pluginv1.LoginResponse, error) {
	cfg, err := s.checked(ctx, req)
	if err != nil {
		return nil, err
	}
	lr := core.LoginRequest{Config: cfg, URL: req.GetUrl(), Interactive: req.GetInteractive(),
		Answers: req.GetAnswers(), Continuation: req.GetContinuation(), Challenge: fromChallenge(req.GetChallenge())}
	if ui != nil {
		lr.UI = ui
	}
	cred, err := s.impl.Login(ctx, lr)
	if ir, ok := err.(*core.InputRequired); ok {
		out := &pluginv1.InputRequired{Continuation: ir.Continuation}
		for _, p := range ir.Prompts {
			out.Prompts = append(out.Prompts, &pluginv1.Prompt{Id: p.ID, Message: p.Message, Secret: p.Secret})
		}
		return &pluginv1.LoginResponse{Result: &pluginv1.LoginResponse_InputRequired{InputRequired: out}}, nil
	}
	if err != nil {
		return nil, toStatus(err)
	}
	if cred == nil {
		return nil, status.Error(codes.Internal, "login returned no credential")
	}
	return &pluginv1.LoginResponse{Result: &pluginv1.LoginResponse_Credential{Credential: ToCredential(cred)}}, nil
}

// streamUI is the core.UI a scheme's Login gets in a LoginStream: each call
// checks its argument as the host will and sends one event. It is safe for
// concurrent use, and refuses calls once the login has returned.
type streamUI struct {
	mu     sync.Mutex
	stream pluginv1.AuthScheme_LoginStreamServer
	done   bool
	events int
}

func (u *streamUI) Notify(_ context.Context, message string) error {
	if err := CheckNotice(message); err != nil {
		return err
	}
	return u.send(&pluginv1.LoginEvent{Event: &pluginv1.LoginEvent_Notice{Notice: &pluginv1.Notice{Message: message}}})
}

func (u *streamUI) OpenURL(_ context.Context, rawURL string) error {
	if err := CheckURL(rawURL); err != nil {
		return err
	}
	return u.send(&pluginv1.LoginEvent{Event: &pluginv1.LoginEvent_OpenUrl{OpenUrl: &pluginv1.OpenURL{Url: rawURL}}})
}

func (u *streamUI) send(ev *pluginv1.LoginEvent) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case u.done:
		return core.Errorf(core.KindInternal, "the login has returned: its UI is closed")
	case u.events >= MaxLoginEvents:
		return core.Errorf(core.KindPlugin, "a login may send at most %d notices and URLs", MaxLoginEvents)
	}
	u.events++
	if err := u.stream.Send(ev); err != nil {
		return core.Wrap(core.KindInterrupted, err, "the host stopped listening")
	}
	return nil
}

// close refuses every later call; a nil u is a no-op.
func (u *streamUI) close() {
	if u == nil {
		return
	}
	u.mu.Lock()
	u.done = true
	u.mu.Unlock()
}

func (s *server) Refresh(ctx context.Context, req *pluginv1.RefreshRequest) (*pluginv1.RefreshResponse, error) {
	r, ok := s.impl.(core.Refresher)
	if !ok {
		return nil, unsupported("refresh")
	}
	cfg, err := s.checked(ctx, req)
	if err != nil {
		return nil, err
	}
	cred, err := r.Refresh(ctx, core.RefreshRequest{Config: cfg, URL: req.GetUrl(), Credential: FromCredential(req.GetCredential())})
	if err != nil {
		return nil, toStatus(err)
	}
	return &pluginv1.RefreshResponse{Credential: ToCredential(cred)}, nil
}

func (s *server) Apply(ctx context.Context, req *pluginv1.ApplyRequest) (*pluginv1.ApplyResponse, error) {
	a, ok := s.impl.(core.Applier)
	if !ok {
		return nil, unsupported("apply")
	}
	cfg, err := s.checked(ctx, req)
	if err != nil {
		return nil, err
	}
	res, err := a.Apply(ctx, core.ApplyRequest{Config: cfg, URL: req.GetUrl(), Credential: FromCredential(req.GetCredential()),
		Request: fromHTTPRequest(req.GetRequest())})
	if err != nil {
		return nil, toStatus(err)
	}
	return toApplyResponse(res), nil
}

var decisions = map[core.Decision]pluginv1.HandleChallengeResponse_Decision{
	core.DecisionFail:    pluginv1.HandleChallengeResponse_DECISION_FAIL,
	core.DecisionRetry:   pluginv1.HandleChallengeResponse_DECISION_RETRY,
	core.DecisionRefresh: pluginv1.HandleChallengeResponse_DECISION_REFRESH,
	core.DecisionLogin:   pluginv1.HandleChallengeResponse_DECISION_LOGIN,
}

func (s *server) HandleChallenge(ctx context.Context, req *pluginv1.HandleChallengeRequest) (*pluginv1.HandleChallengeResponse, error) {
	h, ok := s.impl.(core.ChallengeHandler)
	if !ok {
		return nil, unsupported("challenge handling")
	}
	cfg, err := s.checked(ctx, req)
	if err != nil {
		return nil, err
	}
	res, err := h.HandleChallenge(ctx, core.ChallengeRequest{Config: cfg, URL: req.GetUrl(), Credential: FromCredential(req.GetCredential()),
		Request: fromHTTPRequest(req.GetRequest()), Response: fromHTTPResponse(req.GetResponse()), Retried: req.GetRetried()})
	if err != nil {
		return nil, toStatus(err)
	}
	return &pluginv1.HandleChallengeResponse{Decision: decisions[res.Decision], Diagnosis: res.Diagnosis,
		Credential: ToCredential(res.Credential), ReplaySafe: res.ReplaySafe}, nil
}

func (s *server) Logout(ctx context.Context, req *pluginv1.LogoutRequest) (*pluginv1.LogoutResponse, error) {
	l, ok := s.impl.(core.LogoutHandler)
	if !ok {
		return nil, unsupported("logout")
	}
	cfg, err := s.checked(ctx, req)
	if err != nil {
		return nil, err
	}
	err = l.Logout(ctx, core.LogoutRequest{Config: cfg, URL: req.GetUrl(), Credential: FromCredential(req.GetCredential())})
	return &pluginv1.LogoutResponse{}, toStatus(err)
}

func (s *server) RunAction(ctx context.Context, req *pluginv1.RunActionRequest) (*pluginv1.RunActionResponse, error) {
	a, ok := s.impl.(core.ActionRunner)
	if !ok {
		return nil, unsupported("actions")
	}
	act, ok := s.desc.Action(req.GetAction())
	if !ok {
		return nil, status.Errorf(codes.Unimplemented, "unknown action %q", req.GetAction())
	}
	var cfg core.Config
	if act.NeedsProfile || act.AcceptsProfile && req.GetConfig() != nil {
		var err error
		if cfg, err = s.checked(ctx, req); err != nil {
			return nil, err
		}
	}
	res, err := a.RunAction(ctx, core.ActionRequest{Action: act.Name, Args: req.GetArgs(), Flags: req.GetFlags(),
		Config: cfg, URL: req.GetUrl(), Credential: FromCredential(req.GetCredential()), Stdin: req.GetStdin()})
	if err != nil {
		return nil, toStatus(err)
	}
	return &pluginv1.RunActionResponse{Stdout: res.Stdout, Stderr: res.Stderr, ExitCode: int32(res.ExitCode)}, nil
}
