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
	fd, err := unix.MemfdCreate("authx-wgetrc", unix.MFD_CLOEXEC)
	if err != nil {
		return unlinkedFile(content)
	}
	return fill(os.NewFile(uintptr(fd), "authx-wgetrc"), content)
}
