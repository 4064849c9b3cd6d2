//go:build unix

package browser

import (
	"os/exec"
	"syscall"
)

// detach starts cmd in a session of its own: a Ctrl-C at the terminal
// that ends authx does not reach the browser, and the browser never
// reads the terminal.
func detach(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }
