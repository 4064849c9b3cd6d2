//go:build !unix

package exec

import osexec "os/exec"

func setProcessGroup(*osexec.Cmd) {}

// killGroup kills the command; its children are not tracked here.
func killGroup(c *osexec.Cmd) {
	if c.Process != nil {
		c.Process.Kill()
	}
}
