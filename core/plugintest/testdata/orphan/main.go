// Command authx-plugin-orphan is the basic scheme served by plugin.Serve
// directly, without core/sdk's parent watch: it outlives a killed host
// (where no PR_SET_PDEATHSIG kills it), which the conformance kit's "exits
// when its host dies" check must catch.
package main

import (
	"github.com/hashicorp/go-plugin"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/pluginrpc"
	"github.com/authx/authx/plugins/basic"
)

type scheme struct{ *basic.Scheme }

func (s scheme) Describe() core.Description {
	d := s.Scheme.Describe()
	d.Name = "orphan"
	return d
}

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: pluginrpc.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{
			pluginrpc.ProtocolMajor: {pluginrpc.PluginName: &pluginrpc.SchemePlugin{Impl: scheme{basic.New()}}},
		},
		GRPCServer: plugin.DefaultGRPCServer,
	})
}
