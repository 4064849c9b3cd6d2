//go:build !unix

package main

import (
	"net"

	"github.com/authx/authx/core"
)

// listenProxy listens on la; Unix sockets are for Unix only.
func listenProxy(la listenAddr) (net.Listener, error) {
	if la.network == "unix" {
		return nil, core.Errorf(core.KindUnsupported, "--listen unix: is supported on Unix only")
	}
	l, err := net.Listen(la.network, la.addr)
	if err != nil {
		return nil, core.Wrap(core.KindConfig, err, "authx proxy cannot listen")
	}
	return l, nil
}
