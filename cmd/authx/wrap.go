package main

import (
	"errors"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/authx/authx/cmd/authx/internal/render"
	"github.com/authx/authx/cmd/authx/internal/wrapcmd"
	"github.com/authx/authx/core"
	"github.com/authx/authx/core/authhttp"
	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/redact"
	"github.com/authx/authx/core/session"
	"github.com/authx/authx/core/tlsconfig"
)

// The wrappers run another program with the profile's credentials, never
// putting them on a command line: curl reads them as a config from an
// inherited pipe, wget as a wgetrc from an inherited file that no directory
// names, and exec's command from its environment.

// forward passes sig to the wrapped child, if one runs, and reports whether
// it did.
func (a *app) forward(sig os.Signal) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.child == nil {
		return false
	}
	a.child.Signal(sig)
	return true
}

// runChild runs c with the standard streams of authx, forwarding signals to
// it, and returns its exit code as an *exitError (nil for 0). It closes
// authx's copies of the files in closeAfterStart once the child has its own
// (the write ends of pipes the child writes to, so that they see EOF).
func (a *app) runChild(c *exec.Cmd, closeAfterStart ...*os.File) error {
	defer func() {
		for _, f := range closeAfterStart {
			f.Close()
		}
	}()
	if c.Stdin == nil {
		c.Stdin = a.stdin
	}
	c.Stdout, c.Stderr = a.stdout, a.stderr
	a.stopPlugins() // no plugin needs to run while the child does
	// Started and recorded under the lock forward takes, so that a signal
	// either finds the child or, arriving before, has canceled the context
	// and no child starts.
	a.mu.Lock()
	if err := a.ctx.Err(); err != nil {
		a.mu.Unlock()
		return err
	}
	if err := c.Start(); err != nil {
		a.mu.Unlock()
		return core.Errorf(core.KindConfig, "cannot run %s: %v", c.Args[0], errors.Unwrap(err))
	}
	a.child = c.Process
	a.mu.Unlock()
	for _, f := range closeAfterStart {
		f.Close()
	}
	err := c.Wait()
	a.mu.Lock()
	a.child = nil
	a.mu.Unlock()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return &exitError{code: 128 + int(ws.Signal())}
		}
		return &exitError{code: ee.ExitCode()}
	}
	return core.Errorf(core.KindInternal, "waiting for %s: %v", c.Args[0], err)
}

// stopPlugins kills the plugins of this run's sessions. Unlike close, it
// lets a session start its plugin again, to renew a credential the child
// saw refused.
func (a *app) stopPlugins() {
	a.mu.Lock()
	sessions := slices.Clone(a.sessions)
	a.mu.Unlock()
	for _, s := range sessions {
		s.Close()
	}
}

// wrapperArgs splits `[PROFILE] -- ARGS`: the profile, if any, and the
// child's arguments.
func wrapperArgs(cmd *cobra.Command, args []string) (string, []string, error) {
	dash := cmd.ArgsLenAtDash()
	if dash < 0 {
		return "", nil, core.Errorf(core.KindConfig, "put the %s arguments after --, e.g. authx %s work -- https://api.example.com/", cmd.Name(), cmd.Name())
	}
	if dash > 1 {
		return "", nil, core.Errorf(core.KindConfig, "at most one PROFILE before --")
	}
	if dash == 1 {
		return args[0], args[1:], nil
	}
	return "", args, nil
}

// toolFlagError explains a flag of the wrapped tool given before "--",
// where authx reads it as its own.
func toolFlagError(cmd *cobra.Command, err error) error {
	example := map[string]string{"curl": "-sS https://api.example.com/", "wget": "-qO- https://api.example.com/"}[cmd.Name()]
	if example == "" {
		example = "COMMAND ARGS"
	}
	return core.Errorf(core.KindConfig, "%v: authx %s reads the flags before --; put the %s arguments after it, e.g. authx %s work -- %s",
		err, cmd.Name(), cmd.Name(), cmd.Name(), example)
}

// curlRedirectLeak and oneURL: see wrapcmd.Curl.RedirectLeak and
// wrapcmd.OneURL, which the front applies too.
func curlRedirectLeak(c wrapcmd.Curl, cred *core.Credential) string { return c.RedirectLeak(cred) }

func oneURL(req toolRequest, urls []string) toolRequest { return wrapcmd.OneURL(req, urls) }

