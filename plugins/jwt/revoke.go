package jwt

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/authx/authx/core"
)

// Logout implements core.LogoutHandler: in oauth2 mode with a revocation
// endpoint (revocation_url, or the issuer's revocation_endpoint), it
// revokes the refresh token, which ends the grant, then the access token
// (RFC 7009), except a JWT access token of RFC 9068 (typ at+jwt), which
// IdPs such as oidc-provider cannot revoke. Other modes and profiles
// without the endpoint have nothing to revoke.
func (s *Scheme) Logout(ctx context.Context, req core.LogoutRequest) error {
	st, err := settingsFor(req.Config, req.URL)
	if err != nil || st.mode != modeOAuth2 || req.Credential == nil {
		return err
	}
	if st.oidc.revocationURL == "" || st.tokenURL == "" { // the token endpoint is a client assertion's aud
		if err := s.discover(ctx, st); err != nil || st.oidc.revocationURL == "" {
			return err
		}
	}
	if rt := stateOf(req.Credential).RefreshToken; rt != "" {
		if err := s.revoke(ctx, st, rt, "refresh_token"); err != nil {
			return err
		}
	}
	if at := req.Credential.Token; at != "" && !resourceJWT(at) {
		return s.revoke(ctx, st, at, "access_token")
	}
	return nil
}

// revoke posts one token to the revocation endpoint with the client's
// authentication. A server that does not revoke that type of token
// (unsupported_token_type) is not an error: there is nothing more to do.
func (s *Scheme) revoke(ctx context.Context, st *settings, token, hint string) error {
	if err := requireAbsolute("revocation_url", st.oidc.revocationURL); err != nil {
		return err
	}
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	x := exchange{what: "revocation", method: http.MethodPost, url: st.oidc.revocationURL, ctype: "application/x-www-form-urlencoded", secrets: []string{token}}
	if err := s.authenticateClient(st, form, &x); err != nil {
		return err
	}
	x.body = []byte(form.Encode())
	_, err := s.do(ctx, st, x)
	if se, ok := errors.AsType[*statusErr](err); ok && (se.code == "unsupported_token_type" || se.status >= 200 && se.status <= 299) {
		return nil // RFC 7009 §2.2: 200 with any body, or a type it does not revoke
	}
	return err
}

// resourceJWT reports whether token is a JWT access token of RFC 9068
// (header typ at+jwt or application/at+jwt).
func resourceJWT(token string) bool {
	t, err := parseJWS(token)
	if err != nil {
		return false
	}
	typ, _ := t.header["typ"].(string)
	return strings.EqualFold(typ, "at+jwt") || strings.EqualFold(typ, "application/at+jwt")
}
