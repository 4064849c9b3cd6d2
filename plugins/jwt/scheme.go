// Package jwt is the bearer-token scheme: it obtains a token from a JSON
// login endpoint (with presets for WordPress, json-server-auth and Django
// SimpleJWT), from an OAuth2 token endpoint (RFC 6749 password and
// client_credentials grants, refresh with rotation), through an OIDC
// single sign-on (issuer discovery, a browser login with PKCE on a loopback
// redirect, a device login; the id_token validated), by signing it locally,
// or from a secret reference; it refreshes it, reacts to RFC 6750
// challenges and to the refusals of servers that send none (WordPress, Dex),
// and offers the actions decode, verify and sign.
//
// Compact JWS are parsed and their claims checked by this package (RFC 7515,
// 7519, 8725); signatures are made and checked with the signing methods of
// github.com/golang-jwt/jwt/v5. A token's exp claim is read without
// verification only to know when to renew it: the client usually has no
// key, and the server decides.
package jwt

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/authx/authx/core"
)

// Version of the scheme.
const Version = "0.1.0"

// Scheme implements core.Scheme, Refresher, Applier (DPoP), ChallengeHandler,
// LogoutHandler and ActionRunner.
type Scheme struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// HTTP sends the requests to login, refresh and token endpoints, and
	// the JWKS fetches of verify --jwks. nil means http.DefaultClient, which
	// honours the proxy variables, for the endpoints (each exchange is
	// bounded by the profile's timeout) and a client with a 10 s timeout for
	// JWKS. An exchange never follows a redirect to another host. A
	// profile's ca_file, client_cert and client_key apply on top of it
	// (httpClient).
	HTTP *http.Client
	// Sleep waits between the polls of a device login; nil means a timer.
	// It returns ctx's error when ctx ends first.
	Sleep func(ctx context.Context, d time.Duration) error
	// BrowserTimeout bounds a browser login; 0 means 5 minutes.
	BrowserTimeout time.Duration

	mu         sync.Mutex
	tlsClients map[string]*http.Client // by TLS setting: see httpClient
}

// New returns the scheme with the real clock and network.
func New() *Scheme { return &Scheme{} }

var (
	_ core.Refresher        = (*Scheme)(nil)
	_ core.Applier          = (*Scheme)(nil)
	_ core.ChallengeHandler = (*Scheme)(nil)
	_ core.ActionRunner     = (*Scheme)(nil)
	_ core.LogoutHandler    = (*Scheme)(nil)
)

func (s *Scheme) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheme) client() *http.Client {
	if s.HTTP != nil {
		return s.HTTP
	}
	return http.DefaultClient
}

// Describe implements core.Scheme.
func (s *Scheme) Describe() core.Description {
	return core.Description{
		Name:    "jwt",
		Version: Version,
		Summary: "bearer tokens: JSON login endpoints (presets: wordpress, json-server-auth, simplejwt), OAuth2 token endpoints and OIDC browser or device logins, local signing, static tokens",
		Config:  fields,
		Actions: Actions,
	}
}

// Configure implements core.Scheme.
func (s *Scheme) Configure(_ context.Context, cfg core.Config) []core.Diagnostic {
	_, ds := read(cfg, "")
	if cfg.String("mode", modeLogin) == modeSign && cfg.String("key", "") != "" {
		// Minting is cheap and local: a trial run checks the key's type,
		// its length and the algorithm.
		opts, err := MintOptionsFromConfig(cfg, s.now())
		if err == nil {
			_, _, err = Mint(opts)
		}
		if err != nil {
			// MintOptionsFromConfig starts its messages with the key at
			// fault; Mint's are about the key.
			field, msg := "key", message(err)
			for _, f := range []string{"algorithm", "ttl"} {
				if rest, ok := strings.CutPrefix(msg, f+": "); ok {
					field, msg = f, rest
				}
			}
			ds = append(ds, core.DiagError(field, "%s", msg))
		}
	}
	return ds
}

// settingsFor reads cfg for a call, with URLs resolved against base.
func settingsFor(cfg core.Config, base string) (*settings, error) {
	st, ds := read(cfg, base)
	for _, d := range ds {
		if d.Severity != core.SeverityWarning {
			return nil, core.Errorf(core.KindConfig, "%s: %s", d.Field, d.Message)
		}
	}
	if st.mode == modeLogin && st.preset != "" && base == "" && !strings.Contains(st.loginURL, "://") {
		return nil, core.Errorf(core.KindConfig, "preset %s needs the profile's url (the site, e.g. url: https://blog.example.com)", st.preset)
	}
	return st, nil
}

