package jwt

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/redact"
)

// grantForm is the token request of the profile's grant: password (RFC 6749
// §4.3) or client_credentials (§4.4), with the audience parameter some
// servers (Auth0) want.
func (st *settings) grantForm() url.Values {
	form := url.Values{"grant_type": {st.grant}}
	if st.grant == "password" {
		form.Set("username", st.username)
		form.Set("password", st.password)
	}
	if len(st.audience) == 1 {
		form.Set("audience", st.audience[0])
	}
	st.addScope(form)
	return form
}

// refreshForm is a refresh request (§6).
func (st *settings) refreshForm(refreshToken string) url.Values {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	st.addScope(form)
	return form
}

// addScope sets the scope parameter (§3.3) when the profile names scopes.
func (st *settings) addScope(form url.Values) {
	if len(st.scopes) > 0 {
		form.Set("scope", strings.Join(st.scopes, " "))
	}
}

// oauth2Token posts form to the token endpoint with the client's
// authentication and reads a §5.1 answer. oldRefresh is the refresh token
// being used, if any: an answer without a new one keeps it, a new one
// replaces it (rotation), and invalid_grant or a 401 is KindLoginRequired.
func (s *Scheme) oauth2Token(ctx context.Context, st *settings, form url.Values, oldRefresh string) (*core.Credential, error) {
	if err := requireAbsolute("token_url", st.tokenURL); err != nil {
		return nil, err
	}
	x := exchange{what: "token request", method: http.MethodPost, url: st.tokenURL, ctype: "application/x-www-form-urlencoded"}
	if oldRefresh != "" {
		x.what, x.secrets = "refresh", []string{oldRefresh}
	}
	st.authenticate(form, &x)
	x.body = []byte(form.Encode())
	doc, err := s.do(ctx, st, x)
	if err != nil {
		if se, ok := errors.AsType[*statusErr](err); ok && oldRefresh != "" && (se.code == "invalid_grant" || se.status == http.StatusUnauthorized) {
			return nil, core.Wrap(core.KindLoginRequired, err, "the refresh token was refused; request a new token")
		}
		return nil, err
	}
	from := x.what + " " + redact.RawURL(st.tokenURL)
	token, ok := firstString(doc, "access_token")
	if !ok {
		return nil, core.Errorf(core.KindBadAnswer, "%s: the answer has no access_token (RFC 6749 §5.1); it has the keys %s",
			from, strings.Join(leafPaths(doc), ", "))
	}
	if tt, _ := firstString(doc, "token_type"); !strings.EqualFold(tt, "bearer") && st.prefix == "Bearer" {
		return nil, core.Errorf(core.KindBadAnswer, "%s: token_type is %s, not bearer; set prefix if the API expects it that way", from, printable(tt))
	}
	refreshToken, ok := firstString(doc, "refresh_token")
	if !ok {
		refreshToken = oldRefresh
	}
	c, err := s.credential(st, token, refreshToken, lifetime(doc, "expires_in"), from)
	if err != nil {
		return nil, err
	}
	return s.withIDToken(ctx, st, c, doc, from)
}

// authenticate adds the client's authentication (RFC 6749 §2.3) to a
// request to the token endpoint or another endpoint that wants it (device
// authorization, revocation): HTTP Basic, or client_id (and the secret
// with client_auth body) in the form.
func (st *settings) authenticate(form url.Values, x *exchange) {
	switch {
	case st.clientID == "":
	case st.clientAuth == "body" || st.clientSecret == "":
		form.Set("client_id", st.clientID)
		if st.clientSecret != "" {
			form.Set("client_secret", st.clientSecret)
		}
	default:
		x.basicUser, x.basicPassword = st.clientID, st.clientSecret
	}
}
