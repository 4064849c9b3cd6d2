package host

import (
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/authx/authx/core/pluginproc"
)

// The plugin the front started for this process before exec'ing it
// (pluginproc.Handover), from TakeHandover until a Start adopts it or
// DropHandover kills it.
var handed struct {
	mu sync.Mutex
	p  *adoptedPlugin
}

// adoptedPlugin is a handed-over plugin process, checked to be a child of
// this process whose stdout and stderr pipes it holds.
type adoptedPlugin struct {
	h              pluginproc.Handover
	proc           *os.Process
	stdout, stderr *os.File
	dirOK          bool // h.SocketDir is this process's socket directory, to remove after the plugin
}

// TakeHandover takes charge of the plugin process the front started for
// this process (pluginproc.HandoverEnv), if any: it removes the variable
// from the environment and makes the plugin's pipes close on exec, so
// that nothing this process runs inherits either. The plugin is then
// adopted by the first Start of the same executable that would start the
// very same process (same file, same environment, no pin), or killed and
// reaped by that Start, or by DropHandover. Call it first thing in main,
// and DropHandover before exiting. A value that does not describe a child
// of this process holding its pipes is ignored (and no process is
// signalled).
func TakeHandover() {
	v, ok := os.LookupEnv(pluginproc.HandoverEnv)
	if !ok {
		return
	}
	os.Unsetenv(pluginproc.HandoverEnv)
	h, err := pluginproc.ParseHandover(v)
	if err != nil {
		return
	}
	a := claim(h)
	handed.mu.Lock()
	old := handed.p
	handed.p = a
	handed.mu.Unlock()
	if old != nil {
		old.discard()
	}
}

// DropHandover kills and reaps the handed-over plugin, unless a Start
// adopted it, and removes its socket directory: it returns once the
// process is gone.
func DropHandover() {
	if a := takeHanded(); a != nil {
		a.discard()
	}
}

func takeHanded() *adoptedPlugin {
	handed.mu.Lock()
	defer handed.mu.Unlock()
	a := handed.p
	handed.p = nil
	return a
}

// adoptHandover returns the handed-over plugin when it runs the
// executable at path with env (what the host would start: env holds
// go-plugin's variables, its socket directory among them, which the
// handed-over plugin has its own of), unpinned. A plugin of another
// executable is left for a later Start; one of the same that differs in
// anything is killed and reaped, and nil returned: the caller starts its
// own.
func adoptHandover(path string, env []string, pinned bool) *adoptedPlugin {
	handed.mu.Lock()
	a := handed.p
	if a == nil || a.h.Path != path {
		handed.mu.Unlock()
		return nil
	}
	handed.p = nil
	handed.mu.Unlock()
	if pinned || !a.dirOK || !a.matches(path, withSocketDir(env, a.h.SocketDir)) {
		a.discard()
		return nil
	}
	return a
}

// withSocketDir returns env with go-plugin's socket directory variable
// set to dir.
func withSocketDir(env []string, dir string) []string {
	env = slices.Clone(env)
	for i, kv := range env {
		if strings.HasPrefix(kv, pluginproc.SocketDirEnv+"=") {
			env[i] = pluginproc.SocketDirEnv + "=" + dir
		}
	}
	return env
}

// wait reaps the plugin, then closes its pipes and removes its socket
// directory, as exec.Cmd.Wait and go-plugin would for one the host
// started.
func (a *adoptedPlugin) wait() (*os.ProcessState, error) {
	st, err := a.proc.Wait()
	a.stdout.Close()
	a.stderr.Close()
	if a.dirOK {
		os.RemoveAll(a.h.SocketDir)
	}
	return st, err
}

// discard kills the plugin and reaps it.
func (a *adoptedPlugin) discard() {
	pluginproc.KillGroup(a.proc)
	a.wait()
}
