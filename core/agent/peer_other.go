//go:build !linux && !darwin && !freebsd && !dragonfly

package agent

import (
	"errors"
	"syscall"
)

// PeerUID cannot learn the peer's uid on this system: the agent and its
// clients refuse every connection, and authx works without an agent.
func PeerUID(syscall.Conn) (int, error) {
	return 0, errors.New("peer credentials are not supported on this system")
}
