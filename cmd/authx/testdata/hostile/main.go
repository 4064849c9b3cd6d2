// Command authx-plugin-hostile is a plugin for authx's injection tests: it
// answers whatever credential its profile's config describes, however
// malformed (a CR/LF in a header value, a ';' in a cookie name, a NUL in the
// token, a token of 100 MB), so that the tests can check the host refuses it.
package main

import (
	"context"
	"strings"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/sdk"
)

type scheme struct{}

var _ core.Applier = scheme{}

func (scheme) Describe() core.Description {
	return core.Description{
		Name: "hostile", Version: "0.0.1", Summary: "answers the credential its config describes, however malformed",
		Config: []core.Field{
			{Name: "token", Type: core.TypeString},
			{Name: "header_name", Type: core.TypeString},
			{Name: "header_value", Type: core.TypeString},
			{Name: "cookie_name", Type: core.TypeString},
			{Name: "cookie_value", Type: core.TypeString},
			{Name: "token_bytes", Type: core.TypeInt, Help: "answer a token of this many bytes"},
			{Name: "state_bytes", Type: core.TypeInt, Help: "answer a state of this many bytes"},
			{Name: "per_request", Type: core.TypeBool, Help: "answer the header from Apply instead of Login"},
		},
	}
}

func (scheme) Configure(context.Context, core.Config) []core.Diagnostic { return nil }

func (scheme) Login(_ context.Context, req core.LoginRequest) (*core.Credential, error) {
	cfg := req.Config
	c := &core.Credential{Token: cfg.String("token", "")}
	if n := cfg.Int("token_bytes", 0); n > 0 {
		c.Token = strings.Repeat("t", n)
	}
	if n := cfg.Int("state_bytes", 0); n > 0 {
		c.State = []byte(strings.Repeat("s", n))
	}
	if cfg.Bool("per_request", false) {
		c.PerRequest = true
	} else if name := cfg.String("header_name", ""); name != "" {
		c.Headers = []core.Header{{Name: name, Value: cfg.String("header_value", "")}}
	}
	if name := cfg.String("cookie_name", ""); name != "" {
		c.Cookies = []core.Cookie{{Name: name, Value: cfg.String("cookie_value", "")}}
	}
	return c, nil
}

func (scheme) Apply(_ context.Context, req core.ApplyRequest) (*core.ApplyResult, error) {
	return &core.ApplyResult{Headers: []core.Header{{Name: req.Config.String("header_name", ""), Value: req.Config.String("header_value", "")}}}, nil
}

func main() { sdk.Serve(scheme{}) }
