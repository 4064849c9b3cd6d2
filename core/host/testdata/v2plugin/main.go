// A plugin that only speaks a future protocol major version (2), to check
// that the host refuses it with a clear message.
package main

import (
	"github.com/hashicorp/go-plugin"

	"github.com/authx/authx/core/pluginrpc"
	"github.com/authx/authx/plugins/basic"
)

func main() {
	hs := pluginrpc.Handshake
	hs.ProtocolVersion = 2
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  hs,
		VersionedPlugins: map[int]plugin.PluginSet{2: {pluginrpc.PluginName: &pluginrpc.SchemePlugin{Impl: basic.New()}}},
		GRPCServer:       plugin.DefaultGRPCServer,
	})
}
