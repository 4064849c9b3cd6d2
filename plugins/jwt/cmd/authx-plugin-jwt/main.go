// Command authx-plugin-jwt serves the jwt scheme as an authx plugin.
package main

import (
	"github.com/authx/authx/core/sdk"
	"github.com/authx/authx/plugins/jwt"
)

func main() { sdk.Serve(jwt.New()) }
