package main

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/authx/authx/cmd/authx/internal/wrapcmd"
	core "github.com/authx/authx/core/base" // core's credentials and errors, without net/http
	"github.com/authx/authx/core/urlscope"
)

// The front also runs the wrappers (authx curl, wget and exec) when their
// profile's cached credential is fresh: with the same checks and the same
// argv, environment and config bytes as authx-cli, which both build with
// wrapcmd. Anything it is unsure of (no "--", a flag of authx's own but
// --config and the quiet ones, a URL it cannot parse or outside the
// scope, a refused tool option, TLS settings, logging) goes to authx-cli
// before anything runs. After curl or wget ran, a refusal by the server
// goes to authx-cli too, with the run's outcome (wrapcmd.OutcomeEnv): it
// renews the credential and reruns the tool when that is safe, exactly
// as after a run of its own.

// wrapLine is a wrapper's command line: `[flags] curl|wget|exec [PROFILE]
// -- ARGS`.
type wrapLine struct {
	command, profile, configPath string
	args                         []string // the tool's, after "--"
}

// parseWrapper reads a wrapper's command line; ok is false for anything
// the full CLI must read.
func parseWrapper(args []string) (w wrapLine, ok bool) {
	var positional []string
	dash := slices.Index(args, "--")
	if dash < 0 {
		return w, false // the full CLI explains
	}
	for i := 0; i < dash; i++ {
		a := args[i]
		switch name, value, hasValue := strings.Cut(a, "="); {
		case (name == "-q" || name == "--quiet" || name == "--no-input") && !hasValue:
		case name == "--config" && hasValue:
			w.configPath = value
		case a == "--config" && i+1 < dash:
			i++
			w.configPath = args[i]
		case len(a) > 0 && a[0] == '-':
			return w, false // --url, --scheme, --log-level, --help, ...: the full CLI's
		default:
			positional = append(positional, a)
		}
	}
	if len(positional) == 0 || len(positional) > 2 || !slices.Contains([]string{"curl", "wget", "exec"}, positional[0]) {
		return w, false
	}
	w.command = positional[0]
	if len(positional) == 2 {
		w.profile = positional[1]
	}
	w.args = args[dash+1:]
	return w, true
}

// wrapPlan is a wrapped command ready to run.
type wrapPlan struct {
	command string
	args    []string        // curl's or wget's arguments; exec's argv
	path    string          // exec: the program
	env     []string        // exec: the environment
	conf    string          // curl's config, wget's wgetrc
	req     wrapcmd.Request // what a refusal renews (curl, wget)
	created int64           // the cache entry's creation (wrapcmd.Outcome.Created)
}

// planWrapper returns the wrapped command of args when the front can run
// it with a fresh cached credential, the checks of authx-cli passed; ok is
// false for anything else.
func planWrapper(args []string, getenv func(string) string, environ []string, now time.Time) (wrapPlan, bool) {
	w, ok := parseWrapper(args)
	if !ok {
		return wrapPlan{}, false
	}
	pl := wrapPlan{command: w.command, args: w.args}
	var targets []string
	var curl wrapcmd.Curl
	switch w.command {
	case "curl":
		curl = wrapcmd.ScanCurl(w.args)
		pl.req = curl.Request
		targets = wrapcmd.URLs(w.args)
	case "wget":
		pl.req = wrapcmd.ScanWget(w.args)
		targets = wrapcmd.URLs(w.args)
	case "exec":
		if len(w.args) == 0 {
			return wrapPlan{}, false
		}
	}
	if pl.req.Unchecked != "" {
		return wrapPlan{}, false
	}
	rawURL := ""
	if w.profile == "" && len(targets) > 0 {
		rawURL = targets[0]
	}
	cfg, p, e, ok := cached(w.configPath, w.profile, rawURL, getenv, now)
	if !ok {
		return wrapPlan{}, false
	}
	for _, k := range wrapcmd.TLSFields {
		if slices.Contains(cfg.Profile(p.Name).ConfigKeys, k) {
			return wrapPlan{}, false // files and secrets to read: authx-cli's
		}
	}
	cred := &e.Credential
	pl.created = e.Created.UnixNano()
	if !inScope(targets, p.Scope(), cred) {
		return wrapPlan{}, false
	}
	var err error
	switch w.command {
	case "curl":
		if curl.RedirectLeak(cred) != "" {
			return wrapPlan{}, false
		}
		pl.conf, err = wrapcmd.CurlConfig(cred, wrapcmd.TLSPaths{})
	case "wget":
		pl.conf, err = wrapcmd.Wgetrc(cred, wrapcmd.TLSPaths{})
	case "exec":
		if pl.path, err = exec.LookPath(w.args[0]); err == nil {
			pl.env, err = wrapcmd.ExecEnv(environ, p.Name, p.Env, cred)
		}
	}
	if err != nil {
		return wrapPlan{}, false
	}
	pl.req = wrapcmd.OneURL(pl.req, targets)
	return pl, true
}

