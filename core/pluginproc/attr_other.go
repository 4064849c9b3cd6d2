//go:build !unix

package pluginproc

import (
	"errors"
	"os"
	"os/exec"
)

// setProcessGroup is Unix-only.
func setProcessGroup(*exec.Cmd) {}

// KillGroup kills the plugin process alone.
func KillGroup(p *os.Process) error {
	if err := p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}
