package jwt

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"github.com/authx/authx/core/urlscope"
	"net/http"
	"net/url"
	"strings"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/httpauth"
	"github.com/authx/authx/core/redact"
)

// HandleChallenge implements core.ChallengeHandler (RFC 6750 §3): a 401
// with error="invalid_token", or a 401 that says nothing, renews the token
// (refresh, else a new login) for one retry; so does a refusal whose body
// is one of tokenRefusals (servers that answer 403 to a dead token, without
// a challenge: WordPress, Dex). 403 insufficient_scope and every other 403
// is a missing permission (KindForbidden); other refusals are a diagnosis.
// A refusal at a URL outside the credential's scope is a diagnosis too: no
// token was sent there, so a new one would change nothing. A static token
// cannot be renewed: the diagnosis says to replace it, unless the profile
// already holds another one (it was rotated), which is then used. The
// diagnosis quotes the server, scrubbed of the credential's token and
// refresh token. A refusal of the request retried with a renewed token
// (ChallengeRequest.Retried) is a diagnosis that says so.
func (s *Scheme) HandleChallenge(_ context.Context, req core.ChallengeRequest) (core.ChallengeResponse, error) {
	if res, ok := dpopChallenge(req); ok {
		return res, nil
	}
	res, forbidden := challengeDecision(req)
	if req.Retried && !forbidden && res.Decision != core.DecisionFail {
		// The renewed token was refused too (protocol minor 4): the host
		// will not retry again and reports this diagnosis.
		res = core.ChallengeResponse{Decision: core.DecisionFail, Diagnosis: fmt.Sprintf("the server refused %s %s again (HTTP %d) after the token was renewed: %s",
			safeText(req.Request.Method, 16), safeText(redact.RawURL(req.Request.URL), 200), req.Response.Status, res.Diagnosis)}
	}
	// A server's words may not be UTF-8 (an error code of a challenge).
	res.Diagnosis = strings.ToValidUTF8(redact.Secrets(res.Diagnosis, credSecrets(req.Credential)...), "\uFFFD")
	if forbidden { // the token is fine; the user may not do this (exit 14)
		return core.ChallengeResponse{}, core.Errorf(core.KindForbidden, "%s", res.Diagnosis)
	}
	return res, nil
}

// credSecrets are the secrets a credential holds: its token and refresh
// token.
func credSecrets(c *core.Credential) []string {
	if c == nil {
		return nil
	}
	return []string{c.Token, stateOf(c).RefreshToken}
}

// challengeDecision is HandleChallenge before scrubbing. forbidden says
// that the server accepted the token but refuses the user this request (a
// 403 insufficient_scope, or a 403 that asks for nothing else).
func challengeDecision(req core.ChallengeRequest) (res core.ChallengeResponse, forbidden bool) {
	status, target := req.Response.Status, req.Request.Method+" "+redact.RawURL(req.Request.URL)
	fail := func(format string, args ...any) core.ChallengeResponse {
		return core.ChallengeResponse{Decision: core.DecisionFail, Diagnosis: fmt.Sprintf(format, args...)}
	}
	if scope := outOfScope(req); scope != "" {
		return fail("%s answered HTTP %d outside the credential's scope (%s), which is narrower than the profile's match: no token was sent there, so logging in again would not help",
			target, status, scope), false
	}
	static := req.Config.String("mode", modeLogin) == modeStatic
	if static && req.Credential != nil && req.Credential.Token != strings.TrimSpace(req.Config.String("token", "")) {
		// The token was replaced since the credential was cached: take the new one.
		return core.ChallengeResponse{Decision: core.DecisionLogin, ReplaySafe: status == http.StatusUnauthorized,
			Diagnosis: "the static token changed since it was cached"}, false
	}
	challenges := httpauth.ParseHeader(req.Response.Header, "WWW-Authenticate")
	bearer, isBearer := httpauth.Find(challenges, "Bearer")
	if dpop, ok := httpauth.Find(challenges, dpopScheme); ok && (!isBearer || dpop.Params["error"] != "") {
		// RFC 9449 §7.1: a DPoP-bound token's refusal is a DPoP challenge,
		// with RFC 6750's error codes; a server may offer both schemes.
		bearer, isBearer = dpop, true
	}
	secrets := credSecrets(req.Credential)
	code, desc := bearer.Params["error"], oneLine(redact.Secrets(bearer.Params["error_description"], secrets...), 300)
	said := serverMessage(req.Response.BodyPrefix, secrets...) // what the body says, if anything
	switch {
	case code == "insufficient_scope":
		need := ""
		if sc := bearer.Params["scope"]; sc != "" {
			need = fmt.Sprintf(" (it requires scope %s)", printable(sc))
		}
		return fail("the token lacks the scope for %s%s: insufficient_scope, HTTP %d", target, need, status), true
	case code == "invalid_dpop_proof":
		return fail("the server refused the DPoP proof of %s (invalid_dpop_proof%s); is this machine's clock right?", target, detail(desc)), false
	case code == "invalid_request":
		return fail("the server calls the request malformed (invalid_request%s)", detail(desc)), false
	case code == "invalid_token" && (status == http.StatusUnauthorized || status == http.StatusForbidden),
		status == http.StatusUnauthorized && (isBearer || len(challenges) == 0):
		if desc == "" && code == "" {
			desc = said
		}
		if static {
			return fail("the server rejected the static token (HTTP %d%s); replace it", status, detail(code, desc)), false
		}
		// A 401 means the server did not act on the request: a POST may be
		// sent again with the renewed token.
		return core.ChallengeResponse{Decision: core.DecisionRefresh, ReplaySafe: true, Diagnosis: "the token was rejected" + detail(code, desc)}, false
	case status == http.StatusUnauthorized:
		return fail("the server wants %s authentication, not a bearer token (HTTP 401)", challenges[0].Scheme), false
	case status == http.StatusForbidden && !isBearer:
		if r, ok := refusalOf(req.Response.BodyPrefix); ok {
			if static {
				return fail("%s rejected the static token: %s; replace it", r.server, said), false
			}
			// These servers check the token before they route the request.
			return core.ChallengeResponse{Decision: r.decision, ReplaySafe: true, Diagnosis: r.server + " rejected the token: " + said}, false
		}
	}
	if said == "" {
		said = http.StatusText(status)
	}
	return fail("forbidden: %s answered HTTP %d: %s", target, status, said), status == http.StatusForbidden
}

