package pluginrpc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/pluginrpc"
	pluginv1 "github.com/authx/authx/core/proto/authx/plugin/v1"
)

// hostile answers cred from every call that carries a credential or
// headers.
type hostile struct{ cred *core.Credential }

var _ core.Applier = hostile{}

func (hostile) Describe() core.Description {
	return core.Description{Name: "hostile", Version: "0.0.1"}
}
func (hostile) Configure(context.Context, core.Config) []core.Diagnostic { return nil }
func (h hostile) Login(context.Context, core.LoginRequest) (*core.Credential, error) {
	return h.cred, nil
}
func (h hostile) Refresh(context.Context, core.RefreshRequest) (*core.Credential, error) {
	return h.cred, nil
}
func (h hostile) Apply(context.Context, core.ApplyRequest) (*core.ApplyResult, error) {
	return &core.ApplyResult{Headers: h.cred.Headers, State: h.cred.State}, nil
}
func (h hostile) HandleChallenge(context.Context, core.ChallengeRequest) (core.ChallengeResponse, error) {
	return core.ChallengeResponse{Decision: core.DecisionRetry, Credential: h.cred}, nil
}

// Issue 10, point 1: every plugin answer that carries a credential or
// headers is validated where it enters the host; a bad one is a one-line
// plugin failure that names the call and the field, never the value.
func TestHostileAnswersAreRefused(t *testing.T) {
	tests := []struct {
		name string
		cred *core.Credential
		want string
	}{
		{"CR LF in a header value", &core.Credential{Token: "abc", Headers: []core.Header{{Name: "Authorization", Value: "Bearer abc\r\nX-Evil: 1"}}}, "header 1 (Authorization) value holds a control character"},
		{"newline in a header name", &core.Credential{Headers: []core.Header{{Name: "X-A: x\noutput_document = ~/pwned\nheader = X-B", Value: "c1"}}}, "header 1 name is not an HTTP token"},
		{"NUL in the token", &core.Credential{Token: "ab\x00c", Headers: []core.Header{{Name: "X", Value: "v"}}}, "the token holds"},
		{"cookie named a;b", &core.Credential{Headers: []core.Header{{Name: "X", Value: "v"}}, Cookies: []core.Cookie{{Name: "a;b", Value: "v"}}}, "cookie 1 name is not an HTTP token"},
		{"2 MiB state", &core.Credential{Headers: []core.Header{{Name: "X", Value: "v"}}, State: make([]byte, 2<<20)}, "the credential is larger than 1 MiB"},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := connect(t, hostile{tt.cred})
			calls := map[string]func() error{
				"login": func() error { _, err := c.Login(ctx, core.LoginRequest{}); return err },
				"refresh": func() error {
					_, err := c.Refresh(ctx, core.RefreshRequest{Credential: &core.Credential{Token: "old"}})
					return err
				},
				"challenge": func() error { _, err := c.HandleChallenge(ctx, core.ChallengeRequest{}); return err },
			}
			if !strings.Contains(tt.name, "token") && !strings.Contains(tt.name, "cookie") && !strings.Contains(tt.name, "state") {
				calls["apply"] = func() error { _, err := c.Apply(ctx, core.ApplyRequest{}); return err }
			}
			for call, run := range calls {
				err := run()
				if core.KindOf(err) != core.KindPlugin || err == nil {
					t.Fatalf("%s: %v (%v), want a plugin failure", call, err, core.KindOf(err))
				}
				msg := err.Error()
				if !strings.HasPrefix(msg, "plugin "+call+" answered an unusable credential: ") || !strings.Contains(msg, tt.want) {
					t.Errorf("%s: %q, want the call and %q", call, msg, tt.want)
				}
				if strings.ContainsAny(msg, "\r\n\x00") || strings.Contains(msg, "Evil") || strings.Contains(msg, "pwned") {
					t.Errorf("%s: %q quotes the value", call, msg)
				}
			}
		})
	}
	// A valid answer passes through unchanged.
	good := &core.Credential{Token: "abc", Headers: []core.Header{{Name: "Authorization", Value: "Bearer abc"}}, Cookies: []core.Cookie{{Name: "s", Value: "v"}}}
	if got, err := connect(t, hostile{good}).Login(ctx, core.LoginRequest{}); err != nil || got.Token != "abc" {
		t.Errorf("a valid credential: %+v, %v", got, err)
	}
}

// Issue 10, point 14: an answer larger than MaxAnswerSize (a 100 MB token)
// is refused by gRPC from its length prefix, with one line.
func TestOversizedAnswerIsRefused(t *testing.T) {
	c := connect(t, hostile{&core.Credential{Token: strings.Repeat("t", 100<<20)}})
	_, err := c.Login(context.Background(), core.LoginRequest{})
	if core.KindOf(err) != core.KindPlugin || err.Error() != "plugin login answered more than 4 MiB, the most authx reads from a plugin" {
		t.Errorf("100 MB token: %v (%v)", err, core.KindOf(err))
	}
	// Just over the credential bound but under the answer bound: Validate's
	// turn.
	c = connect(t, hostile{&core.Credential{Token: strings.Repeat("t", 2<<20)}})
	if _, err := c.Login(context.Background(), core.LoginRequest{}); core.KindOf(err) != core.KindPlugin || !strings.Contains(err.Error(), "the token is larger than 64 KiB") {
		t.Errorf("2 MiB token: %v (%v)", err, core.KindOf(err))
	}
}

// rstClient answers every Login like gRPC does when the plugin's copy of
// the deadline fires first: the server resets the stream (CANCEL) and the
// client, its own deadline past, reports DEADLINE_EXCEEDED with the
// RST_STREAM text.
type rstClient struct{ pluginv1.AuthSchemeClient }

func (rstClient) Login(ctx context.Context, _ *pluginv1.LoginRequest, _ ...grpc.CallOption) (*pluginv1.LoginResponse, error) {
	d, _ := ctx.Deadline()
	time.Sleep(time.Until(d) + time.Millisecond) // the host's timer has not necessarily fired yet
	return nil, status.Error(codes.DeadlineExceeded, "stream terminated by RST_STREAM with error code: CANCEL")
}

// Issue 10, point 14: a call timeout says which call and call_timeout,
// whichever side's timer fired first.
func TestCallTimeoutNamesTheCall(t *testing.T) {
	c := pluginrpc.NewClient(rstClient{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.Login(ctx, core.LoginRequest{})
	want := "plugin call login timed out after 200ms (call_timeout; raise it if the server is just slow)"
	if core.KindOf(err) != core.KindTimeout || err.Error() != want {
		t.Errorf("%v (%v), want %q", err, core.KindOf(err), want)
	}
}
