//go:build windows

package host

import (
	"os"
	"strings"
)

func inode(os.FileInfo) uint64 { return 0 }

func trimExe(name string) string { return strings.TrimSuffix(name, ".exe") }
