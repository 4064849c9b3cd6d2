// Package pluginrpc carries the core.Scheme contract over go-plugin's gRPC
// transport: the handshake both sides must agree on, the server adapter a
// plugin process runs (used by core/sdk) and the client adapter the host
// calls. It is the only package that knows the wire types.
package pluginrpc

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/pluginproc"
	pluginv1 "github.com/authx/authx/core/proto/authx/plugin/v1"
)

// ProtocolMajor is the major version of the plugin protocol this build
// speaks; it is the version go-plugin negotiates (PLUGIN_PROTOCOL_VERSIONS)
// and the "v1" in the proto package name.
const ProtocolMajor = pluginproc.ProtocolMajor

// ProtocolMinor is the minor version of authx.plugin.v1 this build knows.
// 1: Action.accepts_profile; url in HandleChallengeRequest and ApplyRequest;
// PERMISSION_DENIED classifies a refusal as forbidden.
// 2: DEADLINE_EXCEEDED is a timeout (exit 15), no longer a network error;
// DATA_LOSS classifies an unusable server answer (exit 16); an ErrorInfo
// detail of domain "authx.dev" and reason TOKEN_INVALID makes it exit 13,
// and reason HTTP_SERVER_ERROR on ABORTED exit 12.
// 3: LoginStream, through which a login shows notices and opens URLs via
// the host while it waits for the user (LoginRequest.ui says whether the
// host offers that); Credential.id_token.
// 4: ApplyResponse.state, which the host stores as the credential's new
// state (ApplyStateMinor); LoginRequest.challenge, the server's first 401
// probed by the host for plugins whose Capabilities.login_challenge is
// set; HandleChallengeRequest.retried, a second refusal's diagnosis.
const ProtocolMinor = 4

// ApplyStateMinor is the protocol minor version from which Apply may return
// state, Login may get the server's first challenge and HandleChallenge
// may be asked about a second refusal. An older plugin sends no state and
// ignores the fields it does not know, so it keeps working unchanged.
const ApplyStateMinor = 4

// PluginName is the name under which the scheme is dispensed.
const PluginName = "scheme"

// Handshake is the go-plugin handshake. The magic cookie only keeps a user
// from running a plugin by hand by mistake; it is not a security measure.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolMajor,
	MagicCookieKey:   pluginproc.MagicCookieKey,
	MagicCookieValue: pluginproc.MagicCookieValue,
}

// VersionedPlugins is what the host offers in negotiation.
func VersionedPlugins() map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{ProtocolMajor: {PluginName: &SchemePlugin{}}}
}

// SchemePlugin is the go-plugin plugin.GRPCPlugin for a core.Scheme.
// Impl is set in the plugin process only.
type SchemePlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl core.Scheme
}

var _ plugin.GRPCPlugin = (*SchemePlugin)(nil)

// GRPCServer registers the scheme's server adapter.
func (p *SchemePlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pluginv1.RegisterAuthSchemeServer(s, NewServer(p.Impl))
	return nil
}

// GRPCClient returns a *Client.
func (p *SchemePlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, cc *grpc.ClientConn) (any, error) {
	return &Client{rpc: pluginv1.NewAuthSchemeClient(cc)}, nil
}
