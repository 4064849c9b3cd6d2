//go:build !linux

package main

import "os"

// secretFile returns a pipe holding content (pipeFile): never a file on
// disk, read once by the child as /dev/fd/N.
func secretFile(_ string, content []byte) (*os.File, error) { return pipeFile(content) }
