// Command authx-plugin-digest serves the digest scheme as an authx plugin.
package main

import (
	"github.com/authx/authx/core/sdk"
	"github.com/authx/authx/plugins/digest"
)

func main() { sdk.Serve(digest.New()) }
