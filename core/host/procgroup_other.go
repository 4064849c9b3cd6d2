//go:build !unix

package host

import (
	"errors"
	"os"
	"os/exec"
)

// setProcessGroup is Unix-only.
func setProcessGroup(*exec.Cmd) {}

// killProcessGroup kills the plugin process alone.
func killProcessGroup(p *os.Process) error {
	if err := p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}
