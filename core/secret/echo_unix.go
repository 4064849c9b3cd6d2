//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package secret

import (
	"bytes"
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

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

// readLine reads one line from the terminal, which echoOff left in
// canonical mode: the kernel handles erase and kill and hands over the line
// at Enter. It never touches the terminal's settings, so a read abandoned
// by a cancelled prompt cannot undo the restore.
func readLine(tty *os.File) ([]byte, error) {
	var line []byte
	buf := make([]byte, 256)
	for {
		n, err := tty.Read(buf)
		line = append(line, buf[:n]...)
		if i := bytes.IndexAny(line, "\r\n"); i >= 0 {
			return line[:i], nil
		}
		if err != nil {
			if len(line) > 0 && errors.Is(err, io.EOF) {
				return line, nil
			}
			return nil, err
		}
	}
}
