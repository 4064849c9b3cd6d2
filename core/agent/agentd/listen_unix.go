//go:build unix

package agentd

import (
	"net"
	"os"
	"syscall"

	"github.com/authx/authx/core"
)

// lockFile takes an exclusive flock on path for the agent's lifetime.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, core.Wrap(core.KindConfig, err, "the agent's lock")
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, ErrRunning
	}
	return func() { f.Close() }, nil
}

// listenPrivate listens at path with a umask that leaves the socket to
// its owner from the start.
func listenPrivate(path string) (*net.UnixListener, error) {
	old := syscall.Umask(0o177)
	defer syscall.Umask(old)
	return net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
}
