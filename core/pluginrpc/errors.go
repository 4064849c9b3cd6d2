package pluginrpc

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authx/authx/core"
)

// The wire form of a failure is a gRPC status: the code carries the kind
// (the table below, documented in docs/plugin-protocol.md) and the message
// the user-facing line.
var kindCodes = []struct {
	kind core.Kind
	code codes.Code
}{
	{core.KindConfig, codes.InvalidArgument},
	{core.KindRejected, codes.Unauthenticated},
	{core.KindLoginRequired, codes.FailedPrecondition},
	{core.KindNetwork, codes.Unavailable},
	{core.KindUnsupported, codes.Unimplemented},
	{core.KindHTTP, codes.Aborted},
	{core.KindForbidden, codes.PermissionDenied},
	{core.KindTimeout, codes.DeadlineExceeded},
	{core.KindBadAnswer, codes.DataLoss},
}

// ErrorDomain is the google.rpc.ErrorInfo domain of authx's error reasons.
const ErrorDomain = "authx.dev"

// kindReasons are the kinds that share a status code with a broader kind:
// the status carries a google.rpc.ErrorInfo detail (domain ErrorDomain) with
// the reason, and a host that does not know it falls back to the code.
var kindReasons = []struct {
	kind   core.Kind
	reason string
	code   codes.Code
}{
	{core.KindTokenInvalid, "TOKEN_INVALID", codes.DataLoss},
	{core.KindHTTPServer, "HTTP_SERVER_ERROR", codes.Aborted},
}

// toStatus turns a scheme's error into the gRPC status the host decodes.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	var e *core.Error
	if errors.As(err, &e) {
		for _, kc := range kindCodes {
			if kc.kind == e.Kind {
				return status.Error(kc.code, e.Error())
			}
		}
		for _, kr := range kindReasons {
			if kr.kind == e.Kind {
				st, _ := status.New(kr.code, e.Error()).WithDetails(&errdetails.ErrorInfo{Reason: kr.reason, Domain: ErrorDomain})
				return st.Err()
			}
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

// fromStatus turns a status from the plugin into a *core.Error. A transport
// failure (the plugin died, the connection broke) becomes KindPlugin; the
// caller decides whether the process is gone.
// FromStatus is how the host reads a failed call's gRPC status: a
// *core.Error whose Kind the status code sets (docs/plugin-protocol.md),
// naming call. The conformance kit classifies raw calls' errors with it.
func FromStatus(err error, call string) error { return fromStatus(err, call) }

func fromStatus(err error, call string) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return core.Wrap(core.KindPlugin, err, "plugin "+call)
	}
	msg := st.Message()
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == ErrorDomain {
			for _, kr := range kindReasons {
				if kr.reason == info.GetReason() && kr.code == st.Code() {
					return core.Errorf(kr.kind, "%s", message(msg))
				}
			}
		}
	}
	switch st.Code() {
	case codes.DeadlineExceeded:
		if msg == context.DeadlineExceeded.Error() { // the host's own deadline, not the plugin's report
			return core.Errorf(core.KindTimeout, "plugin call %s timed out (call_timeout; raise it if the server is just slow)", call)
		}
	case codes.ResourceExhausted:
		if strings.Contains(msg, "larger than max") { // gRPC's own refusal of an answer over MaxAnswerSize
			return core.Errorf(core.KindPlugin, "plugin %s answered more than %d MiB, the most authx reads from a plugin", call, MaxAnswerSize>>20)
		}
	case codes.Canceled:
		return core.Errorf(core.KindInterrupted, "%s: canceled", call)
	case codes.Internal, codes.Unknown:
		return core.Errorf(core.KindPlugin, "plugin %s failed: %s", call, message(msg))
	}
	for _, kc := range kindCodes {
		if kc.code == st.Code() {
			return &core.Error{Kind: kc.kind, Msg: message(msg), Err: transportHint(st)}
		}
	}
	return core.Errorf(core.KindPlugin, "plugin %s: %s: %s", call, st.Code(), message(msg))
}

// errTransport marks an Unavailable status that came from gRPC itself rather
// than from the plugin (the connection to the plugin broke).
var errTransport = errors.New("plugin connection lost")

func transportHint(st *status.Status) error {
	if st.Code() == codes.Unavailable && isTransportMessage(st.Message()) {
		return errTransport
	}
	return nil
}

func isTransportMessage(m string) bool {
	// gRPC's own wording; not a bare "EOF", which a plugin's report of a
	// server closing mid-answer ("unexpected EOF") also holds.
	for _, s := range []string{"error reading from server", "connection error", "transport is closing", "connection closed"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// IsTransport reports whether err says the connection to the plugin broke.
func IsTransport(err error) bool { return errors.Is(err, errTransport) }

func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}

// MaxMessageSize bounds a plugin's error message or diagnosis as the host
// passes it on.
const MaxMessageSize = 2 << 10

// message is a plugin's error message or diagnosis as the host may show it
// on the user's terminal (like a notice, see CheckNotice): its first line,
// valid UTF-8, without control characters but tab (no ESC, DEL or C1
// control a terminal would interpret), cut to MaxMessageSize bytes. The
// plugin may quote a server, which chooses what it says.
func message(s string) string {
	s = strings.ToValidUTF8(firstLine(s), "\uFFFD")
	if strings.ContainsFunc(s, func(r rune) bool { return r != '\t' && isControl(r) }) {
		s = strings.Map(func(r rune) rune {
			if r != '\t' && isControl(r) {
				return -1
			}
			return r
		}, s)
	}
	if len(s) > MaxMessageSize {
		cut := MaxMessageSize
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
