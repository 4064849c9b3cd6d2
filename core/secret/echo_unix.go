//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package secret

import "golang.org/x/sys/unix"

// echoOff turns the terminal's echo off and returns a func that turns it
// back on. The prompt is written only after this, so a key typed or pasted
// the instant the prompt appears is never echoed.
func echoOff(fd int) (restore func(), err error) {
	t, err := unix.IoctlGetTermios(fd, getTermios)
	if err != nil {
		return nil, err
	}
	saved := *t
	t.Lflag &^= unix.ECHO
	t.Lflag |= unix.ICANON | unix.ISIG
	t.Iflag |= unix.ICRNL
	if err := unix.IoctlSetTermios(fd, setTermios, t); err != nil {
		return nil, err
	}
	return func() { unix.IoctlSetTermios(fd, setTermios, &saved) }, nil
}
