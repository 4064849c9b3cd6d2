//go:build !linux

package host

import "os/exec"

// setParentDeathSignal is Linux-only; elsewhere the SDK's parent watch makes
// an orphaned plugin exit.
func setParentDeathSignal(*exec.Cmd) {}
