//go:build !unix

package agent

import (
	"net"
	"time"
)

type connection = *net.UnixConn

func dial(path string, deadline time.Time) (connection, error) {
	d := net.Dialer{Deadline: deadline}
	c, err := d.Dial("unix", path)
	if err != nil {
		return nil, err
	}
	uc := c.(*net.UnixConn)
	uc.SetDeadline(deadline)
	return uc, nil
}
