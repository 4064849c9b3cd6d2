//go:build unix

package exec

import (
	osexec "os/exec"
	"syscall"
)

// setProcessGroup runs the command in a process group of its own, which
// killGroup kills, and (on Linux) killed when the plugin dies.
func setProcessGroup(c *osexec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	dieWithPlugin(c.SysProcAttr)
}

// killGroup kills the command's process group: the command and every
// child that did not leave it. It is harmless once the group is gone.
func killGroup(c *osexec.Cmd) {
	if c.Process != nil {
		syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
	}
}
