package jwt

import (
	"context"
	"errors"
	"time"

	"github.com/authx/authx/core"
)

// idTokenLeeway tolerates clock skew between authx and the IdP in the
// id_token's exp, nbf and iat.
const idTokenLeeway = time.Minute

// checkIDToken validates an id_token from the token endpoint (OIDC Core
// §3.1.3.7): its signature through the JWKS (jwks_url, or the issuer's
// jwks_uri), iss (the issuer, when the profile names one), aud (holds
// client_id; azp, when present, is client_id), exp (required), nbf, iat,
// sub (required) and, after an authorization request, nonce. Without any
// JWKS the signature is not checked: the token came straight from the
// token endpoint over TLS, which §3.1.3.7 (6) allows instead. from names
// the exchange, for messages.
func (s *Scheme) checkIDToken(ctx context.Context, st *settings, token, from string) error {
	client, err := s.httpClient(st)
	if err != nil {
		return err
	}
	o := VerifyOptions{JWKSURL: st.oidc.jwksURL, Issuer: st.oidc.issuer, Audience: st.clientID, Leeway: idTokenLeeway,
		Now: s.now, Client: client, CacheDir: jwksCacheDir()}
	var claims map[string]any
	if o.JWKSURL != "" {
		v, err := Verify(ctx, token, o)
		if err != nil {
			return idTokenError(from, err)
		}
		claims = v.Claims
	} else {
		t, err := parseJWS(token)
		if err != nil {
			return idTokenError(from, invalidf("not a JWT: %v", err))
		}
		if _, _, err := protectedParams(t.header); err != nil {
			return idTokenError(from, err)
		}
		if err := o.checkClaims(t.claims, s.now()); err != nil {
			return idTokenError(from, err)
		}
		claims = t.claims
	}
	return idTokenError(from, checkIDClaims(claims, st.clientID, st.oidc.nonce))
}

// checkIDClaims checks what Verify does not: the claims an id_token must
// have, azp, and the nonce when one was sent.
func checkIDClaims(claims map[string]any, clientID, nonce string) error {
	if claims == nil {
		return invalidf("the payload is not a JSON object")
	}
	for _, name := range []string{"iss", "sub", "aud", "exp"} {
		if _, ok := claims[name]; !ok {
			return invalidf("%s is missing", name)
		}
	}
	if azp, ok := claims["azp"]; ok {
		if err := checkString(map[string]any{"azp": azp}, "azp", clientID); err != nil {
			return err
		}
	} else if auds, ok := claims["aud"].([]any); ok && len(auds) > 1 {
		// OIDC Core §3.1.3.7: with several audiences, azp names the party
		// the token was issued to.
		return invalidf("aud names several audiences and azp is missing")
	}
	if nonce != "" {
		if err := checkString(claims, "nonce", nonce); err != nil {
			return invalidf("nonce is not the one authx sent (a replayed or injected id_token)")
		}
	}
	return nil
}

// idTokenError classifies a failed id_token check: a verification failure
// is KindTokenInvalid; a JWKS that cannot be fetched keeps its kind.
func idTokenError(from string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrInvalid):
		return core.Errorf(core.KindTokenInvalid, "%s: the id_token: %v", from, err)
	}
	return core.Prefix(from+": the id_token", err, core.KindBadAnswer)
}
