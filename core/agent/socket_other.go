//go:build unix && !(linux || freebsd || dragonfly || netbsd || openbsd)

package agent

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// socket makes the socket close-on-exec under the fork lock, as package
// net does where SOCK_CLOEXEC is missing.
func socket() (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	return fd, err
}
