package plugintest

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// shutdownMethod is go-plugin's controller call, which its host makes
// before it kills a plugin; plugin.Empty has the wire form of
// google.protobuf.Empty.
const shutdownMethod = "/plugin.GRPCController/Shutdown"

// shutdownGrace is how long go-plugin waits after Shutdown before it kills
// the process.
const shutdownGrace = 2 * time.Second

// shutdown calls the controller's Shutdown and waits for the plugin to exit.
// It ends the plugin the earlier checks used.
func (r *runner) shutdown(ctx context.Context) (Status, string) {
	start := time.Now()
	err := r.plugin.Conn().Invoke(ctx, shutdownMethod, &emptypb.Empty{}, &emptypb.Empty{})
	if status.Code(err) == codes.Unimplemented {
		return Fail, "no plugin.GRPCController service: authx cannot stop the plugin gracefully (docs/plugin-protocol.md)"
	}
	// Any other error may be the plugin exiting before it answered, which
	// is allowed: what counts is that it exits.
	for !r.plugin.Exited() {
		if time.Since(start) > shutdownGrace {
			return Fail, fmt.Sprintf("still running %s after Shutdown: go-plugin kills it then", shutdownGrace)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return Pass, fmt.Sprintf("exited %s after Shutdown", time.Since(start).Round(time.Millisecond))
}
