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
// servers (Auth0) want; or token_exchange (RFC 8693).
func (st *settings) grantForm() url.Values {
	if st.grant == grantExchange {
		return st.exchangeForm()
	}
	form := url.Values{"grant_type": {st.grant}}
	if st.grant == "password" {
		form.Set("username", st.username)
		form.Set("password", st.password)
	}
	st.addAudience(form)
	st.addScope(form)
	return form
}

// addAudience sets the audience parameter (one value; Auth0 and others
// want it on the authorization and device requests too, to pick the API an
// access token is for).
func (st *settings) addAudience(v url.Values) {
	if len(st.audience) == 1 {
		v.Set("audience", st.audience[0])
	}
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

// tokenRequest makes one request of form to the token endpoint, with the
// client's authentication (a fresh client assertion each time) and, with
// DPoP, a fresh proof.
func (s *Scheme) tokenRequest(ctx context.Context, st *settings, form url.Values, oldRefresh string) (exchange, any, error) {
	x := exchange{what: "token request", method: http.MethodPost, url: st.tokenURL, ctype: "application/x-www-form-urlencoded", oauth2: true, dpop: st.dpopState}
	if oldRefresh != "" {
		x.what, x.secrets = "refresh", []string{oldRefresh}
	}
	if err := s.authenticateClient(st, form, &x); err != nil {
		return x, nil, err
	}
	x.body = []byte(form.Encode())
	doc, err := s.do(ctx, st, x)
	return x, doc, err
}

// oauth2Token posts form to the token endpoint with the client's
// authentication and reads a §5.1 answer. oldRefresh is the refresh token
// being used, if any: an answer without a new one keeps it, a new one
// replaces it (rotation), and invalid_grant or a 401 is KindLoginRequired.
func (s *Scheme) oauth2Token(ctx context.Context, st *settings, form url.Values, oldRefresh string) (*core.Credential, error) {
	if err := requireAbsolute("token_url", st.tokenURL); err != nil {
		return nil, err
	}
	st.addTokenParams(form)
	x, doc, err := s.tokenRequest(ctx, st, form, oldRefresh)
	if se, ok := errors.AsType[*statusErr](err); ok && st.dpopState != nil && se.code == "use_dpop_nonce" {
		// RFC 9449 §8: the server wants its nonce in the proof. One retry,
		// with a fresh client assertion too: its jti is single-use.
		if !se.dpopNonce {
			return nil, core.Errorf(core.KindBadAnswer, "%s %s: the server asks for a DPoP nonce (use_dpop_nonce) but sends no valid DPoP-Nonce header (RFC 9449 §8)",
				x.what, redact.RawURL(st.tokenURL))
		}
		x, doc, err = s.tokenRequest(ctx, st, form, oldRefresh)
	}
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
	// RFC 8693 §2.2.1: an exchanged token that is not an access token has
	// token_type N_A.
	tt, _ := firstString(doc, "token_type")
	if st.dpopState != nil {
		return s.dpopCredential(ctx, st, doc, token, tt, oldRefresh, from)
	}
	if !strings.EqualFold(tt, "bearer") && st.prefix == "Bearer" && (st.grant != grantExchange || tt != "N_A") {
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
