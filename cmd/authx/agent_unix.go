//go:build unix

package main

import "syscall"

// detached makes the agent the leader of a session of its own: no
// controlling terminal, no signal from the shell's job control.
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }
