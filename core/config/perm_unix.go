//go:build unix

package config

import (
	"io/fs"
	"syscall"
)

// nonblock opens the config without waiting for a named pipe's writer.
const nonblock = syscall.O_NONBLOCK

// noOwner is the owner of a file whose owner is unknown.
const noOwner = ^uint32(0)

// fileOwner returns the uid owning the file.
func fileOwner(fi fs.FileInfo) uint32 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Uid
	}
	return noOwner
}
