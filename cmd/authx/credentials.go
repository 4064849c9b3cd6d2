package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/authx/authx/cmd/authx/internal/render"
	"github.com/authx/authx/core"
	"github.com/authx/authx/core/session"
)

// credential resolves a target to a credential, prefixing errors with the
// profile's name.
func (a *app) credential(cmd *cobra.Command, t *target) (*session.Session, *session.Result, error) {
	s, err := a.session(t)
	if err != nil {
		return nil, nil, err
	}
	res, err := s.Get(cmd.Context())
	if err != nil {
		return nil, nil, profileErr(s.Profile.Name, err)
	}
	if res.Credential.PerRequest {
		// Headers printed or handed to a child now would be unsigned.
		return nil, nil, core.Errorf(core.KindUnsupported, "profile %q: scheme %s signs each request; use 'authx request' (or the Go library, docs/library.md), which has the plugin sign it", s.Profile.Name, s.Profile.Scheme)
	}
	return s, res, nil
}

func (a *app) tokenCommand() *cobra.Command {
	var t target
	cmd := &cobra.Command{
		Use:   "token [PROFILE]",
		Short: "Print the profile's bare token (bearer token, API key, Basic credentials)",
		Long: `Print the bare token the profile's scheme yields, followed by a newline,
logging in or refreshing first when the cached one is missing or about to
expire. Nothing else is printed on stdout.

  curl -H "Authorization: Bearer $(authx token api)" https://api.example.com/me`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeProfiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				t.profile = args[0]
			}
			s, res, err := a.credential(cmd, &t)
			if err != nil {
				return err
			}
			if res.Credential.Token == "" {
				return profileErr(s.Profile.Name, core.Errorf(core.KindUnsupported, "scheme %q yields no bare token; use 'authx header'", s.Profile.Scheme))
			}
			fmt.Fprintln(a.stdout, res.Credential.Token)
			return nil
		},
	}
	t.addFlags(cmd)
	return cmd
}

func (a *app) headerCommand() *cobra.Command {
	var t target
	var format string
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
  wget    wgetrc lines (header = ...) for wget --config`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeProfiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				t.profile = args[0]
			}
			if !slices.Contains(render.Formats, format) {
				return core.Errorf(core.KindConfig, "--format %q: expected one of %s", format, strings.Join(render.Formats, ", "))
			}
			s, res, err := a.credential(cmd, &t)
			if err != nil {
				return err
			}
			return render.Headers(a.stdout, format, s.Profile.Name, s.Profile.Scheme, res.Credential, res.Source == session.FromCache)
		},
	}
	t.addFlags(cmd)
	cmd.Flags().StringVarP(&format, "format", "f", "header", "output `FORMAT`: "+strings.Join(render.Formats, ", "))
	cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(render.Formats, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// profileEnv returns the variables a profile's env: map names: each holds
// the token, the Authorization header, the Cookie header or the named
// header. A variable whose value the credential lacks is an error, not an
// empty variable.
func profileEnv(profile string, names map[string]string, c *core.Credential) ([]string, error) {
	var env []string
	for _, name := range slices.Sorted(maps.Keys(names)) {
		what := names[name]
		var value string
		switch header, isHeader := strings.CutPrefix(what, "header:"); {
		case what == "token":
			value = c.Token
		case what == "authorization":
			value = headerValue(c, "Authorization")
		case what == "cookie":
			value = c.CookieHeader()
		case isHeader:
			value = headerValue(c, header)
		}
		if value == "" {
			return nil, core.Errorf(core.KindConfig, "profile %q: env.%s: the credential has no %s", profile, name, what)
		}
		env = append(env, name+"="+value)
	}
	return env, nil
}

func headerValue(c *core.Credential, name string) string {
	for _, h := range c.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}
