package main

import (
	"encoding/base64"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/config"
	"github.com/authx/authx/core/gitcred"
	"github.com/authx/authx/core/session"
)

// defaultGitUsername is the username git gets with a token as the
// password when neither git nor --username names one: what GitLab
// requires for OAuth tokens; GitHub, Gitea and GitLab take any username
// with a personal access token.
const defaultGitUsername = "oauth2"

func (a *app) gitCredentialCommand() *cobra.Command {
	var username string
	cmd := &cobra.Command{
		Use:   "git-credential get|store|erase",
		Short: "Answer git as its credential helper, with the credential of the profile matching the URL",
		Long: `A git credential helper (git-credential(1)). Set it up for the hosts whose
profiles match them (the ! makes git run the command as written):

  git config --global credential.https://git.example.com.helper '!authx git-credential'

get: git sends protocol, host (and path, with credential.useHttpPath) on
stdin; authx picks the profile whose match prefix is the longest prefix of
protocol://host/path, as 'authx header --url' does, obtains its credential
the same way (cache, refresh, login) and prints username= and password=:
for Basic credentials their user and password, for a token the token as the
password with the username git sent, else --username (default oauth2). No
profile matches (or two match equally), the URL is not http(s), its path
(which git sends URL-decoded) has a . or .. segment, a backslash or a %,
or git names another user than the profile's: nothing is printed and git
asks its other helpers.

erase: git says the server refused what authx answered; authx renews the
credential (a refresh or login, never a prompt) so that the next git command
gets the new one, and says so in one line on stderr. When renewing gives the
refused credential again (a password the server no longer takes) it says
that instead (exit 4). With nothing cached for the profile, erase does
nothing (it never logs in). store: nothing to do, authx keeps its credentials;
another operation is ignored, as git asks of helpers.

Errors: one line on stderr, exit codes as for 'authx header'; git then asks
its other helpers (or the terminal, unless GIT_TERMINAL_PROMPT=0, which also
keeps authx from prompting). See docs/integrations.md.`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"get", "store", "erase"},
		RunE: func(cmd *cobra.Command, args []string) error {
			op := args[0]
			if op != "get" && op != "store" && op != "erase" {
				// git-credential(1): a helper silently ignores an operation
				// it does not support (a later git may add some).
				a.log().Debug("git-credential: operation ignored", "operation", op)
				return nil
			}
			req, err := readToolInput(a.stdin, "git-credential "+op, gitcred.Read)
			if err != nil {
				return err
			}
			if op == "store" {
				return nil
			}
			if os.Getenv("GIT_TERMINAL_PROMPT") == "0" || op == "erase" {
				a.noInput = true
			}
			p, err := a.gitProfile(req)
			if p == nil || err != nil {
				return err
			}
			t := &target{profile: p.Name, url: p.gitURL}
			if op == "get" {
				s, res, err := a.printable(cmd, t, false)
				if err != nil {
					return err
				}
				ans, ok, err := gitAnswer(s, res.Credential, req.Username, username)
				if !ok || err != nil {
					return err
				}
				if err := ans.Write(a.stdout); err != nil {
					return profileErr(p.Name, core.Errorf(core.KindPlugin, "%s", err))
				}
				return nil
			}
			return a.gitErase(cmd, t, req, username)
		},
	}
	cmd.Flags().StringVar(&username, "username", "", "the username git gets with a token as the password, when git names none (default "+defaultGitUsername+")")
	return cmd
}

// gitTarget is the profile git's request maps to, with the URL it was
// matched by.
type gitTarget struct {
	*config.Profile
	gitURL string
}

// gitProfile returns the profile whose match prefix is the longest prefix
// of the URL git asks about, as `authx header --url` picks it; nil when
// the request is not for an http(s) URL or no profile matches.
func (a *app) gitProfile(req *gitcred.Request) (*gitTarget, error) {
	u, ok := req.URL()
	if !ok {
		a.log().Debug("git-credential: not an http(s) URL, not answered", "protocol", req.Protocol)
		return nil, nil
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	// ProfileForURL fails only for a URL it cannot match (ambiguous path)
	// or one no profile matches: either way, not authx's to answer.
	p, err := cfg.ProfileForURL(u.String())
	if err != nil {
		a.log().Debug("git-credential: no profile matches, not answered", "reason", err.Error())
		return nil, nil
	}
	return &gitTarget{p, u.String()}, nil
}

// gitAnswer returns what git gets for cred: Basic credentials as their
// user and password, else the bare token as the password. ok is false
// when git asks for another user than the Basic credentials'.
func gitAnswer(s *session.Session, cred *core.Credential, gitUser, flagUser string) (ans gitcred.Answer, ok bool, err error) {
	if user, pass, isBasic := basicCredential(cred); isBasic {
		if gitUser != "" && gitUser != user {
			s.Log.Debug("git-credential: git asks for another user than the profile's, not answered", "profile", s.Profile.Name)
			return ans, false, nil
		}
		return gitcred.Answer{Username: user, Password: pass}, true, nil
	}
	if cred.Token == "" {
		return ans, false, profileErr(s.Profile.Name, core.Errorf(core.KindUnsupported, "scheme %s yields neither Basic credentials nor a token, which are all git can send", s.Profile.Scheme))
	}
	ans = gitcred.Answer{Username: firstNonEmpty(gitUser, flagUser, defaultGitUsername), Password: cred.Token}
	return ans, true, nil
}

// basicCredential returns the user and password of cred's Authorization:
// Basic header, if it has one.
func basicCredential(cred *core.Credential) (user, pass string, ok bool) {
	for _, h := range cred.Headers {
		scheme, b64, found := strings.Cut(h.Value, " ")
		if !strings.EqualFold(h.Name, "Authorization") || !found || !strings.EqualFold(scheme, "Basic") {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
		if err != nil {
			return "", "", false
		}
		return strings.Cut(string(raw), ":")
	}
	return "", "", false
}

// gitErase handles git's erase: the server refused what git sent. When
// that is what authx holds for the profile, authx renews it (never
// prompting): git asks again at its next command, never in a loop. It
// compares with the cached credential only: with nothing cached, nothing
// is obtained (git's password came from elsewhere).
func (a *app) gitErase(cmd *cobra.Command, t *target, req *gitcred.Request, flagUser string) error {
	s, err := a.session(t)
	if err != nil {
		return err
	}
	e := s.Cached()
	if e == nil {
		a.log().Debug("git-credential: erase with nothing cached, nothing renewed", "profile", s.Profile.Name)
		return nil
	}
	res := &session.Result{Credential: &e.Credential}
	ans, ok, err := gitAnswer(s, res.Credential, req.Username, flagUser)
	if !ok || err != nil || ans.Password != req.Password {
		if ok && err == nil { // another authx renewed it since, or another helper gave it
			a.notice("profile %q: the server refused a credential other than the one authx holds (renewed since, or given by another helper); nothing renewed", s.Profile.Name)
		}
		return err
	}
	refused := res.Credential.Token
	if refused == "" {
		refused = res.Credential.Headers[0].Value
	}
	s.StopAfterObtain = true
	if _, err := s.Renew(cmd.Context(), refused); err != nil {
		return profileErr(s.Profile.Name, err)
	}
	a.notice("profile %q: the server refused the credential; authx renewed it: run the git command again", s.Profile.Name)
	return nil
}
