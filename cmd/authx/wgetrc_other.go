//go:build !linux

package main

import "os"

// wgetrc returns a file holding content, positioned at its start, that no
// directory names once it returns (see unlinkedFile). wget reads it as
// /dev/fd/N.
func wgetrc(content string) (*os.File, error) { return unlinkedFile(content) }

// secretFile returns a pipe holding content (pipeFile): never a file on
// disk, read once by the child as /dev/fd/N.
func secretFile(_ string, content []byte) (*os.File, error) { return pipeFile(content) }
