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
// When ctx ends first (Ctrl-C), the terminal gets its echo back at once:
// the process may exit before the read returns.
func TTYPrompt(ctx context.Context, message string) (string, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", core.Errorf(core.KindLoginRequired, "cannot prompt: no terminal")
	}
	defer tty.Close()
	if saved, err := term.GetState(int(tty.Fd())); err == nil {
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-ctx.Done():
				term.Restore(int(tty.Fd()), saved)
			case <-done:
			}
		}()
	}
	fmt.Fprint(tty, message)
	b, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return "", core.Wrap(core.KindLoginRequired, err, "reading from the terminal")
	}
	return string(b), nil
}
