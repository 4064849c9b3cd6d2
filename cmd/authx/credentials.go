package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/authx/authx/cmd/authx/internal/render"
	"github.com/authx/authx/core"
	"github.com/authx/authx/core/redact"
	"github.com/authx/authx/core/session"
)

// credential resolves a target to a credential, prefixing errors with the
// profile's name.
func (a *app) credential(cmd *cobra.Command, t *target) (*session.Session, *session.Result, error) {
	return a.credentialFor(cmd, t, false, false)
}

// credentialFor is credential; with renew, the caller says the server
// refused the profile's credential, and it is renewed (session.Renew; the
// refused token or header value may be given in $AUTHX_REFUSED). With
// last, the caller makes no plugin call after this one (it prints the
// credential): the plugin is stopped while the credential is cached.
func (a *app) credentialFor(cmd *cobra.Command, t *target, renew, last bool) (*session.Session, *session.Result, error) {
	s, err := a.session(t)
	if err != nil {
		return nil, nil, err
	}
	s.StopAfterObtain = last
	get := s.Get
	if renew {
		get = func(ctx context.Context) (*session.Result, error) { return s.Renew(ctx, os.Getenv("AUTHX_REFUSED")) }
	}
	res, err := get(cmd.Context())
	if err != nil {
		return nil, nil, profileErr(s.Profile.Name, err)
	}
	if res.Credential.PerRequest {
		// Headers printed or handed to a child now would be unsigned.
		return nil, nil, core.Errorf(core.KindUnsupported, "profile %q: scheme %s signs each request; use 'authx request' (or the Go library, docs/library.md), which has the plugin sign it", s.Profile.Name, s.Profile.Scheme)
	}
	return s, res, nil
}

// printable resolves t (renewing with renew) to a credential to print, and
// refuses when t.url lies outside its scope, as the wrappers do: the
// caller means to send it there.
func (a *app) printable(cmd *cobra.Command, t *target, renew bool) (*session.Session, *session.Result, error) {
	s, res, err := a.credentialFor(cmd, t, renew, true)
	if err != nil || t.url == "" {
		return s, res, err
	}
	u, err := url.Parse(t.url)
	if err != nil || u.Host == "" { // Select has checked it; never send a credential to what it cannot check
		return nil, nil, core.Errorf(core.KindConfig, "--url %s: expected an absolute http(s) URL", redact.RawURL(t.url))
	}
	if _, err := checkScope(s, res.Credential, []*url.URL{u}, "the credential is not for that URL"); err != nil {
		return nil, nil, err
	}
	return s, res, nil
}

// renewHelp is the --renew flag's help.
const renewHelp = "the server refused the credential: refresh or log in (once for all the authx processes told of the same refusal) and print the new one"

func (a *app) tokenCommand() *cobra.Command {
	var t target
	var renew, idToken bool
	cmd := &cobra.Command{
		Use:   "token [PROFILE]",
		Short: "Print the profile's bare token (bearer token, API key, Basic credentials)",
		Long: `Print the bare token the profile's scheme yields, followed by a newline,
logging in or refreshing first when the cached one is missing or about to
expire. Nothing else is printed on stdout.

After the server refused the token, --renew renews it: a refresh or a new
login, one for all the authx processes that report the same refusal. Give
the refused token in $AUTHX_REFUSED, and a cached token other than it is
taken as the renewal; without it, a token another authx obtained less than
5 seconds earlier is. See docs/scripts.md.

--id-token prints the OpenID Connect ID token of the profile's login
instead (e.g. for kubectl's oidc authentication), served from the cache
like the token; a credential without one is an error (exit 10).

  tok=$(authx token api)
  curl -sf -H "Authorization: Bearer $tok" https://api.example.com/me ||
    tok=$(AUTHX_REFUSED=$tok authx token api --renew)`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeProfiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				t.profile = args[0]
			}
			s, res, err := a.printable(cmd, &t, renew)
			if err != nil {
				return err
			}
			if idToken {
				if res.Credential.IDToken == "" {
					return profileErr(s.Profile.Name, core.Errorf(core.KindUnsupported, "the credential has no id token (an OpenID Connect login with the openid scope gives one)"))
				}
				fmt.Fprintln(a.stdout, res.Credential.IDToken)
				return nil
			}
			if res.Credential.Token == "" {
				return profileErr(s.Profile.Name, core.Errorf(core.KindUnsupported, "scheme %q yields no bare token; use 'authx header'", s.Profile.Scheme))
			}
			fmt.Fprintln(a.stdout, res.Credential.Token)
			return nil
		},
	}
	t.addFlags(cmd)
	cmd.Flags().BoolVar(&renew, "renew", false, renewHelp)
	cmd.Flags().BoolVar(&idToken, "id-token", false, "print the OpenID Connect ID token of the login instead of the token")
	return cmd
}

func (a *app) headerCommand() *cobra.Command {
	var t target
	var format string
	var renew bool
	cmd := &cobra.Command{
		Use:   "header [PROFILE]",
		Short: "Print the request headers that authenticate as the profile",
		Long: `Print the headers that authenticate a request as the profile, logging in
or refreshing first when needed.

Formats (--format):
  header  one "Name: value" line per header (default)
  json    {"profile","scheme","headers","cookies","expires_at","cached"}
  env     export AUTHX_TOKEN=..., AUTHX_AUTHORIZATION=..., AUTHX_HEADER_<NAME>=...
  curl    a curl config:  authx header P --format curl | curl -K - URL
  wget    wgetrc lines (header = ...) for wget --config

With --url, the URL must lie within the profile's match prefixes and the
credential's own scope, as for the wrappers. --renew renews a credential
the server refused, as for 'authx token'.`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeProfiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				t.profile = args[0]
			}
			if !slices.Contains(render.Formats, format) {
				return core.Errorf(core.KindConfig, "--format %q: expected one of %s", format, strings.Join(render.Formats, ", "))
			}
			s, res, err := a.printable(cmd, &t, renew)
			if err != nil {
				return err
			}
			return render.Headers(a.stdout, format, s.Profile.Name, s.Profile.Scheme, res.Credential, res.Source == session.FromCache)
		},
	}
	t.addFlags(cmd)
	cmd.Flags().BoolVar(&renew, "renew", false, renewHelp)
	cmd.Flags().StringVarP(&format, "format", "f", "header", "output `FORMAT`: "+strings.Join(render.Formats, ", "))
	cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(render.Formats, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}
