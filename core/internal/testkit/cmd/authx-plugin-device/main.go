// Command authx-plugin-device serves the device test scheme (tests only).
package main

import (
	"github.com/authx/authx/core/internal/testkit"
	"github.com/authx/authx/core/sdk"
)

func main() { sdk.Serve(testkit.Device{}) }
