package main

import (
	"bytes"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/goauth"
	"github.com/authx/authx/core/redact"
	"github.com/authx/authx/core/session"
	"github.com/authx/authx/core/urlscope"
)

func (a *app) goauthCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "goauth PROFILE [URL]",
		Short: "Answer the go command as a GOAUTH command, with the profile's headers for its https:// match prefixes",
		Long: `A credential command for the go command (go help goauth, Go 1.24+), for a
private module proxy or go-import server reached over HTTPS:

  export GOAUTH='authx goauth corp'      # several: 'authx goauth corp;authx goauth other'

Only the profiles named this way serve the go command. authx prints the
profile's https:// match prefixes (its url when it has no match;
normalized, host in lower case and no :443, as the go command compares
them with its URLs as plain strings), a blank line, the credential's
headers, a blank line; the credential is obtained as for 'authx header'
(cache, refresh), but never by an interactive login: the go command hides
this command's stderr, so a login that needs the user fails (exit 3, run:
authx login PROFILE). The go command attaches the headers to its HTTPS
requests under those prefixes.

After the server answers 4xx the go command runs it again with the URL as
an argument and the response on stdin. On a 401 for a URL within the
profile's prefixes authx renews the credential (a refresh or login, shared
with concurrent authx processes: a credential obtained less than 5 s
earlier is taken as the renewal) and prints the new one; after another 4xx
(a module that does not exist: 404, 410) it prints the same block again.
When renewing gives the refused credential again, it fails (exit 4).

The go command follows redirects, and withholds only Authorization and
Cookie from another host (it keeps them for a subdomain of the original
one): a credential with any other header (an API key header) is refused
(exit 10), never printed. A header value holding a line break or control
character is refused (exit 6), never printed. The go command shows a
credential command's stderr only with -x. See docs/integrations.md.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 || len(args) > 2 {
				return core.Errorf(core.KindConfig, "goauth: name the profile that serves the go command, GOAUTH='authx goauth PROFILE' (the go command adds a URL after a 4xx)")
			}
			return nil
		},
		ValidArgsFunction: a.completeProfiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			// The go command captures this command's stderr: a login's
			// code or URL would never reach the user, and the go command
			// would wait for it. A login is for 'authx login P'.
			a.noInput = true
			t := &target{profile: args[0]}
			p, _, err := a.profile(t)
			if err != nil {
				return err
			}
			prefixes, err := goauthPrefixes(p.Name, p.Scope())
			if err != nil {
				return err
			}
			if len(prefixes) == 0 {
				return core.Errorf(core.KindConfig, "profile %q has no https:// match prefix (or url): the go command sends credentials over HTTPS only", p.Name)
			}
			renew := false
			if len(args) == 2 {
				if renew, err = a.goauthRefused(args[1], prefixes); err != nil {
					return err
				}
			}
			s, res, err := a.credentialFor(cmd, t, false, !renew)
			if err != nil {
				return err
			}
			if renew {
				// The go command does not say which credential it sent: the
				// one cached is taken as refused, unless another authx
				// obtained it less than session.RenewGrace ago (a parallel
				// fetch's refusal renewed it already), so that N refusals
				// renew once. A renewal giving the refused one fails.
				refused := ""
				if e := s.Cached(); e != nil && time.Since(e.Created) >= session.RenewGrace {
					refused = credentialValue(&e.Credential)
				}
				s.StopAfterObtain = true
				if res, err = s.Renew(cmd.Context(), refused); err != nil {
					return profileErr(p.Name, err)
				}
			}
			targets := make([]*url.URL, 0, len(prefixes))
			for _, m := range prefixes {
				u, err := url.Parse(m)
				if err != nil {
					return core.Errorf(core.KindConfig, "profile %q: match prefix %s: not a URL", p.Name, redact.RawURL(m))
				}
				targets = append(targets, u)
			}
			if _, err := checkScope(s, res.Credential, targets, "the go command would send it there"); err != nil {
				return err
			}
			set := goauth.Set{Prefixes: prefixes}
			for _, h := range res.Credential.HeaderLines() {
				if !goauth.DroppedOnRedirect(h.Name) {
					return profileErr(p.Name, core.Errorf(core.KindUnsupported, "the credential's %s header would go to any host a redirect names (the go command withholds only Authorization and Cookie); use a scheme that sends Authorization", h.Name))
				}
				set.Headers = append(set.Headers, goauth.Header{Name: h.Name, Value: h.Value})
			}
			var out bytes.Buffer
			if err := goauth.Write(&out, []goauth.Set{set}); err != nil {
				return profileErr(p.Name, core.Errorf(core.KindPlugin, "%s", err))
			}
			_, err = a.stdout.Write(out.Bytes())
			return err
		},
	}
	return cmd
}

// goauthPrefixes returns the https:// match prefixes of scope in the form
// the go command compares them in, as plain strings: normalized (host in
// lower case, no :443, see urlscope.Normalize), as it writes request URLs.
func goauthPrefixes(profile string, scope []string) ([]string, error) {
	var prefixes []string
	for _, m := range scope {
		u, err := url.Parse(m)
		if err != nil || !strings.EqualFold(u.Scheme, "https") {
			continue // Select has checked the config; the go command uses HTTPS only
		}
		n, err := urlscope.Normalize(u)
		if err != nil {
			return nil, profileErr(profile, err)
		}
		if n.Port() == "443" {
			n.Host = n.Hostname()
			if strings.Contains(n.Host, ":") { // IPv6
				n.Host = "[" + n.Host + "]"
			}
		}
		prefixes = append(prefixes, n.String())
	}
	return prefixes, nil
}

// credentialValue is the value Session.Renew recognises cred by: its token,
// else its first header's value.
func credentialValue(cred *core.Credential) string {
	if cred.Token == "" && len(cred.Headers) > 0 {
		return cred.Headers[0].Value
	}
	return cred.Token
}

// goauthRefused reads the response the go command got for rawURL from
// stdin and reports whether it refused the profile's credential: a 401 for
// a URL within prefixes.
func (a *app) goauthRefused(rawURL string, prefixes []string) (bool, error) {
	res, err := readToolInput(a.stdin, "goauth: the response on stdin", goauth.ReadResponse)
	if err != nil {
		return false, err
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return false, core.Errorf(core.KindConfig, "goauth: %s: expected an https:// URL", redact.RawURL(rawURL))
	}
	in := urlscope.InScope(u, prefixes)
	a.log().Debug("goauth: the go command got a 4xx", "status", res.Status, "url", redact.URL(u), "in_scope", in)
	return res.Status == 401 && in, nil
}
