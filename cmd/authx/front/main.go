// Command front is the authx that scripts run before every request, when
// installed as `authx` with the full CLI beside it as `authx-cli` (what
// `make install` does).
//
// It serves `authx token` and `authx header` from a fresh cached credential
// by itself: it reads the snapshot of the config that authx-cli left
// (core/config/snapshot: no YAML or TOML parsed, nothing hashed), reads
// one cache file and prints. It links none of the plugin machinery
// (go-plugin, gRPC, protobuf) and no config parser, whose start-up cost
// would otherwise be paid on every call. Everything else (a stale or
// missing credential, any other command or flag, logging, an error to
// report) it hands to authx-cli by exec'ing it with the same arguments, so
// the full CLI decides and speaks: the front never prints an error of its
// own but one, that authx-cli is missing.
//
// Built alone, cmd/authx is a complete authx; the front only makes it
// faster.
package main

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/authx/authx/cmd/authx/internal/render"
	"github.com/authx/authx/cmd/authx/internal/wrapcmd"
	core "github.com/authx/authx/core/base" // core's credentials and errors, without net/http
	"github.com/authx/authx/core/cache"
	config "github.com/authx/authx/core/config/profiles" // the config's types and Select, without its parsers
	"github.com/authx/authx/core/config/snapshot"
	"github.com/authx/authx/core/urlscope"
)

// cliName is the full CLI's executable, looked for beside the front.
const cliName = "authx-cli"

func main() {
	disableCoreDumps()
	args := os.Args[1:]
	if serve(args, os.Stdout, os.Getenv, time.Now()) {
		return
	}
	if w, ok := planWrapper(args, os.Getenv, os.Environ(), time.Now()); ok {
		w.run(args) // exits, or hands off
	}
	handOff(args, "")
}

// request is the part of a command line the front understands.
type request struct {
	command    string // "token" or "header"
	profile    string
	url        string
	format     string
	configPath string
	idToken    bool // token --id-token
}

// parse reads `[global flags] token|header [PROFILE] [flags]`; ok is false
// for anything else, which the full CLI then handles (and explains).
func parse(args []string) (r request, ok bool) {
	r.format = "header"
	var positional []string
	formatSet := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		value := func() (string, bool) { // the flag's value: --name=v or --name v
			if _, v, has := strings.Cut(a, "="); has {
				return v, true
			}
			if i+1 < len(args) {
				i++
				return args[i], true
			}
			return "", false
		}
		name, _, hasValue := strings.Cut(a, "=")
		var v string
		var has bool
		switch name {
		case "-q", "--quiet", "--no-input": // nothing to say and nothing to ask on this path
			if hasValue { // --quiet=maybe: the full CLI checks the value
				return r, false
			}
			continue
		case "--id-token":
			if hasValue || len(positional) == 0 { // a value, or before the command: the full CLI explains
				return r, false
			}
			r.idToken = true
			continue
		case "--config":
			v, has = value()
			r.configPath = v
		case "--url":
			v, has = value()
			r.url = v
		case "--format", "-f":
			v, has = value()
			r.format, formatSet = v, true
		default:
			if len(a) > 0 && a[0] == '-' {
				return r, false // --log-level, --scheme, --set, --help, "--", ...: the full CLI's business
			}
			positional = append(positional, a)
			continue
		}
		if !has {
			return r, false
		}
	}
	if len(positional) == 0 || positional[0] != "token" && positional[0] != "header" || len(positional) > 2 {
		return r, false
	}
	r.command = positional[0]
	if len(positional) == 2 {
		r.profile = positional[1]
	}
	if r.command == "token" && formatSet || r.command == "header" && r.idToken { // --format is header's flag only, --id-token token's
		return r, false
	}
	return r, true
}

// serve prints the credential when the command is one the front serves,
// the profile's cached credential is fresh and covers the --url given, and
// reports whether it did. Anything else (--renew among them) is the full
// CLI's.
func serve(args []string, stdout io.Writer, getenv func(string) string, now time.Time) bool {
	r, ok := parse(args)
	if !ok {
		return false
	}
	cfg, p, ok := lookup(r.configPath, r.profile, r.url, getenv)
	if !ok {
		return false
	}
	c, fromCache := (*core.Credential)(nil), true
	if e, ok := cachedEntry(cfg, p, now); ok {
		c = &e.Credential // a --url outside its scope is authx-cli's to refuse, not the agent's to answer
	} else if c, fromCache = fromAgent(cfg, p, getenv); c == nil {
		return false
	}
	if !inCredentialScope(r.url, c) {
		return false
	}
	return show(r, p, c, fromCache, stdout)
}

