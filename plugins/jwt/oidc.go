package jwt

import (
	"context"

	"github.com/authx/authx/core"
)

// oauth2Login obtains a token in oauth2 mode: the endpoints from the
// issuer's metadata when the profile names one, then the grant: a browser
// login, a device login, or a token request of its own (client
// credentials, password).
func (s *Scheme) oauth2Login(ctx context.Context, st *settings, ui core.UI) (*core.Credential, error) {
	switch st.grant {
	case "authorization_code":
		if ui == nil { // at once: no discovery for a login that cannot happen
			return nil, needsUser("a browser login (grant authorization_code)")
		}
	case "device_code":
		if ui == nil {
			return nil, needsUser("a device login (grant device_code)")
		}
	}
	if err := s.discover(ctx, st); err != nil {
		return nil, err
	}
	if err := st.startDPoP(nil); err != nil {
		return nil, err
	}
	switch st.grant {
	case "authorization_code":
		return s.authorizationCode(ctx, st, ui)
	case "device_code":
		return s.deviceCode(ctx, st, ui)
	}
	return s.oauth2Token(ctx, st, st.grantForm(), "")
}

// oauth2Refresh renews an oauth2-mode credential with its refresh token
// (RFC 6749 §6; the rotated one replaces it). The id_token of the old
// credential is kept when the answer brings none (OIDC Core §12.2).
func (s *Scheme) oauth2Refresh(ctx context.Context, st *settings, old *core.Credential, refreshToken string) (*core.Credential, error) {
	if err := s.discover(ctx, st); err != nil {
		return nil, err
	}
	if old != nil {
		st.oidc.previousIDToken = old.IDToken
	}
	if err := st.startDPoP(old); err != nil {
		return nil, err
	}
	return s.oauth2Token(ctx, st, st.refreshForm(refreshToken), refreshToken)
}

// withIDToken validates the id_token of a token answer doc, when it has
// one, and puts it in c; a refresh answer without one keeps the previous.
func (s *Scheme) withIDToken(ctx context.Context, st *settings, c *core.Credential, doc any, from string) (*core.Credential, error) {
	idToken, ok := firstString(doc, "id_token")
	if !ok {
		c.IDToken = st.oidc.previousIDToken
		return c, nil
	}
	if err := s.checkIDToken(ctx, st, idToken, from); err != nil {
		return nil, err
	}
	if err := sameSubject(st.oidc.previousIDToken, idToken); err != nil {
		return nil, core.Errorf(core.KindTokenInvalid, "%s: the id_token: %v", from, err)
	}
	c.IDToken = idToken
	return c, nil
}

// sameSubject checks that a refreshed id_token is about the user of the
// previous one (OIDC Core §12.2: the same iss and sub). Both were
// validated when received.
func sameSubject(previous, next string) error {
	if previous == "" {
		return nil
	}
	p, err1 := parseJWS(previous)
	n, err2 := parseJWS(next)
	if err1 != nil || err2 != nil {
		return nil // an unreadable previous token proves nothing
	}
	for _, name := range []string{"iss", "sub"} {
		was, _ := p.claims[name].(string)
		is, _ := n.claims[name].(string)
		if was != is {
			return invalidf("its %s differs from the login's (OIDC Core §12.2)", name)
		}
	}
	return nil
}