// tokenRefusal is an error answer that means "this token is dead" although
// it carries no RFC 6750 challenge: the server's own error code, in the
// "error" (OAuth2 style) or "code" (WordPress, Django REST framework) member
// of a JSON body.
type tokenRefusal struct {
	server string // who answers this way, for the diagnosis
	code   string
	// descs, when set, are the beginnings one of which the message
	// (error_description, message or detail) must have: the code alone is
	// also used for missing permissions.
	descs []string
	// decision renews the token: DecisionLogin where the server has no
	// refresh, DecisionRefresh (refresh, else log in) elsewhere.
	decision core.Decision
}

// tokenRefusals lists the refusals without a challenge that renew the
// token. Any other 403 is a missing permission: renewing would only log in
// again and be refused again.
var tokenRefusals = []tokenRefusal{
	// WordPress "JWT Authentication for WP REST API" (Tmeister) 1.3.4: 403
	// on every REST route to a token php-jwt refuses (Expired token,
	// Signature verification failed after a key change, ...); usefulteam's
	// jwt-auth answers the same code with 401.
	{"WordPress", "jwt_auth_invalid_token", nil, core.DecisionLogin},
	// Tmeister: the token's iss is not the site's URL (the site moved, http
	// became https): a new token carries the current one.
	{"WordPress", "jwt_auth_bad_iss", nil, core.DecisionLogin},
	// Dex /userinfo: 403 access_denied without WWW-Authenticate. v2.45 says
	// "Invalid bearer token."; older versions quote go-oidc's error.
	{"Dex", "access_denied", []string{"Invalid bearer token", "oidc:", "failed to verify signature"}, core.DecisionRefresh},
	// Django REST framework SimpleJWT, when the first authentication class
	// sends no challenge (SessionAuthentication): 403 instead of 401.
	{"Django REST framework", "token_not_valid", nil, core.DecisionRefresh},
}

// refusalOf finds the tokenRefusals entry an error body matches.
func refusalOf(body []byte) (tokenRefusal, bool) {
	var doc struct {
		Error            any    `json:"error"`
		Code             any    `json:"code"`
		ErrorDescription string `json:"error_description"`
		Message          string `json:"message"`
		Detail           string `json:"detail"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return tokenRefusal{}, false
	}
	code, _ := doc.Error.(string)
	if code == "" {
		code, _ = doc.Code.(string)
	}
	msg := cmp.Or(doc.ErrorDescription, doc.Message, doc.Detail)
	for _, r := range tokenRefusals {
		if code != r.code {
			continue
		}
		if len(r.descs) == 0 {
			return r, true
		}
		for _, d := range r.descs {
			if strings.HasPrefix(msg, d) {
				return r, true
			}
		}
	}
	return tokenRefusal{}, false
}

// outOfScope returns the credential's scope, for a message, when the
// request's URL lies outside it, and "" otherwise. The host applies a
// credential only within its scope (urlscope.InScope, used here too), so a
// refusal there was not the token's.
func outOfScope(req core.ChallengeRequest) string {
	c := req.Credential
	if c == nil || len(c.Scope) == 0 {
		return ""
	}
	u, err := url.Parse(req.Request.URL)
	if err != nil || u.Host == "" || urlscope.InScope(u, c.Scope) {
		return ""
	}
	shown := make([]string, 0, len(c.Scope))
	for _, p := range c.Scope {
		if pu, err := url.Parse(p); err == nil {
			pu.User = nil // the scope's query (?rest_route=) is part of it; user info never
			shown = append(shown, pu.String())
		}
	}
	return strings.Join(shown, ", ")
}
