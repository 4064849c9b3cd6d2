// Command authx-plugin-rawnoisy is the basic scheme writing to its stdout
// file descriptor directly during Login, as a plugin in C or Python would
// (a Go plugin's os.Stdout is forwarded by go-plugin; fd 1 is not). The
// conformance kit's "stdout stays clean" check must catch it too.
package main

import (
	"context"
	"syscall"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/sdk"
	"github.com/authx/authx/plugins/basic"
)

type scheme struct{ *basic.Scheme }

func (s scheme) Describe() core.Description {
	d := s.Scheme.Describe()
	d.Name = "rawnoisy"
	return d
}

func (s scheme) Login(ctx context.Context, req core.LoginRequest) (*core.Credential, error) {
	syscall.Write(1, []byte("raw debug line\n"))
	return s.Scheme.Login(ctx, req)
}

func main() { sdk.Serve(scheme{basic.New()}) }
