// Command authx-plugin-exec serves the exec scheme as an authx plugin:
// the command's stderr goes to the plugin's log.
package main

import (
	"github.com/authx/authx/core/sdk"
	"github.com/authx/authx/plugins/exec"
)

func main() { sdk.Serve(exec.New(sdk.Logger("plugin.exec"))) }
