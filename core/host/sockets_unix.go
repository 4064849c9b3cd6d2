//go:build unix

package host

import (
	"errors"
	"os"
	"syscall"
)

// ownedByMe reports whether fi belongs to the user authx runs as.
func ownedByMe(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid()
}

// processRuns reports whether a process with this id exists (of any user:
// EPERM means it does).
func processRuns(pid int) bool {
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
