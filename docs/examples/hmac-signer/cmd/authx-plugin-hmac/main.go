// Command authx-plugin-hmac serves the hmac request-signing scheme as an
// authx plugin. Install it beside authx, or name it in the authx config
// (plugins: {hmac: {path: ..., sha256: ...}}).
package main

import (
	"github.com/authx/authx/core/sdk"

	hmacsigner "example.com/authx-hmac-signer"
)

func main() { sdk.Serve(hmacsigner.New()) }
