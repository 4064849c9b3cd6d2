//go:build windows

package host

import (
	"os"
	"strings"
)

func inode(os.FileInfo) uint64 { return 0 }

func trimExe(name string) string { return strings.TrimSuffix(name, ".exe") }

// sameFile reports whether a and b describe the same file, unchanged.
func sameFile(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}
