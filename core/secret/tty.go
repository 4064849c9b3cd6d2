package secret

import (
	"context"
	"fmt"
	"os"

	"golang.org/x/term"

	"github.com/authx/authx/core"
)

// Interactive reports whether authx may prompt: AUTHX_NO_INPUT is unset and
// the process has a controlling terminal.
func Interactive() bool {
	if os.Getenv("AUTHX_NO_INPUT") != "" {
		return false
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	defer tty.Close()
	return term.IsTerminal(int(tty.Fd()))
}

// TTYPrompt writes message to the terminal and reads a line without echo.
// When ctx ends first (Ctrl-C), it gives the terminal its echo back and
// returns a KindInterrupted error at once.
func TTYPrompt(ctx context.Context, message string) (string, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", core.Errorf(core.KindLoginRequired, "cannot prompt: no terminal")
	}
	fd := int(tty.Fd())
	restore, err := echoOff(fd)
	if err != nil {
		tty.Close()
		return "", core.Wrap(core.KindLoginRequired, err, "cannot prompt: turning off the terminal's echo")
	}
	fmt.Fprint(tty, message)
	type line struct {
		b   []byte
		err error
	}
	read := make(chan line, 1)
	go func() {
		b, err := readLine(tty)
		read <- line{b, err}
	}()
	select {
	case l := <-read:
		restore()
		fmt.Fprintln(tty)
		tty.Close()
		if l.err != nil {
			return "", core.Wrap(core.KindLoginRequired, l.err, "reading from the terminal")
		}
		return string(l.b), nil
	case <-ctx.Done():
		restore()
		fmt.Fprintln(tty)
		// The read goroutine stays blocked on the terminal until the process
		// exits, which an interrupt is about to cause; the tty stays open
		// for it.
		return "", core.Errorf(core.KindInterrupted, "interrupted at the prompt")
	}
}
