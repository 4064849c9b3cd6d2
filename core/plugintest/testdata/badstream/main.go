// Command authx-plugin-badstream speaks the wire protocol directly, as a
// plugin in another language would, and claims protocol minor 3. Its
// LoginStream breaks every rule of the events: a notice with terminal
// escapes, a URL that is no http(s) URL, a notice after the result; and
// without a UI it waits for a user who is not there. The conformance
// kit's "login stream" and "login without a UI" checks must catch it.
package main

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/authx/authx/core/pluginrpc"
	pluginv1 "github.com/authx/authx/core/proto/authx/plugin/v1"
)

type server struct {
	pluginv1.UnimplementedAuthSchemeServer
}

func (server) Describe(context.Context, *pluginv1.DescribeRequest) (*pluginv1.DescribeResponse, error) {
	return &pluginv1.DescribeResponse{
		Name: "badstream", Version: "0.1.0", ProtocolMinor: 3, Summary: "breaks the rules of LoginStream",
		Capabilities: &pluginv1.Capabilities{Login: true},
		Config:       []*pluginv1.Field{{Name: "user", Type: pluginv1.FieldType_FIELD_TYPE_STRING, Required: true}},
	}, nil
}

func (server) Configure(_ context.Context, req *pluginv1.ConfigureRequest) (*pluginv1.ConfigureResponse, error) {
	var ds []*pluginv1.Diagnostic
	for k, v := range req.GetConfig().GetFields() {
		if k != "user" {
			ds = append(ds, diag(k, "unknown key"))
			continue
		}
		if _, ok := v.GetKind().(*structpb.Value_StringValue); !ok {
			ds = append(ds, diag(k, "expected a string"))
		}
	}
	if _, ok := req.GetConfig().GetFields()["user"]; !ok {
		ds = append(ds, diag("user", "required string is missing"))
	}
	return &pluginv1.ConfigureResponse{Diagnostics: ds}, nil
}

func diag(field, msg string) *pluginv1.Diagnostic {
	return &pluginv1.Diagnostic{Severity: pluginv1.Diagnostic_SEVERITY_ERROR, Field: field, Message: msg}
}

func credential() *pluginv1.Credential {
	return &pluginv1.Credential{Token: "bad-token", Headers: []*pluginv1.Header{{Name: "Authorization", Value: "Bearer bad-token"}}}
}

func (server) Login(context.Context, *pluginv1.LoginRequest) (*pluginv1.LoginResponse, error) {
	return &pluginv1.LoginResponse{Result: &pluginv1.LoginResponse_Credential{Credential: credential()}}, nil
}

func (server) LoginStream(req *pluginv1.LoginRequest, s pluginv1.AuthScheme_LoginStreamServer) error {
	if !req.GetUi() {
		<-s.Context().Done() // waits for the user, who is not there
		return s.Context().Err()
	}
	for _, ev := range []*pluginv1.LoginEvent{
		{Event: &pluginv1.LoginEvent_Notice{Notice: &pluginv1.Notice{Message: "code \x1b[2J\x1b]0;pwned\x07"}}},
		{Event: &pluginv1.LoginEvent_OpenUrl{OpenUrl: &pluginv1.OpenURL{Url: "javascript:alert(1)"}}},
		{Event: &pluginv1.LoginEvent_Result{Result: &pluginv1.LoginResponse{Result: &pluginv1.LoginResponse_Credential{Credential: credential()}}}},
		{Event: &pluginv1.LoginEvent_Notice{Notice: &pluginv1.Notice{Message: "too late"}}},
	} {
		if err := s.Send(ev); err != nil {
			return err
		}
	}
	return nil
}

type schemePlugin struct{ plugin.NetRPCUnsupportedPlugin }

func (schemePlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pluginv1.RegisterAuthSchemeServer(s, server{})
	return nil
}

func (schemePlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("server only")
}

// watchParent exits once the host is gone, as every plugin must.
func watchParent() {
	ppid := os.Getppid()
	for range time.Tick(200 * time.Millisecond) {
		if os.Getppid() != ppid {
			os.Exit(0)
		}
	}
}

func main() {
	go watchParent()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  pluginrpc.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{pluginrpc.ProtocolMajor: {pluginrpc.PluginName: schemePlugin{}}},
		GRPCServer:       plugin.DefaultGRPCServer,
	})
}
