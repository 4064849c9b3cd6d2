package exec

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"

	"github.com/authx/authx/core"
	"github.com/authx/authx/plugins/exec/answer"
)

// command is one run of the configured command.
type command struct {
	argv    []string
	env     []string
	dir     string
	stdin   []byte // nil: /dev/null
	timeout time.Duration
	log     hclog.Logger      // the command's stderr lines; nil: none
	notify  func(line string) // shows a stderr line to the user; nil: none
}

// orphanGrace is how long the output pipes are read after the command
// exited and its process group was killed: a child that left the group
// may hold them open, and is not waited for longer.
const orphanGrace = 100 * time.Millisecond

// Bounds on the command's stderr as it is logged.
const (
	maxStderrLines = 200
	maxLineRunes   = 200
)

// run runs c in a process group of its own and returns its stdout, at
// most answer.MaxSize bytes. When the command exits, times out, or ctx
// ends, the whole group is killed (SIGKILL) and reaped (on Linux its
// orphans too: see adoptOrphans), so that no child it started outlives
// the call (a `sleep 300 &` or a hung grandchild). The error is one line
// of a core.Kind: KindTimeout after c.timeout (or ctx's deadline),
// KindLoginRequired for exit status 3, KindPlugin for another status or a
// signal, KindBadAnswer for too much output, KindConfig when the command
// cannot start; it quotes at most the last line of stderr.
func run(parent context.Context, c command) ([]byte, error) {
	ctx, cancel := context.WithTimeout(parent, c.timeout)
	defer cancel()
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, core.Errorf(core.KindInternal, "cannot run the command: %v", err)
	}
	defer outR.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		outW.Close()
		return nil, core.Errorf(core.KindInternal, "cannot run the command: %v", err)
	}
	defer errR.Close()
	cmd := osexec.Command(c.argv[0], c.argv[1:]...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = c.env, c.dir, outW, errW
	if c.stdin != nil {
		cmd.Stdin = bytes.NewReader(c.stdin)
		cmd.WaitDelay = orphanGrace // a child holding stdin unread does not hold up Wait
	}
	setProcessGroup(cmd)
	adoptOrphans()
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		return nil, core.Errorf(core.KindConfig, "cannot run the command %s: %s", c.argv[0], startProblem(err))
	}
	stop := context.AfterFunc(ctx, func() {
		killGroup(cmd)
		outR.SetReadDeadline(time.Now())
		errR.SetReadDeadline(time.Now())
	})
	defer stop()
	stderrDone := make(chan string, 1)
	go func() { stderrDone <- readStderr(errR, c.log, c.notify) }()
	exited := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		killGroup(cmd) // the children it left behind
		reapGroup(cmd.Process.Pid)
		outR.SetReadDeadline(time.Now().Add(orphanGrace))
		errR.SetReadDeadline(time.Now().Add(orphanGrace))
		exited <- err
	}()
	out, _ := io.ReadAll(io.LimitReader(outR, answer.MaxSize+1))
	tooLarge := len(out) > answer.MaxSize
	if tooLarge {
		killGroup(cmd)
	}
	err = <-exited
	last := <-stderrDone
	switch {
	case parent.Err() == context.DeadlineExceeded:
		return nil, core.Errorf(core.KindTimeout, "the command did not finish within the plugin call's time (call_timeout); it and its children were killed")
	case parent.Err() != nil:
		return nil, core.Errorf(core.KindInterrupted, "the command was interrupted; it and its children were killed")
	case ctx.Err() != nil:
		return nil, core.Errorf(core.KindTimeout, "the command did not finish within %s (timeout); it and its children were killed", c.timeout)
	case tooLarge:
		return nil, core.Errorf(core.KindBadAnswer, "the command's output is larger than 1 MiB")
	case err != nil:
		return nil, exitError(err, last)
	}
	return out, nil
}

func exitError(err error, lastLine string) error {
	var ee *osexec.ExitError
	if !errors.As(err, &ee) {
		return core.Errorf(core.KindPlugin, "the command failed: %v", err)
	}
	note := ""
	if lastLine != "" {
		note = ": " + lastLine
	}
	if code := ee.ExitCode(); code == ExitLoginRequired {
		return core.Errorf(core.KindLoginRequired, "the command exited with status %d (login required)%s", code, note)
	} else if code >= 0 {
		return core.Errorf(core.KindPlugin, "the command exited with status %d%s", code, note)
	}
	return core.Errorf(core.KindPlugin, "the command was killed (%s)%s", ee.String(), note)
}

// startProblem says why a command did not start, without the Go error's
// noise ("fork/exec /x: no such file or directory").
func startProblem(err error) string {
	switch {
	case errors.Is(err, osexec.ErrNotFound):
		return "not found in PATH"
	case errors.Is(err, os.ErrNotExist):
		return "no such file or directory (the program or dir)"
	case errors.Is(err, os.ErrPermission):
		return "permission denied"
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// readStderr logs each line of the command's stderr and shows it with
// notify (at most maxStderrLines, each made safe by safeLine), and returns
// the last non-blank one. It reads to the end so that the command never
// blocks on a full pipe.
func readStderr(r io.Reader, log hclog.Logger, notify func(string)) string {
	br := bufio.NewReaderSize(r, 4096)
	last, n := "", 0
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			if s := safeLine(string(line)); s != "" {
				last = s
				if log != nil && n < maxStderrLines {
					log.Info("command stderr", "line", s)
				}
				if notify != nil && n < maxStderrLines {
					notify(s)
				}
				n++
			}
			for errors.Is(err, bufio.ErrBufferFull) { // the rest of a long line
				_, err = br.ReadSlice('\n')
			}
		}
		if err != nil {
			if log != nil && n > maxStderrLines {
				log.Info(fmt.Sprintf("command stderr: %d more lines not logged", n-maxStderrLines))
			}
			return last
		}
	}
}

// safeLine makes a line of stderr fit in a log line or a one-line error:
// control and format characters (terminal escapes, CR, bidi overrides)
// and invalid UTF-8 become spaces, runs of spaces one, cut at
// maxLineRunes.
func safeLine(line string) string {
	var b strings.Builder
	n := 0
	for _, r := range line {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			r = ' '
		}
		if n == maxLineRunes {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