// show prints what r asks of credential c of profile p, and reports
// whether it did: a credential without what is asked is the full CLI's to
// explain.
func show(r request, p *config.Profile, c *core.Credential, fromCache bool, stdout io.Writer) bool {
	switch {
	case c.PerRequest:
		return false
	case r.idToken && c.IDToken != "":
		fmt.Fprintln(stdout, c.IDToken)
	case r.idToken:
		return false
	case r.command == "token" && c.Token != "":
		fmt.Fprintln(stdout, c.Token)
	case r.command == "header" && slices.Contains(render.Formats, r.format):
		render.Headers(stdout, r.format, p.Name, p.Scheme, c, fromCache)
	default:
		return false
	}
	return true
}

// cached returns the profile the full CLI would pick for profile and
// rawURL ("" for none) with the config at configPath ("" for the default),
// and its cached entry, when that is fresh and no per-request credential;
// ok is false otherwise, and when logging is asked for (the full CLI's
// job).
func cached(configPath, profile, rawURL string, getenv func(string) string, now time.Time) (*snapshot.Snapshot, *config.Profile, *cache.Entry, bool) {
	cfg, p, ok := lookup(configPath, profile, rawURL, getenv)
	if !ok {
		return nil, nil, nil, false
	}
	e, ok := cachedEntry(cfg, p, now)
	return cfg, p, e, ok
}

// lookup returns the snapshot of the config at configPath ("" for the
// default) that authx-cli left, and the profile the full CLI would pick
// in it for profile and rawURL ("" for none); ok is false when there is
// no snapshot that still holds (see snapshot.Load), no such profile, an
// error, or logging asked for (all the full CLI's job).
func lookup(configPath, profile, rawURL string, getenv func(string) string) (*snapshot.Snapshot, *config.Profile, bool) {
	path := snapshot.ConfigPath(configPath, getenv)
	if path == "" || logging(getenv("AUTHX_LOG")) || logging(getenv("AUTHX_LOG_LEVEL")) {
		return nil, nil, false
	}
	cfg, err := snapshot.Load(path, getenv)
	if err != nil || logging(cfg.Settings.LogLevel) {
		return nil, nil, false
	}
	p, ok, err := cfg.File().Select(profile, rawURL, getenv("AUTHX_PROFILE")) // the full CLI's choice, by its code
	if !ok || err != nil {
		return nil, nil, false
	}
	return cfg, p, true
}

// cachedEntry returns p's entry in the file cache when it is fresh and no
// per-request credential: a store: file profile's, or the local copy of a
// shared store's (snapshot.LocalFile; the shared store itself is
// authx-cli's to consult). A store: memory profile has none there,
// whatever an old file may hold. The entry's file name comes from the
// snapshot: no hashing.
func cachedEntry(cfg *snapshot.Snapshot, p *config.Profile, now time.Time) (*cache.Entry, bool) {
	sp := cfg.Profile(p.Name)
	if !cfg.LocalFile(p.Store) || sp == nil || sp.Entry == "" { // memory, keyring: authx-cli reads them
		return nil, false
	}
	e := readEntry(filepath.Join(cfg.Settings.CacheDir, sp.Entry), p.Name)
	if e == nil || !e.Fresh(now, cfg.Settings.RefreshSkew) || e.Credential.PerRequest {
		return nil, false
	}
	return e, true
}

// inCredentialScope reports whether rawURL ("" for none) lies within the
// credential's own scope, when it has one. Select has checked the
// profile's; the full CLI explains a refusal.
func inCredentialScope(rawURL string, c *core.Credential) bool {
	if rawURL == "" || len(c.Scope) == 0 {
		return true
	}
	u, err := url.Parse(rawURL)
	return err == nil && urlscope.InScope(u, c.Scope)
}

func logging(level string) bool { return level != "" && !strings.EqualFold(level, "off") }

// handOff replaces the front with the full CLI, same arguments, and the
// outcome of a wrapped tool's refused run in wrapcmd.OutcomeEnv when
// outcome is not "" (never the caller's own); it does not return.
func handOff(args []string, outcome string) {
	self, err := os.Executable()
	if err == nil {
		self, err = filepath.EvalSymlinks(self)
	}
	cli := filepath.Join(filepath.Dir(self), cliName)
	if err != nil || !isFile(cli) {
		fmt.Fprintf(os.Stderr, "authx: %s not found beside %s: reinstall authx (make install puts authx, authx-cli and the plugins side by side)\n", cliName, self)
		os.Exit(8) // as for a missing plugin
	}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, wrapcmd.OutcomeEnv+"=") })
	if outcome != "" {
		env = append(env, wrapcmd.OutcomeEnv+"="+outcome)
	}
	env, abort := prestart(cli, args, env) // a plugin authx-cli is about to need, started meanwhile
	code := execCLI(cli, args, env)
	abort()
	os.Exit(code)
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
