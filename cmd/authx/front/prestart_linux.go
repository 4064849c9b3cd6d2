package main

import (
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"github.com/authx/authx/core/pluginproc"
)

// prestart starts, for `authx token|header P` that the cache could not
// serve, the plugin authx-cli is about to start, so that the plugin's own
// start-up (its Go runtime, its package inits, its gRPC server) runs while
// authx-cli's does. It returns env with the plugin's pipes and identity
// in pluginproc.HandoverEnv, and abort, which kills and reaps the plugin
// should the exec fail. authx-cli adopts the plugin only when it is
// exactly the one it would start (core/host), else it kills it.
//
// Nothing is started for a profile whose plugin is pinned (the pin is
// checked before any start, by authx-cli), for a profile of a shared store
// (authx-cli reads the shared store first, and on a fleet another machine
// has mostly logged in already: a plugin started for a Redis hit would
// only compete with authx-cli for the CPU), when an agent may answer, when
// logging is asked for, for a plugin named by a relative path, for a
// script (its process image is its interpreter, which authx-cli could not
// check), or when SIGINT or SIGHUP is ignored (the plugin would inherit
// that, where authx-cli's own has their default: not the same process).
// The plugin is looked for where authx-cli (at cli) will look: beside
// authx-cli's real file, not the front's.
func prestart(cli string, args, env []string) ([]string, func()) {
	none := func() {}
	// authx-cli sees only a handover of this front's, never one it inherited.
	env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, pluginproc.HandoverEnv+"=") })
	r, ok := parse(args)
	if !ok || os.Getenv("AUTHX_AGENT_SOCK") != "" {
		return env, none
	}
	cfg, p, ok := lookup(r.configPath, r.profile, r.url, os.Getenv)
	if !ok {
		return env, none
	}
	if _, shared := cfg.Stores[p.Store]; shared {
		return env, none
	}
	// The profile's own plugin: entry, else the file's top-level one: a pin
	// in either is authx-cli's to check before anything starts.
	plugin := p.EffectivePlugin()
	if plugin.SHA256 != "" || !pluginproc.ValidScheme(p.Scheme) {
		return env, none
	}
	path := plugin.Path
	if path == "" {
		cliDir := ""
		if real, err := filepath.EvalSymlinks(cli); err == nil {
			cliDir = filepath.Dir(real)
		}
		if path, ok = pluginproc.Find(pluginproc.SearchPath(os.Getenv, cliDir), p.Scheme); !ok {
			return env, none
		}
	} else if pluginproc.CheckExecutable(path) != nil {
		return env, none
	}
	if !filepath.IsAbs(path) || !pluginproc.IsNative(path) || signal.Ignored(syscall.SIGINT) || signal.Ignored(syscall.SIGHUP) {
		return env, none
	}
	// The plugin gets SIGKILL when the thread that forks it ends: this
	// goroutine stays on it until it execs authx-cli, which that thread
	// survives (the others end).
	runtime.LockOSThread()
	base := pluginproc.SocketBase(os.TempDir(), os.Getenv("XDG_RUNTIME_DIR"))
	pp, err := pluginproc.Prestart(path, pluginproc.Env("off", os.Environ()), base)
	if err != nil {
		return env, none
	}
	return append(env, pluginproc.HandoverEnv+"="+pp.String()), pp.Abort
}