// wrapped is what a wrapper runs its command with.
type wrapped struct {
	s     *session.Session
	cred  *core.Credential
	scope []string          // where the credential may go: the profile's, or the ad-hoc URL's origin
	urls  []string          // the http(s) URLs among the command's arguments
	tls   *tlsconfig.Loaded // the profile's TLS settings; nil when none
}

// wrapperCredential resolves the profile (or the one the child's first URL
// selects) and its credential, and refuses when a URL among the child's
// arguments lies outside the scope: the child would send the credential
// there.
func (a *app) wrapperCredential(cmd *cobra.Command, t *target, profile string, args []string) (*wrapped, error) {
	t.profile = profile
	targets := wrapcmd.URLs(args)
	if t.profile == "" && t.url == "" && t.scheme == "" && len(targets) > 0 {
		t.url = targets[0]
	}
	s, res, err := a.wrapperCredentialOf(cmd, t) // a signing scheme's too: see wrapproxy.go
	if err != nil {
		return nil, err
	}
	parsed := make([]*url.URL, len(targets))
	for i, raw := range targets {
		if parsed[i], err = url.Parse(raw); err != nil {
			return nil, core.Errorf(core.KindConfig, "a URL among %s's arguments does not parse (%s); authx sends credentials only to URLs it can check", cmd.Name(), redact.ParseError(err))
		}
	}
	scope, err := checkScope(s, res.Credential, parsed, cmd.Name()+" would send the credentials there")
	if err != nil {
		return nil, err
	}
	tls, err := s.TLS(cmd.Context())
	if err != nil {
		return nil, err
	}
	return &wrapped{s: s, cred: res.Credential, scope: scope, urls: targets, tls: tls}, nil
}

// checkScope refuses when one of targets lies outside the profile's scope
// or outside the credential's own (core.Credential.Scope): the rule of
// authhttp.CheckScope, which is where authhttp.Transport applies a
// credential; consequence ends the message. It returns the profile's scope,
// which for an ad-hoc profile without a url is the origin of the first
// target. The wrappers and `authx header --url` share it.
func checkScope(s *session.Session, cred *core.Credential, targets []*url.URL, consequence string) ([]string, error) {
	scope := wrapcmd.Scope(s.Scope(), targets) // an ad-hoc profile: the origin of the first URL
	for _, u := range targets {
		var se *authhttp.ScopeError
		switch err := authhttp.CheckScope(u, scope, cred); {
		case err == nil:
		case !errors.As(err, &se):
			return nil, err
		case se.Credential:
			return nil, core.Errorf(core.KindConfig, "%s is within profile %q's match prefixes but outside its credential's scope (%s, set by scheme %s); %s",
				redact.URL(u), s.Profile.Name, strings.Join(se.Prefixes, ", "), s.Profile.Scheme, consequence)
		case s.Profile.Name == "":
			return nil, core.Errorf(core.KindConfig, "%s is outside the ad-hoc profile's scope (%s, the first URL's origin); %s",
				redact.URL(u), strings.Join(se.Prefixes, ", "), consequence)
		default:
			return nil, core.Errorf(core.KindConfig, "%s is outside profile %q's match prefixes (%s); %s",
				redact.URL(u), s.Profile.Name, strings.Join(se.Prefixes, ", "), consequence)
		}
	}
	return scope, nil
}

func (a *app) curlCommand() *cobra.Command {
	var t target
	cmd := &cobra.Command{
		Use:   "curl [PROFILE] -- CURL-ARGS...",
		Short: "Run curl with the profile's credentials (never in its argv)",
		Long: `Run curl with the profile's headers, passed as a curl config (-K) on an
inherited file descriptor, so they never appear on a command line. The
profile is PROFILE, else the one matching the first URL among the arguments.
authx exits with curl's exit code.

When the server refuses the credential (HTTP 401 or 403 that the profile's
scheme recognises as curable), authx renews it (one refresh or login,
shared with concurrent authx processes) and, when curl was given -f (so
nothing of the refusal reached the output) and fetched one URL with GET or
HEAD and no body, runs curl once more. See docs/scripts.md.

curl -L drops Authorization and Cookie on a redirect to another host or
port but forwards any other header, so authx refuses -L when the credential
holds another header (an API key, a Jenkins crumb), and always refuses
--location-trusted; 'authx request' follows redirects without credentials.

  authx curl work -- -sSf https://api.example.com/v1/items`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			profile, rest, err := wrapperArgs(cmd, args)
			if err != nil {
				return err
			}
			c := wrapcmd.ScanCurl(rest)
			if c.Unchecked != "" {
				return core.Errorf(core.KindConfig, "authx curl refuses %s", c.Unchecked)
			}
			w, err := a.wrapperCredential(cmd, &t, profile, rest)
			if err != nil {
				return err
			}
			if w.cred.PerRequest {
				return a.toolViaProxy(cmd.Context(), w, "curl", rest)
			}
			if why := curlRedirectLeak(c, w.cred); why != "" {
				return core.Errorf(core.KindConfig, "%s", why)
			}
			return a.runRenewing(cmd.Context(), w, oneURL(c.Request, w.urls), func(cred *core.Credential) outcome {
				return a.runCurl(cred, w.tls, rest)
			})
		},
	}
	t.addFlags(cmd)
	cmd.SetFlagErrorFunc(toolFlagError)
	return cmd
}

