// Command authx-plugin-jenkins serves the jenkins scheme as an authx plugin.
package main

import (
	"github.com/authx/authx/core/sdk"
	"github.com/authx/authx/plugins/jenkins"
)

func main() { sdk.Serve(jenkins.New()) }
