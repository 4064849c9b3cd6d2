package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// wgetrc returns a file holding content, positioned at its start, that no
// directory names: an anonymous memory file, so a killed authx leaves
// nothing behind. wget reads it as /dev/fd/N (a pipe would not do: wget
// refuses a config it cannot read as a regular file).
func wgetrc(content string) (*os.File, error) {
	f, err := memFile("authx-wgetrc", []byte(content))
	if err != nil {
		return unlinkedFile(content)
	}
	return f, nil
}

// secretFile returns a file holding content that no file system holds: an
// anonymous memory file, which a child may open as /dev/fd/N any number of
// times (each open reads from the start), else a pipe it reads once.
func secretFile(name string, content []byte) (*os.File, error) {
	f, err := memFile(name, content)
	if err != nil {
		return pipeFile(content)
	}
	return f, nil
}

// memFile returns an anonymous memory file holding content, positioned at
// its start.
func memFile(name string, content []byte) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return fill(os.NewFile(uintptr(fd), name), string(content))
}
