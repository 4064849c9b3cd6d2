package pluginrpc

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authx/authx/core"
)

// The wire table of docs/plugin-protocol.md ("Errors"): each kind a scheme
// returns reaches the host as its status code and comes back as the same
// kind with the same one-line message.
func TestErrorsCrossTheWire(t *testing.T) {
	tests := []struct {
		err  error
		code codes.Code
		kind core.Kind
	}{
		{core.Errorf(core.KindConfig, "bad url"), codes.InvalidArgument, core.KindConfig},
		{core.Errorf(core.KindLoginRequired, "log in again"), codes.FailedPrecondition, core.KindLoginRequired},
		{core.Errorf(core.KindRejected, "refused"), codes.Unauthenticated, core.KindRejected},
		{core.Errorf(core.KindNetwork, "connection refused"), codes.Unavailable, core.KindNetwork},
		// A server that closed mid-answer is the network's failure, not a
		// broken plugin connection.
		{core.Errorf(core.KindNetwork, "POST http://127.0.0.1:8080/auth/login: unexpected EOF"), codes.Unavailable, core.KindNetwork},
		{core.Errorf(core.KindTimeout, "no answer within 1s"), codes.DeadlineExceeded, core.KindTimeout},
		{core.Errorf(core.KindBadAnswer, "HTML, not JSON"), codes.DataLoss, core.KindBadAnswer},
		// Token invalid rides on DATA_LOSS with an ErrorInfo reason.
		{core.Errorf(core.KindTokenInvalid, "malformed JWT"), codes.DataLoss, core.KindTokenInvalid},
		// A server's 5xx rides on ABORTED (an HTTP error) with a reason.
		{core.Errorf(core.KindHTTPServer, "login: HTTP 503"), codes.Aborted, core.KindHTTPServer},
		{core.Errorf(core.KindHTTP, "HTTP 409"), codes.Aborted, core.KindHTTP},
		{core.Errorf(core.KindForbidden, "lacks Item.Build"), codes.PermissionDenied, core.KindForbidden},
		{core.Errorf(core.KindUnsupported, "no such action"), codes.Unimplemented, core.KindUnsupported},
		// A deadline the scheme did not classify is still a timeout; any
		// other unclassified error is the plugin's failure.
		{fmt.Errorf("login: %w", context.DeadlineExceeded), codes.DeadlineExceeded, core.KindTimeout},
		{fmt.Errorf("nil map"), codes.Internal, core.KindPlugin},
	}
	// The host's own call deadline says which call and which setting.
	host := fromStatus(status.Error(codes.DeadlineExceeded, context.DeadlineExceeded.Error()), "login")
	if core.KindOf(host) != core.KindTimeout || host.Error() != "plugin call login timed out (call_timeout; raise it if the server is just slow)" {
		t.Errorf("the host's deadline: %v (%v)", host, core.KindOf(host))
	}
	for _, tt := range tests {
		wire := toStatus(tt.err)
		if got := status.Code(wire); got != tt.code {
			t.Errorf("%v: sent as %v, want %v", tt.err, got, tt.code)
		}
		back := fromStatus(wire, "login")
		if core.KindOf(back) != tt.kind {
			t.Errorf("%v: came back as %v (%v), want %v", tt.err, back, core.KindOf(back), tt.kind)
		}
		if tt.kind != core.KindPlugin && back.Error() != tt.err.Error() {
			t.Errorf("%v: message came back as %q", tt.err, back)
		}
	}
}

// A reason this host does not know, or another domain's, falls back to the
// status code, so a newer plugin still gets the broader kind.
func TestUnknownReasonFallsBackToCode(t *testing.T) {
	for _, info := range []*errdetails.ErrorInfo{
		{Reason: "SOMETHING_NEW", Domain: ErrorDomain},
		{Reason: "TOKEN_INVALID", Domain: "example.com"},
		{Reason: "HTTP_SERVER_ERROR", Domain: ErrorDomain}, // a reason of another code
	} {
		st, _ := status.New(codes.DataLoss, "odd answer").WithDetails(info)
		if err := fromStatus(st.Err(), "login"); core.KindOf(err) != core.KindBadAnswer || err.Error() != "odd answer" {
			t.Errorf("%v: %v (%v), want a bad answer", info, err, core.KindOf(err))
		}
	}
}
