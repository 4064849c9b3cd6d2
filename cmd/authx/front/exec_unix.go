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
