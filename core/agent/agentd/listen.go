package agentd

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/agent"
)

// Listen makes the socket's directory (0700, this user's, checked when it
// exists), takes the agent lock in it (one agent per socket: ErrRunning
// when another holds it), replaces a stale socket and listens, the socket
// 0600.
func (s *Server) Listen() error {
	dir := filepath.Dir(s.Socket)
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return core.Wrap(core.KindConfig, err, "making the agent's directory")
	}
	if err := agent.CheckDir(dir, true); err != nil {
		return core.Errorf(core.KindConfig, "refusing the agent's directory: %s (remove it, or set XDG_RUNTIME_DIR)", err)
	}
	unlock, err := lockFile(filepath.Join(dir, "agent.lock"))
	if err != nil {
		return err
	}
	if fi, err := os.Lstat(s.Socket); err == nil && fi.Mode().Type() == fs.ModeSocket {
		os.Remove(s.Socket) // a dead agent's: the lock says none runs
	}
	ln, err := listenPrivate(s.Socket)
	if err != nil {
		unlock()
		return core.Wrap(core.KindConfig, err, "listening at "+s.Socket)
	}
	if err := os.Chmod(s.Socket, 0o600); err != nil {
		ln.Close()
		unlock()
		return core.Wrap(core.KindConfig, err, "listening at "+s.Socket)
	}
	ln.SetUnlinkOnClose(false) // shutdown removes it, after the plugins are gone
	s.ln, s.unlock = ln, unlock
	s.started = s.now()
	s.conns = make(chan struct{}, MaxConns)
	s.stopped = make(chan struct{})
	s.profiles = map[profileKey]*held{}
	s.configs = map[string]*loaded{}
	s.log().Info("agent listening", "socket", s.Socket, "pid", os.Getpid(), "idle", s.idle().String())
	return nil
}

// Running asks the agent at socket whether it runs, within timeout.
func Running(socket string, timeout time.Duration) bool {
	c := &agent.Client{Socket: socket}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, err := c.Do(ctx, &agent.Request{Op: agent.OpPing})
	return err == nil
}
