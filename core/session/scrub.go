package session

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/redact"
)

// minStateString is the length from which a string of a credential's JSON
// state counts as a secret (a refresh token, a session id): shorter ones
// are words like "Bearer" that masking would only garble.
const minStateString = 16

// secretsOf returns what a message must not show, in any encoding
// redact.Set covers: the values of cfg's secret fields (those desc marks
// Secret), also as Basic credentials paired with each other string of cfg
// (a user name, a client id); and what each credential carries: its token,
// its header values and the part after a header's scheme word ("Bearer
// abc": abc; for Basic also the password it encodes), its cookie values,
// and its state (the state's strings of at least minStateString bytes when
// it is JSON), except values the config holds in a field that is not
// secret.
func secretsOf(desc core.Description, cfg core.Config, creds ...*core.Credential) *redact.Set {
	set := redact.New()
	var secrets, others []string
	for k, v := range cfg {
		if f, ok := desc.Field(k); ok && f.Secret {
			secrets = appendStrings(secrets, v)
		} else {
			others = appendStrings(others, v)
		}
	}
	for _, sec := range secrets {
		set.Add(sec)
		for _, user := range others {
			set.AddBasic(user, sec)
		}
	}
	// A credential's value that the config holds in a field that is not
	// secret (an HMAC scheme's key id as its token, a user name) is public.
	add := func(vs ...string) {
		for _, v := range vs {
			if !slices.Contains(others, v) {
				set.Add(v)
			}
		}
	}
	for _, c := range creds {
		if c == nil {
			continue
		}
		add(c.Token)
		for _, h := range c.Headers {
			add(h.Value)
			if scheme, cred, ok := strings.Cut(h.Value, " "); ok {
				add(cred)
				if user, pw, ok := basicCredentials(scheme, cred); ok && !slices.Contains(others, pw) {
					set.AddBasic(user, pw) // a cached credential: the password itself is known only from it
				}
			}
		}
		for _, k := range c.Cookies {
			add(k.Value)
		}
		add(stateSecrets(c.State)...)
	}
	return set
}

// basicCredentials returns the user and password of an HTTP Basic
// credential (RFC 7617: base64 of "user:password").
func basicCredentials(scheme, cred string) (user, password string, ok bool) {
	if !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		return "", "", false
	}
	return strings.Cut(string(raw), ":")
}

// appendStrings appends the strings of a config value (a string, or a list
// or map holding strings) to out.
func appendStrings(out []string, v any) []string {
	switch v := v.(type) {
	case string:
		out = append(out, v)
	case []any:
		for _, e := range v {
			out = appendStrings(out, e)
		}
	case map[string]any:
		for _, e := range v {
			out = appendStrings(out, e)
		}
	}
	return out
}

// stateSecrets returns the secrets of a credential's opaque state: its
// long strings when it is JSON, else the state itself.
func stateSecrets(state []byte) []string {
	if len(state) == 0 {
		return nil
	}
	var doc any
	if json.Unmarshal(state, &doc) != nil {
		return []string{string(state)}
	}
	var out []string
	for _, s := range appendStrings(nil, doc) {
		if len(s) >= minStateString {
			out = append(out, s)
		}
	}
	return out
}

// scrubError returns err with every secret of set masked in its text. The
// result keeps err's Kind, and its chain for errors.Is and errors.As (a
// lost plugin connection is still recognised), but the *core.Error that
// core.Prefix and core.KindOf find first carries only the masked text.
func scrubError(err error, set *redact.Set) error {
	if err == nil || set.Len() == 0 {
		return err
	}
	if _, ok := errors.AsType[*core.InputRequired](err); ok {
		return err // a question for the user, answered through the prompt
	}
	text := err.Error()
	clean := set.Scrub(text)
	if clean == text {
		return err
	}
	masked := &scrubbed{text: clean, err: err}
	if e, ok := errors.AsType[*core.Error](err); ok {
		return &core.Error{Kind: e.Kind, Err: masked}
	}
	return masked
}

// scrubbed is an error whose text had secrets masked.
type scrubbed struct {
	text string
	err  error
}

func (e *scrubbed) Error() string { return e.text }
func (e *scrubbed) Unwrap() error { return e.err }

// scrub masks the profile's secrets (see secretsOf) in an error that came
// from the plugin, or that quotes it.
func (s *Session) scrub(err error, cfg core.Config, creds ...*core.Credential) error {
	if err == nil {
		return nil
	}
	return scrubError(err, secretsOf(s.desc, cfg, creds...))
}

// scrubDiagnostics masks the profile's secrets in the plugin's messages
// about cfg.
func (s *Session) scrubDiagnostics(ds []core.Diagnostic, cfg core.Config) []core.Diagnostic {
	if len(ds) == 0 {
		return ds
	}
	set := secretsOf(s.desc, cfg)
	out := make([]core.Diagnostic, len(ds))
	for i, d := range ds {
		d.Message = set.Scrub(d.Message)
		out[i] = d
	}
	return out
}

// known returns the secrets the session knows so far: those of the
// resolved config, once resolved, and of the cached credential.
func (s *Session) known() *redact.Set {
	s.mu.Lock()
	desc, cfg := s.desc, s.resolved
	s.mu.Unlock()
	var cred *core.Credential
	if e := s.Cached(); e != nil {
		cred = &e.Credential
	}
	return secretsOf(desc, cfg, cred)
}

// Scrub returns text, a server's or a plugin's words, with the profile's
// secrets masked in every encoding redact.Set covers: the resolved values
// of its secret fields (once resolved: Scrub starts no plugin and prompts
// for nothing) and what its cached credential carries.
func (s *Session) Scrub(text string) string {
	return s.known().Scrub(text)
}

// ScrubError is Scrub for an error, keeping its Kind and chain.
func (s *Session) ScrubError(err error) error {
	if err == nil {
		return nil
	}
	return scrubError(err, s.known())
}
