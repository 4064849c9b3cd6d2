//go:build unix

package cache

import (
	"io/fs"
	"syscall"
)

// openNonBlock opens a FIFO without waiting for a writer.
const openNonBlock = syscall.O_NONBLOCK

// errReadOnlyFS is the error of a write to a read-only file system.
var errReadOnlyFS error = syscall.EROFS

// owner returns the uid that owns fi's file.
func owner(fi fs.FileInfo) (uid int, known bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
