// Package host finds, verifies, starts and stops authx plugin processes.
//
// A plugin is the executable authx-plugin-<scheme>, looked up (never by a
// $PATH scan) in the directories of AUTHX_PLUGIN_PATH, then
// $XDG_DATA_HOME/authx/plugins, then the directory of the authx executable.
// Nothing here runs on the cached path of `authx token`: a Host starts a
// process only when Start is called.
package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
	"google.golang.org/grpc"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/pluginproc"
	"github.com/authx/authx/core/pluginrpc"
)

// BinaryPrefix is the file name prefix of every plugin executable.
const BinaryPrefix = pluginproc.BinaryPrefix

// DefaultStartTimeout bounds how long a plugin may take to print its handshake.
const DefaultStartTimeout = 10 * time.Second

var schemeName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// ValidSchemeName reports whether s may name a scheme (and so a file).
func ValidSchemeName(s string) bool { return schemeName.MatchString(s) }

// Spec says which plugin to run: a scheme name, and optionally an explicit
// path and a sha256 pin from the configuration.
type Spec struct {
	Scheme string
	Path   string // explicit binary; "" = search
	SHA256 string // lowercase hex; "" = no pin
	// PinDir makes SHA256 the DirDigest of the executable's directory
	// (config `pin: dir`) instead of the executable's own digest.
	PinDir bool
	// PinSource names where the pin came from, for the error message
	// (e.g. `profiles.work.plugin.sha256 in /home/a/.config/authx/config.yaml`).
	PinSource string
}

// Options configures a Host.
type Options struct {
	// SearchPath is the list of directories to look for plugins in, in order.
	SearchPath []string
	// StartTimeout bounds plugin start-up; zero means DefaultStartTimeout.
	StartTimeout time.Duration
	// Logger receives the host's and the plugins' logs; nil means none.
	Logger hclog.Logger
	// DescribeCache is the file that caches plugin descriptions; "" disables it.
	DescribeCache string
	// Stdout receives what plugins write to their stdout after the
	// handshake, which the protocol forbids; nil discards it. It is written
	// from several goroutines (go-plugin's stdio stream and each plugin's
	// pipe), so it must be safe for concurrent use.
	Stdout io.Writer
}

// Host starts plugins and kills them all on Close.
type Host struct {
	opts Options

	mu      sync.Mutex
	running []*Plugin
	closed  bool

	sweep sync.Once     // removes stale plugin socket directories, while the first plugin starts
	swept chan struct{} // closed once that is done
}

// New returns a Host. It does no I/O.
func New(opts Options) *Host {
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	return &Host{opts: opts}
}

// DefaultSearchPath returns the plugin directories for an environment:
// AUTHX_PLUGIN_PATH (list separated by the OS path separator),
// $XDG_DATA_HOME/authx/plugins (default ~/.local/share), and the directory of
// the running executable.
func DefaultSearchPath(getenv func(string) string) []string {
	return pluginproc.DefaultSearchPath(getenv)
}

// SearchPath returns the directories the host looks in.
func (h *Host) SearchPath() []string { return h.opts.SearchPath }

func binaryName(scheme string) string { return pluginproc.BinaryName(scheme) }

// Locate returns the executable for spec: spec.Path when set, else the first
// authx-plugin-<scheme> in the search path.
func (h *Host) Locate(spec Spec) (string, error) {
	if !ValidSchemeName(spec.Scheme) {
		return "", core.Errorf(core.KindConfig, "scheme %q: a scheme name is lowercase letters, digits and '-'", spec.Scheme)
	}
	if spec.Path != "" {
		if err := checkExecutable(spec.Path); err != nil {
			return "", core.Wrap(core.KindPluginNotFound, err, fmt.Sprintf("plugin for scheme %q", spec.Scheme))
		}
		return spec.Path, nil
	}
	name := binaryName(spec.Scheme)
	for _, dir := range h.opts.SearchPath {
		p := filepath.Join(dir, name)
		if checkExecutable(p) == nil {
			return p, nil
		}
	}
	return "", core.Errorf(core.KindPluginNotFound, "no plugin for scheme %q: %s not found in %s (install it there, or add its directory to AUTHX_PLUGIN_PATH)",
		spec.Scheme, name, strings.Join(h.opts.SearchPath, ", "))
}

func checkExecutable(p string) error { return pluginproc.CheckExecutable(p) }

