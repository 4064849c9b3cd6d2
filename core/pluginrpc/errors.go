package pluginrpc

import (
	"context"
	"errors"
	"strings"

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
}

// toStatus turns a scheme's error into the gRPC status the host decodes.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	var e *core.Error
	if errors.As(err, &e) {
		for _, kc := range kindCodes {
			if kc.kind == e.Kind {
				return status.Error(kc.code, e.Error())
			}
		}
	}
	return status.Error(codes.Internal, err.Error())
}

// fromStatus turns a status from the plugin into a *core.Error. A transport
// failure (the plugin died, the connection broke) becomes KindPlugin; the
// caller decides whether the process is gone.
func fromStatus(err error, call string) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return core.Wrap(core.KindPlugin, err, "plugin "+call)
	}
	msg := st.Message()
	switch st.Code() {
	case codes.DeadlineExceeded:
		return core.Errorf(core.KindNetwork, "%s", firstLine(msg))
	case codes.Canceled:
		return core.Errorf(core.KindInterrupted, "%s: canceled", call)
	case codes.Internal, codes.Unknown:
		return core.Errorf(core.KindPlugin, "plugin %s failed: %s", call, firstLine(msg))
	}
	for _, kc := range kindCodes {
		if kc.code == st.Code() {
			return &core.Error{Kind: kc.kind, Msg: firstLine(msg), Err: transportHint(st)}
		}
	}
	return core.Errorf(core.KindPlugin, "plugin %s: %s: %s", call, st.Code(), firstLine(msg))
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
	for _, s := range []string{"error reading from server", "connection error", "transport is closing", "connection closed", "EOF"} {
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
