//go:build !unix

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
)

// execCLI runs the full CLI as a child (there is no exec(2) here) with the
// same standard streams, and returns its exit code.
func execCLI(cli string, args, env []string) int {
	signal.Ignore(os.Interrupt) // the child, in the same console, gets it
	c := exec.Command(cli, args...)
	c.Stdin, c.Stdout, c.Stderr, c.Env = os.Stdin, os.Stdout, os.Stderr, env
	err := c.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	fmt.Fprintf(os.Stderr, "authx: running %s: %v\n", cli, err)
	return 8
}
