//go:build unix

package main

import (
	"os"
	"syscall"
)

// detached makes the agent the leader of a session of its own: no
// controlling terminal, no signal from the shell's job control.
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

// noFollow makes an open fail on a symbolic link.
const noFollow = syscall.O_NOFOLLOW

// ownedByMe reports whether fi's file belongs to this user.
func ownedByMe(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid()
}
