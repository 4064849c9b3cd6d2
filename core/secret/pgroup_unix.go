//go:build unix

package secret

import (
	"os/exec"
	"syscall"
)

// nonblock opens a file: reference without waiting for a named pipe's
// writer.
const nonblock = syscall.O_NONBLOCK

// setProcessGroup runs the command in its own process group, which
// killGroup kills.
func setProcessGroup(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills the command's process group: the shell and every child
// that did not leave it. It is harmless once the group is gone.
func killGroup(c *exec.Cmd) {
	if c.Process != nil {
		syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
	}
}
