package sdk

import (
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A panic inside a streaming call (LoginStream) becomes an INTERNAL error
// naming the call, as in a unary one, instead of killing the plugin.
func TestRecoverStreamPanics(t *testing.T) {
	var log strings.Builder
	logger := hclog.New(&hclog.LoggerOptions{Output: &log, Level: hclog.Error})
	err := recoverStreamPanics(logger)(nil, nil, &grpc.StreamServerInfo{FullMethod: "/authx.plugin.v1.AuthScheme/LoginStream"},
		func(any, grpc.ServerStream) error { panic("boom s3cret") })
	if status.Code(err) != codes.Internal || status.Convert(err).Message() != "plugin panicked in /authx.plugin.v1.AuthScheme/LoginStream: boom s3cret" {
		t.Errorf("%v", err)
	}
	if !strings.Contains(log.String(), "panic in plugin call") || strings.Contains(log.String(), "s3cret") {
		t.Errorf("log %q: want the stack, not the panic's text", log.String())
	}
	if err := recoverStreamPanics(logger)(nil, nil, &grpc.StreamServerInfo{}, func(any, grpc.ServerStream) error { return nil }); err != nil {
		t.Errorf("no panic: %v", err)
	}
}
