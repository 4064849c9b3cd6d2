// Command authx-plugin-deaf is the basic scheme whose gRPC server answers
// go-plugin's controller Shutdown but does not stop: authx would have to
// kill it after the grace period, which the conformance kit's "shutdown"
// check must catch. (Served by plugin.Serve directly, it has no parent
// watch either.)
package main

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/pluginrpc"
	"github.com/authx/authx/plugins/basic"
)

type scheme struct{ *basic.Scheme }

func (s scheme) Describe() core.Description {
	d := s.Scheme.Describe()
	d.Name = "deaf"
	return d
}

// ignoreShutdown acknowledges the controller's Shutdown without acting on it.
func ignoreShutdown(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	if info.FullMethod == "/plugin.GRPCController/Shutdown" {
		return &emptypb.Empty{}, nil
	}
	return next(ctx, req)
}

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: pluginrpc.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{
			pluginrpc.ProtocolMajor: {pluginrpc.PluginName: &pluginrpc.SchemePlugin{Impl: scheme{basic.New()}}},
		},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return plugin.DefaultGRPCServer(append(opts, grpc.ChainUnaryInterceptor(ignoreShutdown)))
		},
	})
}
