package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

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

// headerFormats are the output formats of `authx header`.
var headerFormats = []string{"header", "json", "env", "curl", "wget"}

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
			if !slices.Contains(headerFormats, format) {
				return core.Errorf(core.KindConfig, "--format %q: expected one of %s", format, strings.Join(headerFormats, ", "))
			}
			s, res, err := a.credential(cmd, &t)
			if err != nil {
				return err
			}
			return writeHeaders(a.stdout, format, s.Profile.Name, s.Profile.Scheme, res)
		},
	}
	t.addFlags(cmd)
	cmd.Flags().StringVarP(&format, "format", "f", "header", "output `FORMAT`: "+strings.Join(headerFormats, ", "))
	cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(headerFormats, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// writeHeaders prints a credential's headers in one of headerFormats.
func writeHeaders(w io.Writer, format, profile, scheme string, res *session.Result) error {
	c := res.Credential
	lines := c.HeaderLines()
	switch format {
	case "header":
		for _, h := range lines {
			fmt.Fprintf(w, "%s: %s\n", h.Name, h.Value)
		}
	case "curl":
		for _, h := range lines {
			fmt.Fprintf(w, "header = %s\n", curlQuote(h.Name+": "+h.Value))
		}
	case "wget":
		for _, h := range lines {
			fmt.Fprintf(w, "header = %s: %s\n", h.Name, h.Value)
		}
	case "env":
		for _, kv := range credentialEnv(c) {
			name, value, _ := strings.Cut(kv, "=")
			fmt.Fprintf(w, "export %s=%s\n", name, shellQuote(value))
		}
	case "json":
		out := struct {
			Profile   string            `json:"profile,omitempty"`
			Scheme    string            `json:"scheme"`
			Headers   map[string]string `json:"headers"`
			Cookies   []core.Cookie     `json:"cookies"`
			ExpiresAt *time.Time        `json:"expires_at"`
			Cached    bool              `json:"cached"`
		}{Profile: profile, Scheme: scheme, Headers: map[string]string{}, Cookies: c.Cookies, Cached: res.Source == session.FromCache}
		for _, h := range c.Headers {
			out.Headers[h.Name] = h.Value
		}
		if out.Cookies == nil {
			out.Cookies = []core.Cookie{}
		}
		if !c.ExpiresAt.IsZero() {
			out.ExpiresAt = &c.ExpiresAt
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return nil
}

// credentialEnv returns the credential as NAME=value environment entries:
// AUTHX_TOKEN, then one per header (see envName).
func credentialEnv(c *core.Credential) []string {
	var env []string
	if c.Token != "" {
		env = append(env, "AUTHX_TOKEN="+c.Token)
	}
	for _, h := range c.HeaderLines() {
		env = append(env, envName(h.Name)+"="+h.Value)
	}
	return env
}

// envName maps a header name to its variable: Authorization is
// AUTHX_AUTHORIZATION, Cookie is AUTHX_COOKIE, any other header
// AUTHX_HEADER_<NAME> with '-' as '_'.
func envName(header string) string {
	n := strings.ToUpper(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, header))
	switch n {
	case "AUTHORIZATION", "COOKIE":
		return "AUTHX_" + n
	}
	return "AUTHX_HEADER_" + n
}

// shellQuote quotes s for POSIX shells.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// curlQuote quotes s for a curl config file.
func curlQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\t", `\t`, "\n", `\n`, "\r", `\r`)
	return `"` + r.Replace(s) + `"`
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
