package host

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin/runner"

	"github.com/authx/authx/core/pluginproc"
)

// cmdRunner starts a plugin process the way authx wants it, which go-plugin's
// own runner does not allow: stdin is /dev/null (a plugin must never read the
// user's input), on Linux the process gets SIGKILL when authx dies, and on
// Unix it leads a process group of its own that Kill kills whole.
type cmdRunner struct {
	logger hclog.Logger
	cmd    *exec.Cmd
	stdout io.ReadCloser
	stderr io.ReadCloser

	mu     sync.Mutex
	state  *os.ProcessState // set once the process has been reaped
	exited chan struct{}    // closed once the process has been reaped
	killed bool             // Kill was called before it was reaped
	tail   *stderrTail      // the end of the plugin's stderr
	// check, when set, vets the started process before it is used; on an
	// error the process is killed and Start fails with it.
	check func(pid int) error
	// adopted, when set, is a process started by another image of this
	// process (a Handover), which Start does not start again.
	adopted *adoptedPlugin
}

var _ runner.Runner = (*cmdRunner)(nil)

func newCmdRunner(logger hclog.Logger, cmd *exec.Cmd) (*cmdRunner, error) {
	cmd.Stdin = nil // go-plugin sets os.Stdin; nil means /dev/null
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	tail := &stderrTail{ReadCloser: stderr}
	return &cmdRunner{logger: logger, cmd: cmd, stdout: stdout, stderr: tail, tail: tail, exited: make(chan struct{})}, nil
}

// newAdoptedRunner returns a runner for the handed-over plugin a, whose
// Start starts nothing: a was checked to be what cmd would start.
func newAdoptedRunner(logger hclog.Logger, cmd *exec.Cmd, a *adoptedPlugin) *cmdRunner {
	tail := &stderrTail{ReadCloser: a.stderr}
	return &cmdRunner{logger: logger, cmd: cmd, stdout: a.stdout, stderr: tail, tail: tail, exited: make(chan struct{}), adopted: a}
}

// process returns the plugin's process, nil before it started.
func (r *cmdRunner) process() *os.Process {
	if r.adopted != nil {
		return r.adopted.proc
	}
	return r.cmd.Process
}

func (r *cmdRunner) Start(context.Context) error {
	if r.adopted != nil {
		r.logger.Debug("plugin adopted", "path", r.cmd.Path, "pid", r.adopted.proc.Pid)
		return nil
	}
	r.logger.Debug("starting plugin", "path", r.cmd.Path)
	if err := r.cmd.Start(); err != nil {
		return err
	}
	r.logger.Debug("plugin started", "path", r.cmd.Path, "pid", r.cmd.Process.Pid)
	if r.check != nil {
		if err := r.check(r.cmd.Process.Pid); err != nil {
			pluginproc.KillGroup(r.cmd.Process)
			return err
		}
	}
	return nil
}

func (r *cmdRunner) Wait(context.Context) error {
	if r.adopted != nil {
		st, err := r.adopted.wait()
		r.reaped(st)
		return err
	}
	err := r.cmd.Wait()
	r.reaped(r.cmd.ProcessState)
	return err
}

// reaped records how the process ended; go-plugin calls Wait once.
func (r *cmdRunner) reaped(st *os.ProcessState) {
	r.mu.Lock()
	r.state = st
	r.mu.Unlock()
	close(r.exited)
}

// exitState describes how the process ended, or "" while it runs.
func (r *cmdRunner) exitState() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state == nil {
		return ""
	}
	return r.state.String()
}

// waitExited waits up to d for the process to have been reaped and
// reports whether it ended on its own: a plugin that died before the
// handshake, not one that go-plugin or the host killed.
func (r *cmdRunner) waitExited(d time.Duration) bool {
	if r.process() == nil {
		return false
	}
	for deadline := time.Now().Add(d); ; time.Sleep(5 * time.Millisecond) {
		r.mu.Lock()
		state, killed := r.state, r.killed
		r.mu.Unlock()
		if state != nil { // an exit status is its own doing; a signal is ours when we sent one
			return state.ExitCode() >= 0 || !killed
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// deathNote describes how a plugin that died before its handshake ended,
// for a one-line message: its exit status, then the last line it wrote on
// stderr made safe to show; "" when it exited 0 and said nothing (then it
// is no authx plugin at all).
func (r *cmdRunner) deathNote() string {
	st, last := r.exitState(), r.tail.lastLine()
	switch {
	case st == "exit status 0" && last == "":
		return ""
	case last == "":
		return "(" + st + ")"
	}
	return "(" + st + "): " + last
}

func (r *cmdRunner) Kill(context.Context) error {
	p := r.process()
	if p == nil {
		return nil
	}
	r.mu.Lock()
	r.killed = r.killed || r.state == nil
	r.mu.Unlock()
	return pluginproc.KillGroup(p)
}

func (r *cmdRunner) Stdout() io.ReadCloser { return r.stdout }

// teeAfterHandshake makes what the plugin writes on its stdout after the
// handshake line also go to w. go-plugin reads the handshake from that pipe
// and drains the rest; a Go plugin's own os.Stdout goes through go-plugin's
// stdio forwarding instead, but a plugin in another language writes here.
func (r *cmdRunner) teeAfterHandshake(w io.Writer) {
	r.stdout = &afterHandshake{ReadCloser: r.stdout, w: w}
}

// afterHandshake copies what it reads past the first newline to w.
type afterHandshake struct {
	io.ReadCloser
	w    io.Writer
	past bool
}

func (a *afterHandshake) Read(p []byte) (int, error) {
	n, err := a.ReadCloser.Read(p)
	chunk := p[:n]
	if !a.past {
		i := bytes.IndexByte(chunk, '\n')
		if i < 0 {
			return n, err
		}
		a.past, chunk = true, chunk[i+1:]
	}
	if len(chunk) > 0 {
		a.w.Write(chunk)
	}
	return n, err
}
func (r *cmdRunner) Stderr() io.ReadCloser { return r.stderr }
func (r *cmdRunner) Name() string          { return r.cmd.Path }

func (r *cmdRunner) ID() string {
	p := r.process()
	if p == nil {
		return ""
	}
	return fmt.Sprint(p.Pid)
}

func (r *cmdRunner) Diagnose(context.Context) string { return "" }

func (r *cmdRunner) PluginToHost(network, addr string) (string, string, error) {
	return network, addr, nil
}

func (r *cmdRunner) HostToPlugin(network, addr string) (string, string, error) {
	return network, addr, nil
}
