package testkit

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/authx/authx/core"
)

// Device is a scheme for the tests of the host's UI (protocol minor 3): its
// login asks the host to show a device code and to open the verification
// URL, as an OAuth 2.0 device login does, then returns a credential at
// once. Without a UI it fails at once with KindLoginRequired, unless told
// to misbehave.
type Device struct{}

func (Device) Describe() core.Description {
	return core.Description{
		Name: "device", Version: "0.0.1", Summary: "test scheme whose login needs the user's browser",
		Config: []core.Field{
			{Name: "code", Type: core.TypeString, Default: "WDJB-MJHT", Help: "the user code to show"},
			{Name: "verification_uri", Type: core.TypeString, Default: "https://idp.example.com/device", Help: "the URL to open"},
			{Name: "id_token", Type: core.TypeString, Help: "the id token of the credential"},
			{Name: "misbehave", Type: core.TypeString, Enum: []string{"", "hang"}, Help: "hang: wait forever without a UI"},
			{Name: "refresh", Type: core.TypeString, Enum: []string{"", "keep-id-token"}, Help: "keep-id-token: a refresh gives a new token and keeps the old id token, as an OpenID Provider whose refresh answer has no id_token; else a refresh needs a login"},
		},
	}
}

func (Device) Configure(_ context.Context, cfg core.Config) []core.Diagnostic {
	if u, err := url.Parse(cfg.String("verification_uri", "https://idp.example.com/device")); err != nil || u.Host == "" {
		return []core.Diagnostic{core.DiagError("verification_uri", "expected an absolute URL")}
	}
	return nil
}

func (Device) Login(ctx context.Context, req core.LoginRequest) (*core.Credential, error) {
	code := req.Config.String("code", "WDJB-MJHT")
	uri := req.Config.String("verification_uri", "https://idp.example.com/device")
	if req.UI == nil {
		if req.Config.String("misbehave", "") == "hang" {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return nil, core.Errorf(core.KindLoginRequired, "the device login needs a browser and this run is non-interactive; run: authx login")
	}
	if err := req.UI.Notify(ctx, fmt.Sprintf("To sign in, open %s\nand enter the code %s", uri, code)); err != nil {
		return nil, err
	}
	if err := req.UI.OpenURL(ctx, uri+"?user_code="+url.QueryEscape(code)); err != nil {
		return nil, err
	}
	return &core.Credential{Token: "device-" + code, IDToken: req.Config.String("id_token", ""),
		Headers: []core.Header{{Name: "Authorization", Value: "Bearer device-" + code}}, ExpiresAt: time.Now().Add(time.Hour)}, nil
}

// Refresh needs a login, unless the config says refresh: keep-id-token:
// then it gives another token with the credential's id token.
func (Device) Refresh(_ context.Context, req core.RefreshRequest) (*core.Credential, error) {
	if req.Config.String("refresh", "") != "keep-id-token" {
		return nil, core.Errorf(core.KindLoginRequired, "the device scheme cannot refresh")
	}
	tok := fmt.Sprintf("device-refreshed-%d", time.Now().UnixNano())
	return &core.Credential{Token: tok, IDToken: req.Credential.IDToken,
		Headers: []core.Header{{Name: "Authorization", Value: "Bearer " + tok}}, ExpiresAt: time.Now().Add(time.Hour)}, nil
}
