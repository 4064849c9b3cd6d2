//go:build windows

package cache

import (
	"io/fs"

	"golang.org/x/sys/windows"
)

// openNonBlock: Windows has no FIFOs a plain open would wait on.
const openNonBlock = 0

// errReadOnlyFS is the error of a write to read-only media.
var errReadOnlyFS error = windows.ERROR_WRITE_PROTECT

// owner is unknown on Windows: the directory's ACL decides.
func owner(fs.FileInfo) (int, bool) { return 0, false }
