package agent

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// PeerUID returns the uid of the process at the other end of c (a
// *net.UnixConn, or an *os.File of a connected Unix socket)
// (SO_PEERCRED: the credentials of the process that connected, or that
// listened, fixed at that moment).
func PeerUID(c syscall.Conn) (int, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, err
	}
	if credErr != nil {
		return 0, credErr
	}
	return int(cred.Uid), nil
}
