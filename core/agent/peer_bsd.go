//go:build darwin || freebsd || dragonfly

package agent

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// PeerUID returns the uid of the process at the other end of c (a
// *net.UnixConn, or an *os.File of a connected Unix socket)
// (LOCAL_PEERCRED, what getpeereid(3) reads).
func PeerUID(c syscall.Conn) (int, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Xucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptXucred(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	}); err != nil {
		return 0, err
	}
	if credErr != nil {
		return 0, credErr
	}
	return int(cred.Uid), nil
}
