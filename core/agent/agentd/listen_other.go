//go:build !unix

package agentd

import (
	"net"

	"github.com/authx/authx/core"
)

func lockFile(string) (func(), error) {
	return nil, core.Errorf(core.KindUnsupported, "the authx agent needs a Unix system")
}

func listenPrivate(string) (*net.UnixListener, error) {
	return nil, core.Errorf(core.KindUnsupported, "the authx agent needs a Unix system")
}
