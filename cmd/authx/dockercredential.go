package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/dockercred"
	"github.com/authx/authx/core/session"
)

// dockerHelperName is the executable container tools run (credHelpers
// value "authx"); cmd/docker-credential-authx runs this command.
const dockerHelperName = "docker-credential-authx"

func (a *app) dockerCredentialCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "docker-credential get|erase|store|list|version",
		Short: "The docker credential helper: what docker-credential-authx runs",
		Long: `The docker credential helper protocol, for docker, skopeo, podman, buildah
and crane. They run 'docker-credential-authx ACTION' (installed beside
authx), which runs this command; name it in credHelpers of
~/.docker/config.json (or the containers auth file):

  {"credHelpers": {"registry.example.com": "authx"}}

get reads the registry on stdin (registry.example.com, 127.0.0.1:5000, or
a URL) and prints {"ServerURL","Username","Secret"}: the credential of the
profile whose match prefixes cover https://REGISTRY/v2/ (for localhost and
loopback addresses, else http://REGISTRY/v2/), obtained as 'authx token'
does. Basic credentials give their user and password; a token is given as
an identity token (Username "<token>"). No profile: "credentials not found
in native keychain", exit 1, and the tool goes on without credentials.
erase forgets the profile's cached credential, as 'authx logout' does.
store is refused (authx keeps no registry passwords: the profile says
where the secret is); list prints {}.

An error is one line on stdout, where the tool reads it (and, unless it is
the protocol's own, on stderr too), and a non-zero exit code: 1 for the
protocol's errors, else authx's (docs/exit-codes.md).

See docs/integrations.md.`,
		Args: cobra.ArbitraryArgs, // the protocol's usage error, on stdout
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.dockerCredential(cmd, args); err != nil {
				// The tool reads the reason on stdout (docker-credential-helpers'
				// client quotes it in its error); the exit code says more.
				// authx's own failures go to stderr too, where the tool's user
				// sees them (docker and skopeo pass it through); the protocol's
				// messages (a miss: the tool goes on without credentials) do not.
				fmt.Fprintln(a.stdout, oneLine(err.Error()))
				if _, ok := err.(dockercred.Error); ok {
					return &exitError{1}
				}
				fmt.Fprintln(a.stderr, "authx: "+oneLine(err.Error()))
				return &exitError{exitCodeOf(err)}
			}
			return nil
		},
	}
}

// dockerCredential runs one action of the protocol.
func (a *app) dockerCredential(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return dockercred.Error("Usage: " + dockerHelperName + " <store|get|erase|list|version>")
	}
	switch args[0] {
	case "get":
		t, server, err := a.dockerTarget()
		if err != nil {
			return err
		}
		s, res, err := a.printable(cmd, t, false)
		if err != nil {
			return err
		}
		c, err := dockerCredentialsOf(s, res, server)
		if err != nil {
			return err
		}
		var out strings.Builder
		if err := dockercred.WriteCredentials(&out, c); err != nil {
			return profileErr(s.Profile.Name, core.Errorf(core.KindUnsupported, "%s", err.Error()))
		}
		_, err = fmt.Fprint(a.stdout, out.String())
		return err
	case "erase":
		t, _, err := a.dockerTarget()
		if err != nil {
			return err
		}
		s, err := a.session(t)
		if err != nil {
			return err
		}
		n, err := s.Logout(cmd.Context())
		if err != nil {
			return profileErr(s.Profile.Name, fmt.Errorf("cached credential removed, but the server-side revocation failed: %w", err))
		}
		if n == 0 {
			return dockercred.ErrNotFound
		}
		return nil
	case "store":
		c, err := readToolInputRaw(a.stdin, "docker-credential store", dockercred.ReadCredentials)
		if err != nil {
			return err
		}
		return core.Errorf(core.KindUnsupported, "authx keeps no registry passwords: configure a profile whose match covers %s (docs/integrations.md)", dockerURLFor(c.ServerURL))
	case "list":
		return dockercred.WriteList(a.stdout, nil)
	case "version":
		_, err := fmt.Fprintf(a.stdout, "%s (github.com/authx/authx) %s\n", dockerHelperName, version)
		return err
	}
	return dockercred.Error(fmt.Sprintf("Unknown credential action `%s`", args[0]))
}

// dockerURLFor is the URL a server name stands for first, for messages.
func dockerURLFor(server string) string {
	if urls, err := dockercred.URLs(server); err == nil {
		return urls[0]
	}
	return "https://REGISTRY/v2/"
}

// dockerTarget reads the server name on stdin and returns the target of
// the profile whose match prefixes cover it (its URL), and the name;
// ErrNotFound when no profile does.
func (a *app) dockerTarget() (*target, string, error) {
	server, err := readToolInputRaw(a.stdin, "docker-credential: the server name on stdin", dockercred.ReadServer)
	if err != nil {
		return nil, "", err
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, "", err
	}
	urls, _ := dockercred.URLs(server) // ReadServer checked it
	for _, u := range urls {
		if _, err := cfg.ProfileForURL(u); err == nil {
			return &target{url: u}, server, nil
		}
	}
	return nil, "", dockercred.ErrNotFound
}

// dockerCredentialsOf turns the credential into what get prints: Basic
// credentials as their user and password, else the token as an identity
// token.
func dockerCredentialsOf(s *session.Session, res *session.Result, server string) (dockercred.Credentials, error) {
	c := dockercred.Credentials{ServerURL: server}
	for _, h := range res.Credential.HeaderLines() {
		if strings.EqualFold(h.Name, "Authorization") {
			if user, pw, ok := dockercred.FromBasic(h.Value); ok {
				c.Username, c.Secret = user, pw
				return c, nil
			}
		}
	}
	if res.Credential.Token != "" {
		c.Username, c.Secret = dockercred.IdentityTokenUser, res.Credential.Token
		return c, nil
	}
	return c, profileErr(s.Profile.Name, core.Errorf(core.KindUnsupported, "scheme %q yields neither Basic credentials nor a token for a registry client", s.Profile.Scheme))
}
