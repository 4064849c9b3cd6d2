//go:build unix

package secret

import (
	"os/exec"
	"syscall"
)

// setProcessGroup runs the command in its own process group and makes a
// cancel kill the whole group, so a timed-out `cmd:` leaves no child behind.
func setProcessGroup(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
}
