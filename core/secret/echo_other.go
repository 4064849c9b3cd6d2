//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package secret

import (
	"os"

	"golang.org/x/term"
)

// echoOff does nothing here: term.ReadPassword turns echo off itself, just
// after the prompt is written.
func echoOff(int) (func(), error) { return func() {}, nil }

// readLine reads a line without echo through term.ReadPassword.
func readLine(tty *os.File) ([]byte, error) { return term.ReadPassword(int(tty.Fd())) }
