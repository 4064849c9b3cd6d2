// Package browser opens a URL in the user's web browser for the host (a
// browser login's authorization URL, a device login's verification URL).
//
// The browser is $BROWSER when it is set: a command, split into words as
// a shell would split a plain word list (quotes and backslashes, no
// expansion), with the URL appended as its last argument; it is never run
// through a shell. Otherwise it is the platform's opener: xdg-open on
// Linux and the BSDs (only with a display: $DISPLAY or $WAYLAND_DISPLAY),
// open on macOS, the URL protocol handler on Windows. When there is none,
// Open returns ErrNoBrowser and the caller prints the URL instead.
//
// The browser is started detached, in a session of its own, with its
// standard streams on the null device, and is not waited for: a browser
// that stays open, or an opener that hands the URL to a running browser and
// exits, never holds up the login. Its exit status is collected in the
// background.
package browser

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// ErrNoBrowser says there is no browser to open: no $BROWSER, and no
// opener for this platform or no display.
var ErrNoBrowser = errors.New("no browser to open")

// Env is what Command reads of the environment: nil means os.Getenv.
type Env func(string) string

// Command returns the argv that opens url: $BROWSER's words and url, or
// the platform opener's (goos, "" for this one). It returns ErrNoBrowser
// when there is none, and an error when $BROWSER is not a valid word list.
func Command(url string, getenv Env, goos string) ([]string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if goos == "" {
		goos = runtime.GOOS
	}
	if b := strings.TrimSpace(getenv("BROWSER")); b != "" {
		words, err := Split(b)
		if err != nil {
			return nil, fmt.Errorf("$BROWSER: %w", err)
		}
		if len(words) > 0 {
			return append(words, url), nil
		}
	}
	switch goos {
	case "darwin":
		return []string{"open", url}, nil
	case "windows":
		return []string{"rundll32", "url.dll,FileProtocolHandler", url}, nil
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly", "illumos", "solaris":
		if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
			return nil, ErrNoBrowser // xdg-open would start a text browser in our terminal
		}
		return []string{"xdg-open", url}, nil
	}
	return nil, ErrNoBrowser
}

// Open starts the browser on url (see Command) and returns once it has
// started. It returns ErrNoBrowser when there is none or its executable is
// not found, and a one-line error when it cannot be started; the error
// never holds url.
func Open(url string, getenv Env) error {
	argv, err := Command(url, getenv, "")
	if err != nil {
		return err
	}
	path, err := exec.LookPath(argv[0])
	if errors.Is(err, exec.ErrNotFound) && len(argv) == 2 && argv[0] == "xdg-open" {
		return ErrNoBrowser
	}
	if err != nil {
		return fmt.Errorf("the browser %s cannot be run: %v", argv[0], cause(err))
	}
	cmd := exec.Command(path, argv[1:]...)
	cmd.Args[0] = argv[0]
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the browser %s: %v", argv[0], cause(err))
	}
	go cmd.Wait() // reaps it whenever it exits; nobody waits for it
	return nil
}

// cause is err's wrapped error (the system's reason without the path or
// command line, which may hold the URL), or err.
func cause(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}

// Split splits s into words as a POSIX shell splits a word list without
// expansion: blanks separate words, '...' quotes anything but ', "..."
// quotes anything but " and \ (which \ escapes), and \ outside quotes
// escapes the next character.
func Split(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words, inWord = append(words, w.String()), false
				w.Reset()
			}
			continue
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("unterminated single quote")
			}
			w.WriteString(s[i+1 : i+1+end])
			i += 1 + end
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`"\$`+"`", s[i+1]) >= 0 {
					i++
				}
				w.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("unterminated double quote")
			}
		case c == '\\':
			if i+1 >= len(s) {
				return nil, errors.New("a backslash ends it")
			}
			i++
			w.WriteByte(s[i])
		default:
			w.WriteByte(c)
		}
		inWord = true
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}
