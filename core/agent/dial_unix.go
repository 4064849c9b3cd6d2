//go:build unix

package agent

import (
	"errors"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// connection is a connected socket: blocking reads and writes, each
// bounded by the socket's timeouts.
type connection = *os.File

// dial connects to the Unix socket at path with a blocking socket whose
// connect, reads and writes time out at deadline.
func dial(path string, deadline time.Time) (connection, error) {
	timeout := time.Until(deadline)
	if timeout <= 0 {
		return nil, os.ErrDeadlineExceeded
	}
	fd, err := socket()
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	tv := unix.NsecToTimeval(timeout.Nanoseconds())
	if err := errors.Join(unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv),
		unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("setsockopt", err)
	}
	for {
		err = unix.Connect(fd, &unix.SockaddrUnix{Name: path})
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("connect", err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

var _ syscall.Conn = connection(nil)
