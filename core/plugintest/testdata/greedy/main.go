// Command authx-plugin-greedy speaks the wire protocol directly, as a
// plugin in another language would. It claims login and apply only, yet
// answers Refresh with a credential instead of UNIMPLEMENTED, which the
// conformance kit's "refresh" check must catch. Everything else it does
// right, including exiting when its host dies.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/authx/authx/core/pluginrpc"
	pluginv1 "github.com/authx/authx/core/proto/authx/plugin/v1"
)

type server struct {
	pluginv1.UnimplementedAuthSchemeServer
}

func (server) Describe(context.Context, *pluginv1.DescribeRequest) (*pluginv1.DescribeResponse, error) {
	return &pluginv1.DescribeResponse{
		Name: "greedy", Version: "0.1.0", ProtocolMinor: 2, Summary: "answers a call it does not claim", // minor 2: no LoginStream, the host calls Login
		Capabilities: &pluginv1.Capabilities{Login: true, Apply: true},
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
	return &pluginv1.Credential{Token: "greedy-token", Headers: []*pluginv1.Header{{Name: "Authorization", Value: "Bearer greedy-token"}}}
}

func (server) Login(_ context.Context, req *pluginv1.LoginRequest) (*pluginv1.LoginResponse, error) {
	for k := range req.GetConfig().GetFields() {
		if k != "user" {
			return nil, status.Errorf(codes.InvalidArgument, "%s: unknown key", k)
		}
	}
	return &pluginv1.LoginResponse{Result: &pluginv1.LoginResponse_Credential{Credential: credential()}}, nil
}

// Refresh is the bug: the capability is not claimed, so the answer must be
// UNIMPLEMENTED.
func (server) Refresh(context.Context, *pluginv1.RefreshRequest) (*pluginv1.RefreshResponse, error) {
	return &pluginv1.RefreshResponse{Credential: credential()}, nil
}

func (server) Apply(_ context.Context, req *pluginv1.ApplyRequest) (*pluginv1.ApplyResponse, error) {
	sig := fmt.Sprintf("%s %x", req.GetRequest().GetMethod(), req.GetRequest().GetBodySha256())
	return &pluginv1.ApplyResponse{Headers: []*pluginv1.Header{{Name: "X-Greedy-Signature", Value: sig}}}, nil
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