// verify checks the plugin at path against spec's sha256 pin: the
// executable's digest, or with PinDir its directory's (DirDigest). For an
// executable it returns the identity of the file it hashed, which start
// checks again once the process runs (nil: nothing to check).
func verify(path string, spec Spec) (os.FileInfo, error) {
	if spec.SHA256 == "" {
		return nil, nil
	}
	what, got := path, ""
	var hashed os.FileInfo
	var err error
	if spec.PinDir {
		if what, err = PluginDir(path); err == nil {
			got, _, err = DirDigest(what)
		}
		what = "directory " + what
	} else {
		got, hashed, err = digestFile(path)
	}
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(got, spec.SHA256) {
		src := ""
		if spec.PinSource != "" {
			src = " (" + spec.PinSource + ")"
		}
		return nil, core.Errorf(core.KindPluginIntegrity, "plugin %s has sha256 %s but the pin%s is %s; refusing to run it (reinstall the plugin or update the pin)",
			what, got, src, strings.ToLower(spec.SHA256))
	}
	return hashed, nil
}

// checkStarted makes sure that the process pid runs the very file verify
// hashed: path still names it, unchanged (same device, inode, size, mtime
// and ctime), and on Linux, for a native executable, it is the process's
// own image (/proc/PID/exe). A file swapped or rewritten between the check
// and the exec is refused.
func checkStarted(path string, hashed os.FileInfo, pid int) error {
	now, err := os.Stat(path)
	if err == nil && sameFile(hashed, now) {
		if exe, err := os.Stat(fmt.Sprintf("/proc/%d/exe", pid)); err != nil || os.SameFile(exe, hashed) || !isNative(path) {
			return nil
		}
	}
	return core.Errorf(core.KindPluginIntegrity, "plugin %s changed between its sha256 check and its start; refusing to run it", path)
}

// isNative reports whether the file at path is not a script: a "#!"
// script's process image is its interpreter.
func isNative(path string) bool { return pluginproc.IsNative(path) }

// pluginEnv is the environment a plugin gets: a short allow-list, never the
// user's whole environment, which may hold the very secrets a profile
// references (the host resolves those and sends only what the plugin needs).
func pluginEnv(level string) []string { return pluginproc.Env(level, os.Environ()) }

// Plugin is a running plugin process.
type Plugin struct {
	*pluginrpc.Client
	// Path is the executable.
	Path   string
	Scheme string

	proc      *plugin.Client
	runner    *cmdRunner
	socketDir string
	conn      *grpc.ClientConn
	killOnce  sync.Once
}

// Conn returns the gRPC connection to the plugin, for callers that speak
// below pluginrpc.Client: the conformance kit's health check and raw calls.
// Calls on it go through the same crash detection as the Client's. It is
// closed by Kill.
func (p *Plugin) Conn() *grpc.ClientConn { return p.conn }

// PID returns the plugin's process id as go-plugin reports it.
func (p *Plugin) PID() string { return p.runner.ID() }

// Kill stops the plugin process: the controller's Shutdown, then SIGKILL
// after go-plugin's 2 s grace. It returns once the process has exited; a
// concurrent or later call waits for the first one to end and does
// nothing more.
func (p *Plugin) Kill() { p.killOnce.Do(p.proc.Kill) }

// Exited reports whether the plugin process has exited.
func (p *Plugin) Exited() bool { return p.proc.Exited() }

// Verify locates the plugin for spec and checks its pin, running nothing.
func (h *Host) Verify(spec Spec) error {
	path, err := h.Locate(spec)
	if err == nil {
		_, err = verify(path, spec)
	}
	return err
}

// Start locates, verifies and starts the plugin for spec, and connects to it.
// The process lives until Kill or Host.Close.
func (h *Host) Start(ctx context.Context, spec Spec) (*Plugin, error) {
	path, err := h.Locate(spec)
	if err != nil {
		return nil, err
	}
	hashed, err := verify(path, spec)
	if err != nil {
		return nil, err
	}
	return h.start(ctx, path, spec.Scheme, hashed, spec.SHA256 != "")
}

