package jwttest

import (
	"net/http"
	"net/url"
	"strings"
)

// RFC 8693 names.
const (
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeAccess    = "urn:ietf:params:oauth:token-type:access_token"
	tokenTypeJWT       = "urn:ietf:params:oauth:token-type:jwt"
)

// exchangeAnswer is a token exchange answer (RFC 8693 §2.2.1).
type exchangeAnswer struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
	Scope           string `json:"scope"`
}

// exchangeClaims are an exchanged token's claims: the subject token's
// subject, the client that asked, and the actor (§4.1) when one acts.
type exchangeClaims struct {
	Iss      string            `json:"iss"`
	Sub      string            `json:"sub"`
	Aud      any               `json:"aud,omitempty"`
	ClientID string            `json:"client_id"`
	Scope    string            `json:"scope"`
	Act      map[string]string `json:"act,omitempty"`
	Iat      int64             `json:"iat"`
	Exp      int64             `json:"exp"`
	Jti      string            `json:"jti"`
}

// tokenExchange serves the token exchange grant (RFC 8693 §2): the subject
// token (and the actor token, when given) must be access tokens this server
// issued and that are still valid; the new token keeps the subject's sub,
// takes aud from resource or audience, and names the actor in act. Only
// access tokens and JWTs are issued (requested_token_type).
func (s *Server) tokenExchange(w http.ResponseWriter, form url.Values, clientID string, aud any) {
	subject, subjectType := form.Get("subject_token"), form.Get("subject_token_type")
	if subject == "" || subjectType == "" {
		oauthFail(w, http.StatusBadRequest, "invalid_request", "Missing subject_token or subject_token_type parameter")
		return
	}
	if subjectType != tokenTypeAccess && subjectType != tokenTypeJWT {
		oauthFail(w, http.StatusBadRequest, "invalid_request", "Unsupported subject_token_type "+subjectType)
		return
	}
	key := s.key(func(k *keyring) []byte { return k.api })
	claims, err := s.parseStd(subject, key, true)
	if err != nil {
		oauthFail(w, http.StatusBadRequest, "invalid_grant", "The subject token is invalid or expired")
		return
	}
	var act map[string]string
	if actor := form.Get("actor_token"); actor != "" || form.Has("actor_token_type") {
		if form.Get("actor_token_type") == "" || actor == "" {
			oauthFail(w, http.StatusBadRequest, "invalid_request", "actor_token and actor_token_type go together")
			return
		}
		ac, err := s.parseStd(actor, key, true)
		if err != nil {
			oauthFail(w, http.StatusBadRequest, "invalid_grant", "The actor token is invalid or expired")
			return
		}
		act = map[string]string{"sub": claimString(ac, "sub")}
	}
	issued := form.Get("requested_token_type")
	if issued == "" {
		issued = tokenTypeAccess
	}
	if issued != tokenTypeAccess && issued != tokenTypeJWT {
		oauthFail(w, http.StatusBadRequest, "invalid_request", "Unsupported requested_token_type "+issued)
		return
	}
	scope, ok := s.oauthScope(w, form.Get("scope"), strings.Fields(claimString(claims, "scope")))
	if !ok {
		return
	}
	now := s.now()
	tok := mint(exchangeClaims{
		Iss: s.base, Sub: claimString(claims, "sub"), Aud: aud, ClientID: clientID, Scope: scope, Act: act,
		Iat: now.Unix(), Exp: now.Add(s.opts.AccessTTL).Unix(), Jti: randHex(16),
	}, key)
	tokenType := "Bearer"
	if issued != tokenTypeAccess {
		tokenType = "N_A"
	}
	writeOAuth(w, http.StatusOK, exchangeAnswer{tok, issued, tokenType, int64(s.opts.AccessTTL.Seconds()), scope})
}

// oauthAudience is the aud of the token a request asks for: its resource
// indicators (RFC 8707 §2: absolute URIs without a fragment; like
// oidc-provider, audience is then ignored), else its audience; nil for
// none, a string for one, an array for several.
func (s *Server) oauthAudience(w http.ResponseWriter, form url.Values) (any, bool) {
	vals := form["resource"]
	for _, r := range vals {
		if u, err := url.Parse(r); err != nil || !u.IsAbs() || strings.Contains(r, "#") {
			oauthFail(w, http.StatusBadRequest, "invalid_target", "The resource indicator "+r+" is not an absolute URI without a fragment")
			return nil, false
		}
	}
	if len(vals) == 0 {
		vals = form["audience"]
	}
	switch len(vals) {
	case 0:
		return nil, true
	case 1:
		return vals[0], true
	}
	return vals, true
}
