//go:build unix

package main

import "syscall"

// disableCoreDumps sets the core size limit to 0, soft and hard, so that
// neither the front (which holds a cached credential while it prints it)
// nor authx-cli, which it execs, can leave one in a core file. One system
// call; a failure is ignored. authx-cli does the rest (see its
// disableCoreDumps).
func disableCoreDumps() { syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{}) }
