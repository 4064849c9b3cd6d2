//go:build !unix

package secret

import "os/exec"

const nonblock = 0

func setProcessGroup(*exec.Cmd) {}

// killGroup kills the command; its children are not tracked here.
func killGroup(c *exec.Cmd) {
	if c.Process != nil {
		c.Process.Kill()
	}
}
