//go:build unix

package host

import (
	"os"
	"syscall"
)

func inode(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}

func trimExe(name string) string { return name }

// sameFile reports whether a and b describe the same file, unchanged: same
// device and inode, size and mtime, and on Linux ctime (which no user can
// set back).
func sameFile(a, b os.FileInfo) bool {
	sa, okA := a.Sys().(*syscall.Stat_t)
	sb, okB := b.Sys().(*syscall.Stat_t)
	return okA && okB && sa.Dev == sb.Dev && sa.Ino == sb.Ino && a.Size() == b.Size() &&
		a.ModTime().Equal(b.ModTime()) && sameCtime(sa, sb)
}
