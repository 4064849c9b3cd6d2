package pluginproc

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal asks the kernel to SIGKILL the plugin when the thread
// that started it dies. Go keeps that thread alive for the process's life in
// practice (the front starts a plugin from its main thread, which its exec
// of authx-cli keeps); the SDK's parent watch covers the rest.
func setParentDeathSignal(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
