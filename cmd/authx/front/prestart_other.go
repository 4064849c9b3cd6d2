//go:build !linux

package main

import (
	"slices"
	"strings"

	"github.com/authx/authx/core/pluginproc"
)

// prestart starts nothing: handing a plugin over to authx-cli is
// Linux-only. It drops a handover the front inherited: authx-cli never
// sees one that is not its front's.
func prestart(cli string, args, env []string) ([]string, func()) {
	env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, pluginproc.HandoverEnv+"=") })
	return env, func() {}
}
