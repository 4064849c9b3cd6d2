// Package sdk serves a core.Scheme as an authx plugin process.
//
// The whole main of a Go plugin is:
//
//	func main() { sdk.Serve(myscheme.New()) }
//
// Serve speaks the go-plugin handshake on stdout, serves authx.plugin.v1
// over gRPC, logs hclog JSON to stderr (the host shows it at --log-level),
// turns a panic in a call into an error instead of a crash, exits when the
// host process dies, so a killed authx leaves no plugin behind, and writes
// no core file (see disableCoreDumps).
package sdk

import (
	"context"
	"os"
	"runtime/debug"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/pluginproc"
	"github.com/authx/authx/core/pluginrpc"
)

// LogLevelEnv is the variable through which the host tells a plugin its log
// level ("off", "error", "warn", "info", "debug", "trace").
const LogLevelEnv = pluginproc.LogLevelEnv

// stderr is the process's standard error as it started: go-plugin's Serve
// points os.Stderr at a pipe of its own, whose bytes the host discards,
// while the host reads this one's hclog JSON lines into its own log.
var stderr = os.Stderr

// Logger returns the plugin's logger: hclog JSON on stderr at the host's
// level, which the host shows at its --log-level. It may be called before
// or during Serve. Schemes may log through it; they must never log a
// secret (the host masks the profile's secrets it knows, not others).
func Logger(name string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       name,
		Output:     stderr,
		JSONFormat: true,
		Level:      hclog.LevelFromString(os.Getenv(LogLevelEnv)),
	})
}

// Serve runs s as a plugin until the host disconnects or dies. It does not
// return. Run by hand (without the host's magic cookie), it prints a short
// explanation and exits with status 1.
func Serve(s core.Scheme) {
	disableCoreDumps()
	name := s.Describe().Name
	logger := Logger("plugin." + name)
	if os.Getenv(pluginrpc.Handshake.MagicCookieKey) != "" {
		go watchParent(os.Getppid(), time.Second, func() {
			logger.Debug("host process is gone; exiting")
			os.Exit(0)
		})
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: pluginrpc.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{
			pluginrpc.ProtocolMajor: {pluginrpc.PluginName: &pluginrpc.SchemePlugin{Impl: s}},
		},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts, grpc.ChainUnaryInterceptor(recoverPanics(logger)), grpc.ChainStreamInterceptor(recoverStreamPanics(logger)))
			return grpc.NewServer(opts...)
		},
		Logger: logger,
	})
	os.Exit(0)
}

// watchParent calls gone once the process's parent is no longer ppid (the
// host died and the plugin was re-parented).
func watchParent(ppid int, every time.Duration, gone func()) {
	if ppid <= 1 {
		return
	}
	for range time.Tick(every) {
		if os.Getppid() != ppid {
			gone()
			return
		}
	}
}

// recoverPanics turns a panic inside a call into an INTERNAL error and logs
// the stack to stderr, so a bug in one call does not kill the plugin. The
// panic's text goes only into the error, which the host masks the
// profile's secrets in; the log, which the host relays as is, has the
// stack alone.
func recoverPanics(logger hclog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if r := recover(); r != nil {
				logger.Error("panic in plugin call", "method", info.FullMethod, "stack", string(debug.Stack()))
				err = status.Errorf(codes.Internal, "plugin panicked in %s: %v", info.FullMethod, r)
			}
		}()
		return handler(ctx, req)
	}
}

// recoverStreamPanics is recoverPanics for the streaming calls (LoginStream).
func recoverStreamPanics(logger hclog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if r := recover(); r != nil {
				logger.Error("panic in plugin call", "method", info.FullMethod, "stack", string(debug.Stack()))
				err = status.Errorf(codes.Internal, "plugin panicked in %s: %v", info.FullMethod, r)
			}
		}()
		return handler(srv, ss)
	}
}
