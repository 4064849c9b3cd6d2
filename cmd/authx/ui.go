package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/browser"
)

// terminalUI is the core.UI of an interactive run: a login's notices go to
// stderr, each line prefixed "authx: ", and its URLs to the browser (see
// core/browser) and stderr. Nothing goes to stdout, which a script reads.
// The plugin's text has been checked by pluginrpc (no control character
// but line feed and tab) before it gets here.
type terminalUI struct {
	mu        sync.Mutex
	stderr    io.Writer
	noBrowser bool
	// open opens a URL in the browser; browser.Open in the CLI.
	open func(url string) error
	// debug logs a line at debug level; it is never given the URL.
	debug func(msg string, args ...any)
}

var _ core.UI = (*terminalUI)(nil)

// Notify prints message on stderr, line by line.
func (u *terminalUI) Notify(_ context.Context, message string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, line := range strings.Split(strings.TrimRight(message, "\n"), "\n") {
		fmt.Fprintf(u.stderr, "authx: %s\n", line)
	}
	return nil
}

// OpenURL opens url in the browser unless --no-browser, and prints it on
// stderr either way, so that the user has it when the browser does not
// show up (another machine, another desktop).
func (u *terminalUI) OpenURL(_ context.Context, url string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.noBrowser {
		fmt.Fprintf(u.stderr, "authx: open this URL in your browser: %s\n", url)
		return nil
	}
	u.debug("opening the browser")
	switch err := u.open(url); {
	case err == nil:
		fmt.Fprintf(u.stderr, "authx: opening your browser at %s\n", url)
	case errors.Is(err, browser.ErrNoBrowser):
		fmt.Fprintf(u.stderr, "authx: open this URL in your browser: %s\n", url)
	default:
		fmt.Fprintf(u.stderr, "authx: %s; open this URL in your browser: %s\n", oneLine(err.Error()), url)
	}
	return nil
}
