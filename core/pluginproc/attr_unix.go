//go:build unix

package pluginproc

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// setProcessGroup starts the plugin as the leader of a process group of its
// own, so that killing it kills what it started too: a plugin that is a
// shell script running its interpreter without exec leaves a child holding
// the stdout and stderr pipes, and go-plugin waits for those to close.
func setProcessGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}

// KillGroup sends SIGKILL to the plugin's process group, then to the
// plugin itself (which also covers a group already gone).
func KillGroup(p *os.Process) error {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	if err := p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}
