// Command authx-plugin-basic serves the basic scheme as an authx plugin.
package main

import (
	"github.com/authx/authx/core/sdk"
	"github.com/authx/authx/plugins/basic"
)

func main() { sdk.Serve(basic.New()) }
