// Command authx hands HTTP credentials to scripts: it logs in through
// authentication-scheme plugins, caches what they return, and prints tokens
// and headers for curl, wget and any other program.
//
// See `authx --help` and docs/ for the commands, the configuration and the
// exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/host"
)

func main() {
	disableCoreDumps()
	host.TakeHandover() // the plugin the front started for this run, if any
	code := run(os.Args[1:])
	host.DropHandover() // unless this run adopted it
	os.Exit(code)
}

// run executes the CLI and returns the process exit code.
func run(args []string) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := newApp(ctx)
	defer a.close()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	var stoppedBy atomic.Int32 // the signal that canceled ctx: exit 128 + it
	go func() {
		for sig := range sigs {
			if a.forward(sig) {
				continue // a wrapped command is running: it decides, authx waits and cleans up
			}
			stoppedBy.Store(int32(sig.(syscall.Signal)))
			cancel()
			// Armed first: nothing below (a prompt, a plugin starting) may
			// keep authx alive.
			time.AfterFunc(3*time.Second, func() {
				fmt.Fprintln(os.Stderr, "authx: interrupted")
				os.Exit(128 + int(sig.(syscall.Signal)))
			})
			a.killPlugins() // now, without waiting for any session
			a.close()
			return
		}
	}()

	root := a.rootCommand()
	root.SetArgs(a.withSchemeCommands(root, args))
	err := root.ExecuteContext(ctx)
	a.saveSnapshot()
	if err == nil {
		return a.exitCode
	}
	var exit *exitError
	if errors.As(err, &exit) {
		return exit.code
	}
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "authx: interrupted")
		if sig := stoppedBy.Load(); sig != 0 {
			return 128 + int(sig)
		}
		return core.KindInterrupted.ExitCode()
	}
	fmt.Fprintln(os.Stderr, "authx: "+oneLine(err.Error()))
	return exitCodeOf(err)
}

// exitError ends the program with a code and nothing more to print (a
// wrapped command's or an action's own status).
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func exitCodeOf(err error) int {
	var ce *core.Error
	if errors.As(err, &ce) {
		return ce.Kind.ExitCode()
	}
	// Anything cobra itself reports (unknown command or flag, bad argument
	// count) is a usage error.
	return core.KindConfig.ExitCode()
}

// oneLine keeps an error to one line on stderr.
func oneLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' || s[i] == '\r' {
			return s[:i]
		}
	}
	return s
}
