// Package basic is the HTTP Basic authentication scheme (RFC 7617).
//
// It yields `Authorization: Basic base64(user ":" password)`, preemptively,
// UTF-8 encoded. The password comes from the profile (usually a secret
// reference such as env:PW), from ~/.netrc with `netrc: true`, or from a
// prompt through the protocol's input-required continuation.
package basic

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/httpauth"
	"github.com/authx/authx/core/redact"
	"github.com/authx/authx/core/tlsconfig"
)

// Version of the scheme.
const Version = "0.1.0"

// Scheme implements core.Scheme and core.ChallengeHandler.
type Scheme struct {
	// Netrc reads a netrc file; nil means the user's (~/.netrc or $NETRC).
	Netrc func() ([]byte, error)
}

// New returns the basic scheme reading the user's netrc file.
func New() *Scheme { return &Scheme{Netrc: userNetrc} }

var _ core.ChallengeHandler = (*Scheme)(nil)

// Describe implements core.Scheme.
func (s *Scheme) Describe() core.Description {
	return core.Description{
		Name:    "basic",
		Version: Version,
		Summary: "HTTP Basic authentication (RFC 7617), sent preemptively",
		Config: append([]core.Field{
			{Name: "username", Type: core.TypeString, Help: "user name; may not contain ':' (optional with netrc: true)"},
			{Name: "password", Type: core.TypeString, Secret: true, Help: "password or API token, usually a reference: env:NAME, file:PATH, cmd:COMMAND or prompt:"},
			{Name: "netrc", Type: core.TypeBool, Default: false, Help: "read the login and password for the profile's host from ~/.netrc (or $NETRC)"},
		}, tlsconfig.Fields()...), // for authx's requests: the scheme makes none
	}
}

// Configure implements core.Scheme.
func (s *Scheme) Configure(_ context.Context, cfg core.Config) []core.Diagnostic {
	var ds []core.Diagnostic
	user := cfg.String("username", "")
	if strings.Contains(user, ":") {
		ds = append(ds, core.DiagError("username", "a Basic user name may not contain ':' (RFC 7617 §2)"))
	}
	if hasCTL(user) {
		ds = append(ds, core.DiagError("username", "the user name contains a control character"))
	}
	if !utf8.ValidString(user) {
		ds = append(ds, core.DiagError("username", "the user name is not valid UTF-8"))
	}
	if user == "" && !cfg.Bool("netrc", false) {
		ds = append(ds, core.DiagError("username", "required unless netrc: true"))
	}
	if _, err := tlsconfig.FromConfig(cfg); err != nil {
		field, msg, _ := strings.Cut(err.Error(), ": ")
		ds = append(ds, core.DiagError(field, "%s", msg))
	}
	return ds
}

func hasCTL(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0
}

// Login implements core.Scheme. Without a configured password (and no netrc
// entry) it asks for one through core.InputRequired.
func (s *Scheme) Login(_ context.Context, req core.LoginRequest) (*core.Credential, error) {
	user := req.Config.String("username", "")
	pass, havePass := req.Config["password"].(string)
	if !havePass && req.Config.Bool("netrc", false) {
		login, pw, err := s.fromNetrc(req.URL, user)
		if err != nil {
			return nil, err
		}
		user, pass, havePass = login, pw, true
	}
	if !havePass {
		if p, ok := req.Answers["password"]; ok {
			pass, havePass = p, true
		}
	}
	if !havePass {
		return nil, &core.InputRequired{Prompts: []core.Prompt{{ID: "password", Message: fmt.Sprintf("Password for %s: ", user), Secret: true}}}
	}
	if hasCTL(pass) {
		return nil, core.Errorf(core.KindConfig, "password: contains a control character, which Basic credentials may not hold")
	}
	token := basicToken(user, pass)
	return &core.Credential{
		Token:   token,
		Headers: []core.Header{{Name: "Authorization", Value: "Basic " + token}},
	}, nil
}

// secrets returns what a message about req must not quote from the server:
// the configured password and the one the credential was made from (netrc's,
// say), alone and as Basic credentials, in any encoding.
func secrets(req core.ChallengeRequest) *redact.Set {
	set := redact.New()
	if pass, ok := req.Config["password"].(string); ok {
		set.AddBasic(req.Config.String("username", ""), pass)
	}
	if req.Credential != nil {
		if b, err := base64.StdEncoding.DecodeString(req.Credential.Token); err == nil {
			if user, pass, ok := strings.Cut(string(b), ":"); ok {
				set.AddBasic(user, pass)
			}
		}
	}
	return set
}

// basicToken is the base64 of user:password (RFC 7617 §2).
func basicToken(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

func (s *Scheme) fromNetrc(rawURL, user string) (login, password string, err error) {
	u, perr := url.Parse(rawURL)
	if rawURL == "" || perr != nil || u.Hostname() == "" {
		return "", "", core.Errorf(core.KindConfig, "netrc: true needs the profile's url (or match) to know which host to look up")
	}
	data, err := s.Netrc()
	if err != nil {
		return "", "", core.Wrap(core.KindConfig, err, "netrc")
	}
	login, password, ok := lookupNetrc(data, u.Hostname(), user)
	if !ok {
		who := ""
		if user != "" {
			who = " with login " + user
		}
		return "", "", core.Errorf(core.KindConfig, "netrc: no entry for machine %s%s", u.Hostname(), who)
	}
	return login, password, nil
}

// HandleChallenge implements core.ChallengeHandler. Refused Basic
// credentials (401) will not work on a retry, so the answer is a diagnosis,
// unless the configured password is no longer the one the cached credential
// was made from (it was rotated): then a new login and one retry. A 403 is a
// KindForbidden error: the user lacks access, no new login changes that.
func (s *Scheme) HandleChallenge(_ context.Context, req core.ChallengeRequest) (core.ChallengeResponse, error) {
	user := req.Config.String("username", "")
	switch req.Response.Status {
	case 401:
		if pass, ok := req.Config["password"].(string); ok && req.Credential != nil && req.Credential.Token != basicToken(user, pass) {
			return core.ChallengeResponse{Decision: core.DecisionLogin, ReplaySafe: true,
				Diagnosis: "the password changed since the credential was cached"}, nil
		}
		challenges := httpauth.ParseHeader(req.Response.Header, "WWW-Authenticate")
		c, ok := httpauth.Find(challenges, "Basic")
		if !ok && len(challenges) > 0 { // the server asks for another scheme
			var schemes []string
			for _, c := range challenges {
				schemes = append(schemes, c.Scheme)
			}
			return core.ChallengeResponse{Decision: core.DecisionFail,
				Diagnosis: fmt.Sprintf("credentials rejected: the server asks for %s authentication, not Basic; does this profile need another scheme?", secrets(req).Scrub(strings.Join(schemes, " or ")))}, nil
		}
		realm := ""
		if ok && c.Params["realm"] != "" {
			realm = fmt.Sprintf(" (realm %q)", secrets(req).Scrub(c.Params["realm"]))
		}
		return core.ChallengeResponse{Decision: core.DecisionFail,
			Diagnosis: fmt.Sprintf("credentials rejected: the server refused user %q%s", user, realm)}, nil
	default: // the credentials were sent; the server will not let this user in (exit 14)
		return core.ChallengeResponse{}, core.Errorf(core.KindForbidden,
			"forbidden: the server accepted no access for user %q to %s (HTTP %d)", user, redact.RawURL(req.Request.URL), req.Response.Status)
	}
}