// runCurl runs curl with cred's headers as a config on fd 3, and reads the
// status of its final answer from the headers it dumps on fd 4 (unless the
// user's own -D replaces that). The TLS settings tls (nil: none) are PEM
// files on fds 5 and up, named by the config: cacert (which replaces
// curl's default CA bundle), cert and key.
func (a *app) runCurl(cred *core.Credential, tls *tlsconfig.Loaded, args []string) outcome {
	pems, err := newToolTLS(tls, wrapcmd.CurlTLSFD)
	if err != nil {
		return outcome{err: err}
	}
	defer pems.Close()
	conf, err := wrapcmd.CurlConfig(cred, wrapcmd.TLSPaths{CA: pems.ca, Cert: pems.cert, Key: pems.key})
	if err != nil {
		return outcome{err: err}
	}
	run, err := wrapcmd.NewCurlRun(conf, args, pems.files)
	if err != nil {
		return outcome{err: err}
	}
	defer run.Close()
	err = a.runChild(run.Cmd, run.ChildEnds...)
	code := 0
	var exit *exitError
	if errors.As(err, &exit) {
		code = exit.code
	}
	o := wrapcmd.CurlOutcome(code, run.Status())
	return outcome{err: err, refused: o.Refused, written: o.Written}
}

// afterFront returns run, except that its first call returns the outcome
// of the run the front made already when it handed this command over
// (wrapcmd.OutcomeEnv): the server refused the credential, and authx-cli
// renews it and reruns the tool when that is safe, without a first run.
// When w's profile's cache entry is no longer the one the front used,
// another authx has renewed the credential meanwhile.
func (a *app) afterFront(w *wrapped, run func(*core.Credential) outcome) func(*core.Credential) outcome {
	o, ok := frontOutcome()
	if !ok {
		return run
	}
	first := true
	return func(cred *core.Credential) outcome {
		if !first {
			return run(cred)
		}
		first = false
		var err error
		if o.Code != 0 {
			err = &exitError{code: o.Code}
		}
		renewedSince := false
		if store, serr := a.store(); serr == nil {
			e, gerr := store.Get(cache.KeyFor(w.s.Profile.Name, w.s.Profile.Identity()))
			renewedSince = gerr == nil && e.Created.UnixNano() != o.Created
		}
		return outcome{err: err, refused: o.Refused, written: o.Written, renewedSince: renewedSince}
	}
}

// frontOutcome reads and removes wrapcmd.OutcomeEnv, so that no child of
// authx-cli sees it.
var frontOutcome = sync.OnceValues(func() (wrapcmd.Outcome, bool) {
	v, set := os.LookupEnv(wrapcmd.OutcomeEnv)
	if !set {
		return wrapcmd.Outcome{}, false
	}
	os.Unsetenv(wrapcmd.OutcomeEnv)
	return wrapcmd.ParseOutcome(v)
})