// inScope reports whether every target parses and lies within the scope
// (wrapcmd.Scope of the profile's) and the credential's own, the rule of
// authhttp.CheckScope.
func inScope(targets []string, profileScope []string, cred *core.Credential) bool {
	parsed := make([]*url.URL, len(targets))
	for i, raw := range targets {
		u, err := url.Parse(raw)
		if err != nil {
			return false
		}
		parsed[i] = u
	}
	scope := wrapcmd.Scope(profileScope, parsed)
	for _, u := range parsed {
		if !urlscope.InScope(u, scope) || len(cred.Scope) > 0 && !urlscope.InScope(u, cred.Scope) {
			return false
		}
	}
	return true
}

// run runs the plan and exits with the tool's exit code; a refused run
// that authx-cli may renew, and a tool that cannot start, go to authx-cli
// (args being the front's own).
func (pl wrapPlan) run(args []string) {
	os.Unsetenv(wrapcmd.OutcomeEnv) // the tools get no word of it
	var o wrapcmd.Outcome
	var ok bool
	switch pl.command {
	case "exec":
		c := exec.Command(pl.path, pl.args[1:]...)
		c.Args[0], c.Env = pl.args[0], pl.env
		o.Code, ok = runChild(c)
	case "curl":
		o, ok = pl.runCurl()
	case "wget":
		o, ok = pl.runWget()
	}
	if !ok {
		return // not started: authx-cli explains
	}
	if o.Refused && pl.req.URL != "" {
		o.Created = pl.created
		handOff(args, o.String())
	}
	os.Exit(o.Code)
}

// runCurl runs curl as authx-cli does (wrapcmd.NewCurlRun), and returns
// its outcome; ok is false when it did not start.
func (pl wrapPlan) runCurl() (wrapcmd.Outcome, bool) {
	run, err := wrapcmd.NewCurlRun(pl.conf, pl.args, nil)
	if err != nil {
		return wrapcmd.Outcome{}, false
	}
	defer run.Close()
	code, ok := runChild(run.Cmd, run.ChildEnds...)
	if !ok {
		return wrapcmd.Outcome{}, false
	}
	return wrapcmd.CurlOutcome(code, run.Status()), true
}

// runWget runs wget as authx-cli does, and returns its outcome; ok is
// false when it did not start.
func (pl wrapPlan) runWget() (wrapcmd.Outcome, bool) {
	f, err := wrapcmd.WgetrcFile(pl.conf)
	if err != nil {
		return wrapcmd.Outcome{}, false
	}
	defer f.Close()
	argv := wrapcmd.WgetArgv(pl.args)
	c := exec.Command(argv[0], argv[1:]...)
	c.ExtraFiles = []*os.File{f}
	code, ok := runChild(c)
	if !ok {
		return wrapcmd.Outcome{}, false
	}
	return wrapcmd.WgetOutcome(code), true
}

// runChild runs c with the front's standard streams, forwarding SIGINT,
// SIGTERM and SIGHUP to it as authx-cli does, and returns its exit code
// (wrapcmd.ExitCode); started is false when it did not start. It closes
// the files in closeAfterStart once the child has its own.
func runChild(c *exec.Cmd, closeAfterStart ...*os.File) (code int, started bool) {
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	err := c.Start()
	for _, f := range closeAfterStart {
		f.Close()
	}
	if err != nil {
		return 0, false
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-sigs:
				c.Process.Signal(sig)
			case <-done:
				return
			}
		}
	}()
	err = c.Wait()
	close(done)
	code, ok := wrapcmd.ExitCode(err)
	if !ok { // it ran: never hand it to authx-cli to run again
		fmt.Fprintf(os.Stderr, "authx: waiting for %s: %v\n", c.Args[0], err)
		return core.KindInternal.ExitCode(), true
	}
	return code, true
}
