package main

import (
	"os"

	"github.com/authx/authx/cmd/authx/internal/wrapcmd"
)

// secretFile returns a file holding content that no file system holds: an
// anonymous memory file, which a child may open as /dev/fd/N any number of
// times (each open reads from the start), else a pipe it reads once.
func secretFile(name string, content []byte) (*os.File, error) {
	f, err := wrapcmd.MemFile(name, content)
	if err != nil {
		return pipeFile(content)
	}
	return f, nil
}
