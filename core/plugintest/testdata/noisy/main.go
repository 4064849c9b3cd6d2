// Command authx-plugin-noisy is the basic scheme with a debugging print
// left in Login: it writes to stdout after the handshake, which the
// conformance kit's "stdout stays clean" check must catch.
package main

import (
	"context"
	"fmt"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/sdk"
	"github.com/authx/authx/plugins/basic"
)

type scheme struct{ *basic.Scheme }

func (s scheme) Describe() core.Description {
	d := s.Scheme.Describe()
	d.Name = "noisy"
	return d
}

func (s scheme) Login(ctx context.Context, req core.LoginRequest) (*core.Credential, error) {
	fmt.Println("DEBUG: logging in as", req.Config.String("username", ""))
	return s.Scheme.Login(ctx, req)
}

func main() { sdk.Serve(scheme{basic.New()}) }
