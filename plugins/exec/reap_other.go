//go:build !linux

package exec

import "syscall"

// adoptOrphans does nothing: only Linux has child subreapers. A killed
// child of the command is reaped by init.
func adoptOrphans() {}

func reapGroup(int) {}

// dieWithPlugin does nothing: only Linux has a parent-death signal.
func dieWithPlugin(*syscall.SysProcAttr) {}
