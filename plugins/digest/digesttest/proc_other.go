//go:build !linux

package digesttest

import "os/exec"

// detach does nothing here: the servers run on Debian.
func detach(*exec.Cmd) {}

// terminate kills cmd.
func terminate(cmd *exec.Cmd, _ bool) { cmd.Process.Kill() }