// start starts the executable at path; hashed, when not nil, is the file
// its pin was checked against (see checkStarted). Unless pinned, it adopts
// the plugin the front started for this process when that is the same
// (TakeHandover).
func (h *Host) start(ctx context.Context, path, scheme string, hashed os.FileInfo, pinned bool) (*Plugin, error) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, core.Errorf(core.KindInterrupted, "shutting down")
	}
	h.mu.Unlock()

	p := &Plugin{Path: path, Scheme: scheme}
	env := pluginEnv(levelName(h.opts.Logger))
	socketBase := socketTempDir(os.TempDir(), os.Getenv("XDG_RUNTIME_DIR"))
	h.sweep.Do(func() {
		h.swept = make(chan struct{})
		go func() {
			defer close(h.swept)
			removeStaleSocketDirs(socketBase)
		}()
	})
	defer func() { <-h.swept }() // the sweep overlaps the plugin's exec and handshake
	p.proc = plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  pluginrpc.Handshake,
		VersionedPlugins: pluginrpc.VersionedPlugins(),
		// go-plugin hands the runner a placeholder command carrying its
		// variables (socket dir, versions, cookie); the real one is ours.
		RunnerFunc: func(l hclog.Logger, spec *exec.Cmd, socketDir string) (runner.Runner, error) {
			cmd := pluginproc.Command(path, append(env, spec.Env...))
			var r *cmdRunner
			var err error
			if a := adoptHandover(path, cmd.Env, pinned); a != nil {
				// The front's, started as this would have, with a socket
				// directory of its own (marked with this pid) that it removes.
				os.Remove(socketDir) // go-plugin's, empty, unused
				p.socketDir = a.h.SocketDir
				r = newAdoptedRunner(l, cmd, a)
			} else {
				p.socketDir = socketDir
				if err := markSocketDir(socketDir); err != nil {
					h.opts.Logger.Debug("could not mark the plugin socket directory", "dir", socketDir, "error", err)
				}
				r, err = newCmdRunner(l, cmd)
			}
			if err == nil && hashed != nil {
				r.check = func(pid int) error { return checkStarted(path, hashed, pid) }
			}
			if err == nil && h.opts.Stdout != nil {
				r.teeAfterHandshake(h.opts.Stdout)
			}
			p.runner = r
			return r, err
		},
		SkipHostEnv:      true,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         runtime.GOOS == "windows", // Unix sockets elsewhere: the 0700 socket dir is the guard
		StartTimeout:     h.opts.StartTimeout,
		Logger:           h.opts.Logger.Named(scheme),
		Managed:          true,
		GRPCDialOptions:  []grpc.DialOption{grpc.WithChainUnaryInterceptor(p.crashInterceptor), grpc.WithChainStreamInterceptor(p.crashStreamInterceptor)},
		SyncStdout:       h.opts.Stdout,
		UnixSocketConfig: &plugin.UnixSocketConfig{TempDir: socketBase},
	})
	h.mu.Lock()
	h.running = append(h.running, p)
	h.mu.Unlock()

	rpc, err := p.proc.Client()
	if err != nil {
		died := ""
		if p.runner != nil && !strings.Contains(err.Error(), "timeout while waiting") && p.runner.waitExited(200*time.Millisecond) {
			died = p.runner.deathNote()
		}
		p.proc.Kill()
		if p.socketDir != "" {
			os.RemoveAll(p.socketDir) // go-plugin keeps it when the process never started
		}
		return nil, h.startError(path, err, died)
	}
	raw, err := rpc.Dispense(pluginrpc.PluginName)
	if err != nil {
		p.proc.Kill()
		return nil, core.Wrap(core.KindPlugin, err, "plugin "+path+" does not serve the authx scheme service")
	}
	p.Client = raw.(*pluginrpc.Client)
	if g, ok := rpc.(*plugin.GRPCClient); ok {
		p.conn = g.Conn
	}
	return p, nil
}

// crashInterceptor turns a broken connection into a one-line "plugin
// crashed" error when the process turns out to be gone. It concerns the
// calls of the authx service only: go-plugin's own (the controller's
// Shutdown that Kill sends, which a stopping plugin may not answer) pass
// unchanged, at once.
func (p *Plugin) crashInterceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	return p.crashed(method, invoker(ctx, method, req, reply, cc, opts...))
}

// crashStreamInterceptor is crashInterceptor for the streaming calls of
// the authx service (LoginStream): the stream's errors come from its
// RecvMsg. go-plugin's own streams (stdio) are left alone: they end when
// the plugin exits, as they should.
func (p *Plugin) crashStreamInterceptor(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	s, err := streamer(ctx, desc, cc, method, opts...)
	if !strings.HasPrefix(method, "/authx.plugin.") {
		return s, err
	}
	if err != nil {
		return nil, p.crashed(method, err)
	}
	return &crashStream{ClientStream: s, p: p, method: method}, nil
}