// Login implements core.Scheme.
func (s *Scheme) Login(ctx context.Context, req core.LoginRequest) (*core.Credential, error) {
	st, err := settingsFor(req.Config, req.URL)
	if err != nil {
		return nil, err
	}
	switch st.mode {
	case modeOAuth2:
		return s.oauth2Login(ctx, st, req.UI)
	case modeSign:
		return s.mint(st, req.Config)
	case modeStatic:
		return s.credential(st, st.token, "", 0, "token")
	}
	return s.login(ctx, st)
}

// Refresh implements core.Refresher. Without a way to refresh it asks for a
// new login (core.KindLoginRequired), which the host then performs.
func (s *Scheme) Refresh(ctx context.Context, req core.RefreshRequest) (*core.Credential, error) {
	st, err := settingsFor(req.Config, req.URL)
	if err != nil {
		return nil, err
	}
	refreshToken := stateOf(req.Credential).RefreshToken
	switch st.mode {
	case modeSign:
		return s.mint(st, req.Config)
	case modeStatic:
		return s.credential(st, st.token, "", 0, "token")
	case modeOAuth2:
		if refreshToken == "" {
			return nil, core.Errorf(core.KindLoginRequired, "no refresh token; request a new token")
		}
		return s.oauth2Refresh(ctx, st, req.Credential, refreshToken)
	}
	if st.refreshURL == "" || refreshToken == "" {
		return nil, core.Errorf(core.KindLoginRequired, "this profile cannot refresh; log in again")
	}
	return s.refresh(ctx, st, refreshToken)
}

// bearer is the credential that sends token in the profile's header, after
// its prefix.
func (st *settings) bearer(token string) *core.Credential {
	return &core.Credential{Token: token, Headers: []core.Header{{Name: st.header, Value: strings.TrimSpace(st.prefix + " " + token)}}}
}

// credential builds the credential for token. lifetime, when known, sets
// the expiry; else the token's exp claim does, read without verification;
// else the expiry is unknown and the token is used until a server refuses
// it. from names where the token came from, for errors: a token a server
// sent that is empty is a bad answer, one that is a malformed JWT is an
// invalid token; a static token that is either is a configuration error.
func (s *Scheme) credential(st *settings, token, refreshToken string, lifetime time.Duration, from string) (*core.Credential, error) {
	empty, malformed := core.KindBadAnswer, core.KindTokenInvalid
	if st.mode == modeStatic {
		empty, malformed = core.KindConfig, core.KindConfig
	}
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return nil, core.Errorf(empty, "%s: the token is empty or holds whitespace", from)
	}
	if err := checkJWTShape(token); err != nil {
		return nil, core.Errorf(malformed, "%s: %v", from, err)
	}
	c := st.bearer(token)
	switch exp, ok := ExpiryOf(token); {
	case lifetime > 0:
		c.ExpiresAt = s.now().Add(lifetime).UTC()
	case ok:
		c.ExpiresAt = exp.UTC()
	}
	if refreshToken != "" {
		c.State = state{RefreshToken: refreshToken}.encode()
	}
	for _, p := range st.scopePaths {
		if st.base == "" {
			break
		}
		if u, err := resolve(st.base, p); err == nil {
			c.Scope = append(c.Scope, u)
		}
	}
	return c, nil
}

// checkJWTShape refuses a token that claims to be a JWT (three segments and
// a JSON header with an alg) but whose payload or signature does not
// decode. Opaque tokens pass, even with dots.
func checkJWTShape(token string) error {
	if strings.Count(token, ".") != 2 {
		return nil
	}
	h, _, _ := strings.Cut(token, ".")
	if b, err := b64url("the header", h); err != nil || jsonObject(b)["alg"] == nil {
		return nil
	}
	if _, err := parseJWS(token); err != nil {
		return fmt.Errorf("the token looks like a JWT but is malformed: %v", err)
	}
	return nil
}

// mint signs a token locally (sign mode).
func (s *Scheme) mint(st *settings, cfg core.Config) (*core.Credential, error) {
	opts, err := MintOptionsFromConfig(cfg, s.now())
	if err != nil {
		return nil, err
	}
	token, exp, err := Mint(opts)
	if err != nil {
		return nil, err
	}
	c := st.bearer(token)
	c.ExpiresAt = exp // zero, meaning unknown, without a ttl
	return c, nil
}

// RunAction implements core.ActionRunner.
func (s *Scheme) RunAction(ctx context.Context, req core.ActionRequest) (core.ActionResult, error) {
	return RunAction(ctx, req, s.now, s.HTTP, jwksCacheDir())
}

// jwksCacheDir is where fetched JWKS documents are cached:
// $XDG_CACHE_HOME/authx/jwks, else ~/.cache/authx/jwks; "" when neither is
// known.
func jwksCacheDir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "authx", "jwks")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".cache", "authx", "jwks")
	}
	return ""
}