func (a *app) wgetCommand() *cobra.Command {
	var t target
	cmd := &cobra.Command{
		Use:   "wget [PROFILE] -- WGET-ARGS...",
		Short: "Run wget with the profile's credentials (never in its argv)",
		Long: `Run wget with the profile's headers in a wgetrc that exists on no file
system (an anonymous memory file on Linux, an unlinked temporary file
elsewhere) given as --config=/dev/fd/3, so nothing is left behind even when
authx is killed. The headers are sent preemptively, so --auth-no-challenge
is never needed.

wget forwards headers to whatever host a redirect points at, so authx adds
--max-redirect=0: a redirect makes wget stop (exit 8) instead of leaking the
credential. Use 'authx request' to follow redirects safely. The wgetrc
replaces ~/.wgetrc for this run.

When wget exits 6 or 8 (nothing of the refused answer is written, unless
--content-on-error) and the server refused the credential, authx renews it
as for 'authx curl' and runs wget once more. See docs/scripts.md.

  authx wget ci -- -qO- https://ci.example.com/api/json`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			profile, rest, err := wrapperArgs(cmd, args)
			if err != nil {
				return err
			}
			req := wrapcmd.ScanWget(rest)
			if req.Unchecked != "" {
				return core.Errorf(core.KindConfig, "authx wget refuses %s", req.Unchecked)
			}
			w, err := a.wrapperCredential(cmd, &t, profile, rest)
			if err != nil {
				return err
			}
			if w.cred.PerRequest {
				return a.toolViaProxy(cmd.Context(), w, "wget", rest)
			}
			return a.runRenewing(cmd.Context(), w, oneURL(req, w.urls), func(cred *core.Credential) outcome {
				err := a.runWget(cred, w.tls, rest)
				var exit *exitError
				return outcome{err: err, refused: errors.As(err, &exit) && wrapcmd.WgetOutcome(exit.code).Refused}
			})
		},
	}
	t.addFlags(cmd)
	cmd.SetFlagErrorFunc(toolFlagError)
	return cmd
}

// runWget runs wget with cred's headers in a wgetrc on fd 3, and the TLS
// settings tls (nil: none) as PEM files on fds 4 and up, named by the
// wgetrc: ca_certificate (trusted besides the system's), certificate and
// private_key.
func (a *app) runWget(cred *core.Credential, tls *tlsconfig.Loaded, args []string) error {
	pems, err := newToolTLS(tls, wrapcmd.WgetTLSFD)
	if err != nil {
		return err
	}
	defer pems.Close()
	rc, err := wrapcmd.Wgetrc(cred, wrapcmd.TLSPaths{CA: pems.ca, Cert: pems.cert, Key: pems.key})
	if err != nil {
		return err
	}
	f, err := wrapcmd.WgetrcFile(rc)
	if err != nil {
		return core.Wrap(core.KindConfig, err, "creating the wgetrc")
	}
	defer f.Close()
	argv := wrapcmd.WgetArgv(args)
	c := exec.Command(argv[0], argv[1:]...)
	c.ExtraFiles = append([]*os.File{f}, pems.files...) // fds 3, 4... in the child
	return a.runChild(c)
}

func (a *app) execCommand() *cobra.Command {
	var t target
	cmd := &cobra.Command{
		Use:   "exec [PROFILE] -- COMMAND [ARGS...]",
		Short: "Run a command with the credentials in its environment",
		Long: `Run COMMAND with the profile's credentials in its environment (and only
its own): AUTHX_TOKEN (the bare token), AUTHX_AUTHORIZATION, AUTHX_COOKIE and
AUTHX_HEADER_<NAME> for every other header, as 'authx header --format env'
names them, and the variables the profile's env: map names (e.g.
env: {GITHUB_TOKEN: token}). Signals are forwarded; authx exits with
COMMAND's exit code. For a scheme that signs each request, COMMAND gets
AUTHX_PROXY_URL instead: a proxy that signs what it sends there (docs/proxy.md).

  authx exec work -- sh -c 'curl -H "Authorization: $AUTHX_AUTHORIZATION" https://api.example.com/'`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			profile, rest, err := wrapperArgs(cmd, args)
			if err != nil {
				return err
			}
			if len(rest) == 0 {
				return core.Errorf(core.KindConfig, "exec needs a COMMAND after --")
			}
			t.profile = profile
			s, res, err := a.wrapperCredentialOf(cmd, &t)
			if err != nil {
				return err
			}
			if res.Credential.PerRequest {
				return a.execViaProxy(cmd.Context(), s, rest)
			}
			if err := render.Check(res.Credential); err != nil {
				return err
			}
			env, err := wrapcmd.ExecEnv(os.Environ(), s.Profile.Name, s.Profile.Env, res.Credential)
			if err != nil {
				return err
			}
			c := exec.Command(rest[0], rest[1:]...)
			c.Env = env
			return a.runChild(c)
		},
	}
	t.addFlags(cmd)
	cmd.SetFlagErrorFunc(toolFlagError)
	return cmd
}
