package jwt

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/authx/authx/core"
)

// grantForm is the token request of the profile's grant: password (RFC 6749
// §4.3) or client_credentials (§4.4).
func (st *settings) grantForm() url.Values {
	form := url.Values{"grant_type": {st.grant}}
	if st.grant == "password" {
		form.Set("username", st.username)
		form.Set("password", st.password)
	}
	st.addScope(form)
	return form
}

// refreshForm is a refresh request (§6).
func (st *settings) refreshForm(refreshToken string) url.Values {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	if len(st.scopes) > 0 {
		form.Set("scope", strings.Join(st.scopes, " "))
	}
	return form
}

func (st *settings) addScope(form url.Values) {
	if len(st.scopes) > 0 {
		form.Set("scope", strings.Join(st.scopes, " "))
	}
	if len(st.audience) == 1 {
		form.Set("audience", st.audience[0])
	}
}

// oauth2Token posts form to the token endpoint with the client's
// authentication and reads a §5.1 answer. oldRefresh is the refresh token
// being used, if any: an answer without a new one keeps it, a new one
// replaces it (rotation), and invalid_grant means log in again.
func (s *Scheme) oauth2Token(ctx context.Context, st *settings, form url.Values, oldRefresh string) (*core.Credential, error) {
	what := "token request"
	if oldRefresh != "" {
		what = "refresh"
	}
	x := exchange{what: what, method: "POST", url: st.tokenURL, ctype: "application/x-www-form-urlencoded"}
	if u, err := url.Parse(st.tokenURL); err != nil || !u.IsAbs() {
		return nil, core.Errorf(core.KindConfig, "token_url %q is relative: give the profile a url, or an absolute URL", st.tokenURL)
	}
	switch {
	case st.clientID == "":
	case st.clientAuth == "body" || st.clientSecret == "":
		form.Set("client_id", st.clientID)
		if st.clientSecret != "" {
			form.Set("client_secret", st.clientSecret)
		}
	default:
		x.user = url.UserPassword(st.clientID, st.clientSecret)
	}
	x.body = []byte(form.Encode())
	a, err := s.do(ctx, st, x)
	if err != nil {
		var se *statusErr
		if errors.As(err, &se) && oldRefresh != "" && (se.code == "invalid_grant" || se.status == 401) {
			return nil, core.Wrap(core.KindLoginRequired, err, "the refresh token was refused; requesting a new token")
		}
		return nil, err
	}
	token, _, ok := firstString(a.doc, []string{"access_token"})
	if !ok {
		return nil, core.Errorf(core.KindNetwork, "%s %s: the answer has no access_token (RFC 6749 §5.1); it has the keys %s",
			what, redact(st.tokenURL), strings.Join(keys(a.doc), ", "))
	}
	if tt, _ := lookupString(a.doc, "token_type"); !strings.EqualFold(tt, "bearer") && st.prefix == "Bearer" {
		return nil, core.Errorf(core.KindNetwork, "%s %s: token_type is %q, not bearer; set prefix if the API expects it that way", what, redact(st.tokenURL), tt)
	}
	refreshToken, _ := lookupString(a.doc, "refresh_token")
	if refreshToken == "" {
		refreshToken = oldRefresh
	}
	lifetime, _ := seconds(a.doc, []string{"expires_in"})
	return s.credential(st, token, refreshToken, lifetime, what+" "+redact(st.tokenURL))
}

func lookupString(doc any, path string) (string, bool) {
	v, ok := lookup(doc, path)
	s, isString := v.(string)
	return s, ok && isString
}
