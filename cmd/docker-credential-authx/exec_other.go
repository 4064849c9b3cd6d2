//go:build !unix

package main

import (
	"errors"
	"os"
	"os/exec"
)

// run runs path as a child with this process's stdin, stdout and stderr
// and returns its exit code.
func run(path string, argv []string) (int, error) {
	c := exec.Command(path, argv[1:]...)
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := c.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	return 0, err
}
