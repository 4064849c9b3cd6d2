//go:build unix

package main

import (
	"os"
	"syscall"
)

// run replaces this process with path: authx then answers the tool itself.
func run(path string, argv []string) (int, error) {
	return 0, syscall.Exec(path, argv, os.Environ())
}
