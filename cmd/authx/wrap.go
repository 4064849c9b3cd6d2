package main

import (
	"errors"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/authx/authx/cmd/authx/internal/render"
	"github.com/authx/authx/core"
	"github.com/authx/authx/core/authhttp"
	"github.com/authx/authx/core/redact"
	"github.com/authx/authx/core/session"
)

// The wrappers run another program with the profile's credentials, never
// putting them on a command line: curl reads them as a config from an
// inherited file descriptor, wget from a private temporary wgetrc, and exec's
// command from its environment.

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
// it, and returns its exit code as an *exitError (nil for 0).
func (a *app) runChild(c *exec.Cmd) error {
	if c.Stdin == nil {
		c.Stdin = a.stdin
	}
	c.Stdout, c.Stderr = a.stdout, a.stderr
	a.close() // no plugin needs to outlive the credential lookup
	if err := c.Start(); err != nil {
		return core.Errorf(core.KindConfig, "cannot run %s: %v", c.Args[0], errors.Unwrap(err))
	}
	a.mu.Lock()
	a.child = c.Process
	a.mu.Unlock()
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

// urlValued are the curl and wget options whose value is a URL that is not
// fetched with the request's headers (a proxy, a referer, DoH): their
// values are not targets.
var urlValued = map[string]bool{"-x": true, "--proxy": true, "--preproxy": true, "-e": true, "--referer": true, "--doh-url": true}

// urls returns the arguments that are http(s) URLs (scheme in any case),
// except the values of the urlValued options.
func urls(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if urlValued[a] {
			i++ // its value
			continue
		}
		if name, _, ok := strings.Cut(a, "="); ok && urlValued[name] {
			continue
		}
		if l := strings.ToLower(a); strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") {
			out = append(out, a)
		}
	}
	return out
}

// wrapperCredential resolves the profile (or the one the child's first URL
// selects) and its credential, and refuses when a URL among the child's
// arguments lies outside the profile's scope: the child would send the
// credential there.
func (a *app) wrapperCredential(cmd *cobra.Command, t *target, profile string, args []string) (*session.Result, error) {
	t.profile = profile
	targets := urls(args)
	if t.profile == "" && t.url == "" && t.scheme == "" && len(targets) > 0 {
		t.url = targets[0]
	}
	s, res, err := a.credential(cmd, t)
	if err != nil {
		return nil, err
	}
	scope := s.Scope()
	for i, raw := range targets {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, core.Errorf(core.KindConfig, "a URL among %s's arguments does not parse (%s); authx sends credentials only to URLs it can check", cmd.Name(), redact.ParseError(err))
		}
		if len(scope) == 0 && i == 0 { // an ad-hoc profile: the origin of the first URL
			scope = []string{u.Scheme + "://" + u.Host + "/"}
		}
		// Within the profile's scope, and the credential's own when it
		// has one, as authhttp.Transport requires.
		if !authhttp.InScope(u, scope) || len(res.Credential.Scope) > 0 && !authhttp.InScope(u, res.Credential.Scope) {
			return nil, core.Errorf(core.KindConfig, "%s is outside profile %q's match prefixes (%s); %s would send the credentials there",
				redact.URL(u), s.Profile.Name, strings.Join(scope, ", "), cmd.Name())
		}
	}
	return res, nil
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

curl drops Authorization when -L follows a redirect to another host or port,
but forwards other headers (a Jenkins crumb, an API key, cookies): prefer
'authx request', which drops every credential on such redirects.

  authx curl work -- -sS https://api.example.com/v1/items`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			profile, rest, err := wrapperArgs(cmd, args)
			if err != nil {
				return err
			}
			res, err := a.wrapperCredential(cmd, &t, profile, rest)
			if err != nil {
				return err
			}
			var conf strings.Builder
			if err := render.Headers(&conf, "curl", "", "", res.Credential, false); err != nil {
				return err
			}
			r, w, err := os.Pipe()
			if err != nil {
				return core.Wrap(core.KindInternal, err, "creating a pipe for curl")
			}
			defer r.Close()
			go func() { // a config larger than the pipe buffer must not block authx
				w.WriteString(conf.String())
				w.Close()
			}()
			c := exec.Command("curl", append([]string{"--config", "/dev/fd/3"}, rest...)...)
			c.ExtraFiles = []*os.File{r} // fd 3 in the child
			return a.runChild(c)
		},
	}
	t.addFlags(cmd)
	return cmd
}

func (a *app) wgetCommand() *cobra.Command {
	var t target
	cmd := &cobra.Command{
		Use:   "wget [PROFILE] -- WGET-ARGS...",
		Short: "Run wget with the profile's credentials (never in its argv)",
		Long: `Run wget with the profile's headers in a private (0600) temporary wgetrc
given with --config, removed when wget exits, on SIGINT too. The headers are
sent preemptively, so --auth-no-challenge is never needed.

wget forwards headers to whatever host a redirect points at, so authx adds
--max-redirect=0: a redirect makes wget stop (exit 8) instead of leaking the
credential. Use 'authx request' to follow redirects safely. The temporary
wgetrc replaces ~/.wgetrc for this run.

  authx wget ci -- -qO- https://ci.example.com/api/json`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			profile, rest, err := wrapperArgs(cmd, args)
			if err != nil {
				return err
			}
			res, err := a.wrapperCredential(cmd, &t, profile, rest)
			if err != nil {
				return err
			}
			f, err := os.CreateTemp("", "authx-wgetrc-*") // mode 0600
			if err != nil {
				return core.Wrap(core.KindConfig, err, "creating the temporary wgetrc")
			}
			defer os.Remove(f.Name())
			if err := render.Headers(f, "wget", "", "", res.Credential, false); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return core.Wrap(core.KindConfig, err, "writing the temporary wgetrc")
			}
			// The last --max-redirect wins, so the user's cannot re-enable redirects.
			c := exec.Command("wget", append(append([]string{"--config=" + f.Name()}, rest...), "--max-redirect=0")...)
			return a.runChild(c)
		},
	}
	t.addFlags(cmd)
	return cmd
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
COMMAND's exit code.

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
			s, res, err := a.credential(cmd, &t)
			if err != nil {
				return err
			}
			if err := render.Check(res.Credential); err != nil {
				return err
			}
			named, err := profileEnv(s.Profile.Name, s.Profile.Env, res.Credential)
			if err != nil {
				return err
			}
			c := exec.Command(rest[0], rest[1:]...)
			c.Env = append(append(os.Environ(), render.Env(res.Credential)...), named...)
			return a.runChild(c)
		},
	}
	t.addFlags(cmd)
	return cmd
}