type crashStream struct {
	grpc.ClientStream
	p      *Plugin
	method string
}

func (s *crashStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err == nil || err == io.EOF {
		return err
	}
	return s.p.crashed(s.method, err)
}

// crashed returns err, or a "plugin crashed" error when a call of the authx
// service failed because the process is gone. A LoginStream is named Login,
// as for the user it is one. The process is reaped asynchronously: after a
// broken connection, crashed waits up to crashWait for that.
func (p *Plugin) crashed(method string, err error) error {
	if err == nil || p.runner == nil || !strings.HasPrefix(method, "/authx.plugin.") {
		return err
	}
	if p.runner.exitState() == "" {
		if !isConnectionError(err) {
			return err
		}
		select {
		case <-p.runner.exited:
		case <-time.After(crashWait):
			return err
		}
	}
	call := strings.TrimSuffix(method[strings.LastIndex(method, "/")+1:], "Stream")
	return core.Errorf(core.KindPlugin, "plugin %s crashed during %s (%s)", filepath.Base(p.Path), call, p.runner.exitState())
}

// crashWait bounds how long a failed call waits for its plugin's exit.
const crashWait = 200 * time.Millisecond

func isConnectionError(err error) bool {
	m := err.Error()
	return strings.Contains(m, "Unavailable") || strings.Contains(m, "EOF") || strings.Contains(m, "connection")
}

var incompatible = regexp.MustCompile(`Plugin version: (\d+), Client versions: \[([\d ]+)\]`)

// startError turns go-plugin's start-up errors into one line each. died
// describes a plugin that ended on its own before its handshake (exit
// status and last stderr line, see cmdRunner.deathNote), "" otherwise.
func (h *Host) startError(path string, err error, died string) error {
	msg := err.Error()
	var pe *exec.Error
	var ce *core.Error
	switch {
	case errors.As(err, &ce):
		return ce
	case errors.As(err, &pe) || strings.Contains(msg, "exec format error") || strings.Contains(msg, "permission denied"):
		return core.Errorf(core.KindPlugin, "plugin %s cannot be executed: %v", path, firstLine(msg))
	case incompatible.MatchString(msg):
		m := incompatible.FindStringSubmatch(msg)
		return core.Errorf(core.KindPlugin, "plugin %s speaks plugin protocol v%s but this authx speaks v%s; install a plugin built for protocol v%s",
			path, m[1], strings.ReplaceAll(m[2], " ", "/"), m[2])
	case died != "":
		return core.Errorf(core.KindPlugin, "plugin %s exited before the plugin handshake %s", path, died)
	case strings.Contains(msg, "Unrecognized remote plugin message"), strings.Contains(msg, "plugin exited before we could connect"):
		return core.Errorf(core.KindPlugin, "%s is not an authx plugin: it exited or printed something other than the plugin handshake", path)
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		return core.Errorf(core.KindPlugin, "plugin %s did not start within %s (raise plugin_start_timeout if it is just slow)", path, h.opts.StartTimeout)
	case strings.Contains(msg, "incompatible core API version"):
		return core.Errorf(core.KindPlugin, "plugin %s was built with an incompatible go-plugin version; rebuild it", path)
	}
	return core.Wrap(core.KindPlugin, err, "starting plugin "+path)
}

func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}

func levelName(l hclog.Logger) string {
	switch {
	case l.IsTrace():
		return "trace"
	case l.IsDebug():
		return "debug"
	case l.IsInfo():
		return "info"
	case l.IsWarn():
		return "warn"
	case l.IsError():
		return "error"
	}
	return "off"
}

// Close kills every plugin the host started. It is safe to call more than
// once and from a signal handler's goroutine.
func (h *Host) Close() {
	h.mu.Lock()
	h.closed = true
	running := h.running
	h.running = nil
	h.mu.Unlock()
	for _, p := range running {
		p.Kill()
	}
	DropHandover()
}

// maxSocketBase bounds the directory under which go-plugin makes the
// plugin's socket directory: a Unix socket path holds at most 104 (macOS) or
// 108 (Linux) bytes, and go-plugin adds about 40 ("/plugin-dir123456789/
// plugin123456789").
const maxSocketBase = pluginproc.MaxSocketBase

// socketTempDir returns where plugin sockets go: the temporary directory,
// unless its path is too long for a socket (a deep $TMPDIR), then the
// user's runtime directory, else /tmp.
func socketTempDir(tmp, runtime string) string { return pluginproc.SocketBase(tmp, runtime) }
