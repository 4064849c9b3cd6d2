//go:build linux || freebsd || dragonfly || netbsd || openbsd

package agent

import "golang.org/x/sys/unix"

func socket() (int, error) {
	return unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
}
