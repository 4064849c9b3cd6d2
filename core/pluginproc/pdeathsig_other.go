//go:build !linux

package pluginproc

import "os/exec"

// setParentDeathSignal is Linux-only; elsewhere the SDK's parent watch makes
// an orphaned plugin exit.
func setParentDeathSignal(*exec.Cmd) {}
