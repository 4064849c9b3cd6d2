//go:build !linux

package plugintest

import "context"

// exitsWithHost needs Linux's /proc to watch a process that is not a child.
func (r *runner) exitsWithHost(context.Context) (Status, string) {
	return Skip, "checked on Linux only"
}
