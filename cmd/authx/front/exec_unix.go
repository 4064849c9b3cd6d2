//go:build unix

package main

import (
	"fmt"
	"os"
	"syscall"
)

// execCLI replaces this process with the full CLI: the same pid, so signals,
// the exit code and the terminal behave as if it had been run directly.
func execCLI(cli string, args, env []string) int {
	err := syscall.Exec(cli, append([]string{"authx"}, args...), env)
	fmt.Fprintf(os.Stderr, "authx: running %s: %v\n", cli, err)
	return 8
}

// replace replaces this process with the program at path: authx exec's
// command gets the front's pid, so signals, the exit status and the
// terminal are its own, and no authx process stays. It returns only on
// failure.
func replace(path string, argv, env []string) error { return syscall.Exec(path, argv, env) }
