// Command authx-plugin-badschema is the basic scheme with a broken config
// schema: a field declared twice and a default outside its enum. The
// conformance kit's "config schema" check must catch both.
package main

import (
	"github.com/authx/authx/core"
	"github.com/authx/authx/core/sdk"
	"github.com/authx/authx/plugins/basic"
)

type scheme struct{ *basic.Scheme }

func (s scheme) Describe() core.Description {
	d := s.Scheme.Describe()
	d.Name = "badschema"
	d.Config = append(d.Config,
		core.Field{Name: "username", Type: core.TypeString, Help: "declared a second time"},
		core.Field{Name: "speed", Type: core.TypeString, Default: "fast", Enum: []string{"slow", "careful"}},
	)
	return d
}

func main() { sdk.Serve(scheme{basic.New()}) }
