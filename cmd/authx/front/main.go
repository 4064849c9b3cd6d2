// Command front is the authx that scripts run before every request, when
// installed as `authx` with the full CLI beside it as `authx-cli` (what
// `make install` does).
//
// It serves `authx token` and `authx header` from a fresh cached credential
// by itself: it loads the config, reads one cache file and prints. It links
// none of the plugin machinery (go-plugin, gRPC, protobuf), whose start-up
// cost would otherwise be paid on every call. Everything else (a stale or
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
	"github.com/authx/authx/core/urlscope"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/authx/authx/cmd/authx/internal/render"
	"github.com/authx/authx/core"
	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/config"
)

// cliName is the full CLI's executable, looked for beside the front.
const cliName = "authx-cli"

func main() {
	disableCoreDumps()
	args := os.Args[1:]
	if serve(args, os.Stdout, os.Getenv, time.Now()) {
		return
	}
	handOff(args)
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
// Logging, when asked for, is the full CLI's job.
func serve(args []string, stdout io.Writer, getenv func(string) string, now time.Time) bool {
	r, ok := parse(args)
	if !ok {
		return false
	}
	cfg, err := config.Load(config.LoadOptions{Path: r.configPath})
	if err != nil || logging(cfg.Settings.LogLevel) || logging(getenv("AUTHX_LOG")) || logging(getenv("AUTHX_LOG_LEVEL")) {
		return false
	}
	p, ok, err := cfg.Select(r.profile, r.url, getenv("AUTHX_PROFILE")) // the full CLI's choice
	if !ok || err != nil {
		return false
	}
	if p.Store == config.StoreMemory { // never in the file cache
		return serveAgent(r, cfg, p, stdout, getenv)
	}
	e, err := cache.New(cfg.Settings.CacheDir).Get(cache.KeyFor(p.Name, p.Identity()))
	if err != nil || !e.Fresh(now, cfg.Settings.RefreshSkew) || e.Credential.PerRequest || !inCredentialScope(r.url, &e.Credential) {
		return serveAgent(r, cfg, p, stdout, getenv)
	}
	switch {
	case r.idToken && e.Credential.IDToken != "": // none: the full CLI explains
		fmt.Fprintln(stdout, e.Credential.IDToken)
	case r.idToken:
		return false
	case r.command == "token" && e.Credential.Token != "":
		fmt.Fprintln(stdout, e.Credential.Token)
	case r.command == "header" && slices.Contains(render.Formats, r.format):
		render.Headers(stdout, r.format, p.Name, p.Scheme, &e.Credential, true)
	default:
		return false
	}
	return true
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

// handOff replaces the front with the full CLI, same arguments; it does
// not return.
func handOff(args []string) {
	self, err := os.Executable()
	if err == nil {
		self, err = filepath.EvalSymlinks(self)
	}
	cli := filepath.Join(filepath.Dir(self), cliName)
	if err != nil || !isFile(cli) {
		fmt.Fprintf(os.Stderr, "authx: %s not found beside %s: reinstall authx (make install puts authx, authx-cli and the plugins side by side)\n", cliName, self)
		os.Exit(8) // as for a missing plugin
	}
	os.Exit(execCLI(cli, args))
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
