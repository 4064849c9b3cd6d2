package jwttest

import (
	"encoding/base64"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// An RFC 6749 token endpoint at /oauth/token: password (§4.3),
// client_credentials (§4.4), refresh_token (§6) and token exchange (RFC
// 8693) grants, client authentication by HTTP Basic (§2.3.1), by
// client_id/client_secret in the body, by a client assertion (RFC 7523
// §2.2: private_key_jwt, client_secret_jwt) or by a TLS client certificate
// (RFC 8705), resource indicators (RFC 8707: the token's aud), errors as
// §5.2 says. Access tokens are JWTs accepted by /api/me,
// /api/admin and Dex's /dex/userinfo.

type oauthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

type oauthAnswer struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
	IDToken      string `json:"id_token,omitempty"`
}

func writeOAuth(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	writeRaw(w, status, ctOAuthJSON, marshal(v))
}

func oauthFail(w http.ResponseWriter, status int, code, desc string) {
	writeOAuth(w, status, oauthError{code, desc})
}

func (s *Server) oauthToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		oauthFail(w, http.StatusMethodNotAllowed, "invalid_request", "The token endpoint only accepts POST")
		return
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var form url.Values
	if ct == "application/x-www-form-urlencoded" {
		if err := r.ParseForm(); err == nil {
			form = r.PostForm
		}
	}
	// Count before answering anything about the grant, so a login attempt
	// with a bad request still counts as one.
	switch form.Get("grant_type") {
	case "password", "client_credentials", "authorization_code", deviceGrantType, grantTokenExchange:
		if !s.tokenEndpoint(r, false) {
			return
		}
	case "refresh_token":
		if !s.tokenEndpoint(r, true) {
			return
		}
	}
	if ct != "application/x-www-form-urlencoded" || form == nil {
		oauthFail(w, http.StatusBadRequest, "invalid_request",
			"The request body must be application/x-www-form-urlencoded")
		return
	}
	for name, vals := range form {
		// RFC 8707 §2 and RFC 8693 §2.1: resource, and a token exchange's
		// audience, may be repeated.
		repeatable := name == "resource" || name == "audience" && form.Get("grant_type") == grantTokenExchange
		if len(vals) > 1 && !repeatable {
			oauthFail(w, http.StatusBadRequest, "invalid_request", "Parameter "+name+" is included more than once")
			return
		}
	}
	grant := form.Get("grant_type")
	if grant == "" {
		oauthFail(w, http.StatusBadRequest, "invalid_request", "Missing grant_type parameter")
		return
	}

	if s.opts.DPoP {
		jkt, ok := s.dpopTokenProof(w, r)
		if !ok {
			return
		}
		w = &dpopWriter{ResponseWriter: w, jkt: jkt}
	}
	clientID, ok := s.oauthClient(w, r, form)
	if !ok {
		return
	}
	public := s.clients[clientID] == "" && s.opts.ClientKeys[clientID] == nil && s.opts.TLSClients[clientID] == ""
	aud, ok := s.oauthAudience(w, form)
	if !ok {
		return
	}

	switch grant {
	case "password":
		username, password := form.Get("username"), form.Get("password")
		if username == "" || password == "" {
			oauthFail(w, http.StatusBadRequest, "invalid_request", "Missing username or password parameter")
			return
		}
		scope, ok := s.oauthScope(w, form.Get("scope"), s.scopes)
		if !ok {
			return
		}
		u := s.userByLogin(username)
		if u == nil || u.password != password {
			oauthFail(w, http.StatusBadRequest, "invalid_grant", "The resource owner credentials are invalid")
			return
		}
		refresh := s.oauthStoreRefresh(u.id, clientID, scope)
		s.oauthIssue(w, u.login, clientID, scope, aud, refresh)
	case "client_credentials":
		if public {
			oauthFail(w, http.StatusBadRequest, "unauthorized_client",
				"Public clients may not use the client_credentials grant")
			return
		}
		scope, ok := s.oauthScope(w, form.Get("scope"), s.scopes)
		if !ok {
			return
		}
		// §4.4.3: a refresh token SHOULD NOT be included.
		s.oauthIssue(w, clientID, clientID, scope, aud, "")
	case "refresh_token":
		old := form.Get("refresh_token")
		if old == "" {
			oauthFail(w, http.StatusBadRequest, "invalid_request", "Missing refresh_token parameter")
			return
		}
		now := s.now().Unix()
		s.mu.Lock()
		rec := s.opaque[old]
		s.mu.Unlock()
		if dw, ok := w.(*dpopWriter); ok && rec != nil && rec.jkt != dw.jkt {
			oauthFail(w, http.StatusBadRequest, "invalid_grant", "The refresh token is bound to another DPoP key")
			return
		}
		if rec == nil || rec.kind != "oauth2" || rec.clientID != clientID || now >= rec.expires {
			oauthFail(w, http.StatusBadRequest, "invalid_grant", "The refresh token is invalid, expired or revoked")
			return
		}
		scope, ok := s.oauthScope(w, form.Get("scope"), strings.Fields(rec.scope))
		if !ok {
			return
		}
		if form.Get("scope") == "" {
			scope = rec.scope
		}
		refresh := ""
		if s.opts.RotateRefresh {
			s.mu.Lock()
			_, still := s.opaque[old]
			delete(s.opaque, old)
			s.mu.Unlock()
			if !still { // lost a race with a concurrent rotation
				oauthFail(w, http.StatusBadRequest, "invalid_grant", "The refresh token is invalid, expired or revoked")
				return
			}
			refresh = s.oauthStoreRefresh(rec.userID, clientID, rec.scope)
		}
		u := s.userByID(rec.userID)
		s.oauthIssue(w, u.login, clientID, scope, aud, refresh)
	case "authorization_code":
		s.codeGrant(w, form, clientID, aud)
	case deviceGrantType:
		s.deviceGrant(w, form, clientID, aud)
	case grantTokenExchange:
		s.tokenExchange(w, form, clientID, aud)
	default:
		oauthFail(w, http.StatusBadRequest, "unsupported_grant_type",
			"The authorization grant type "+grant+" is not supported")
	}
}

// oauthClient authenticates the client (RFC 6749 §2.3). It answers and
// returns ok=false on failure.
func (s *Server) oauthClient(w http.ResponseWriter, r *http.Request, form url.Values) (string, bool) {
	basicID, basicSecret, basic, basicErr := parseBasic(r.Header.Get("Authorization"))
	bodyID, bodySecret := form.Get("client_id"), form.Get("client_secret")
	_, hasBodySecret := form["client_secret"]
	unauthorized := func(desc string) (string, bool) {
		w.Header().Set("WWW-Authenticate", `Basic realm="oauth"`)
		oauthFail(w, http.StatusUnauthorized, "invalid_client", desc)
		return "", false
	}
	if basicErr {
		return unauthorized("Malformed HTTP Basic client credentials")
	}
	if _, assertion := form["client_assertion"]; assertion || form.Has("client_assertion_type") {
		if basic || hasBodySecret {
			oauthFail(w, http.StatusBadRequest, "invalid_request",
				"The client used more than one authentication method")
			return "", false
		}
		id, err := s.verifyAssertion(form)
		if err != nil {
			return unauthorized(err.Error())
		}
		return id, true
	}
	if basic {
		if hasBodySecret || (bodyID != "" && bodyID != basicID) {
			oauthFail(w, http.StatusBadRequest, "invalid_request",
				"The client used more than one authentication method")
			return "", false
		}
		if secret, known := s.clients[basicID]; !known || secret != basicSecret {
			return unauthorized("Client authentication failed")
		}
		return basicID, true
	}
	if bodyID == "" {
		return unauthorized("Client authentication is required")
	}
	if cn, ok := s.opts.TLSClients[bodyID]; ok && !hasBodySecret {
		if !certificateFor(r, cn) {
			return unauthorized("The TLS client certificate is missing or does not match the client")
		}
		return bodyID, true
	}
	if s.opts.ClientKeys[bodyID] != nil {
		return unauthorized("This client authenticates with private_key_jwt")
	}
	if secret, known := s.clients[bodyID]; !known || secret != bodySecret {
		// Body credentials: §5.2 allows 400; no WWW-Authenticate challenge.
		oauthFail(w, http.StatusBadRequest, "invalid_client", "Client authentication failed")
		return "", false
	}
	return bodyID, true
}

// parseBasic decodes "Basic base64(urlencode(id):urlencode(secret))" (RFC 6749
// §2.3.1). basic is false when the header is not Basic at all.
func parseBasic(h string) (id, secret string, basic, malformed bool) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if !strings.EqualFold(scheme, "Basic") {
		return "", "", false, false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil {
		return "", "", true, true
	}
	encID, encSecret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", true, true
	}
	id, err1 := url.QueryUnescape(encID)
	secret, err2 := url.QueryUnescape(encSecret)
	if err1 != nil || err2 != nil {
		return "", "", true, true
	}
	return id, secret, true, false
}

// oauthScope checks a requested scope against the allowed ones; an empty
// request gets all of them (§3.3 default).
func (s *Server) oauthScope(w http.ResponseWriter, requested string, allowed []string) (string, bool) {
	if requested == "" {
		return strings.Join(allowed, " "), true
	}
	want := strings.Fields(requested)
	for _, sc := range want {
		if !slices.Contains(allowed, sc) {
			oauthFail(w, http.StatusBadRequest, "invalid_scope", "The requested scope "+sc+" is invalid, unknown or exceeds the granted scope")
			return "", false
		}
	}
	return strings.Join(want, " "), true
}

func (s *Server) oauthStoreRefresh(userID int, clientID, scope string) string {
	tok := randHex(32)
	s.mu.Lock()
	s.opaque[tok] = &refreshRecord{
		kind:     "oauth2",
		userID:   userID,
		clientID: clientID,
		scope:    scope,
		expires:  s.now().Add(s.opts.RefreshTTL).Unix(),
	}
	s.lastRefresh = tok
	s.mu.Unlock()
	return tok
}

func (s *Server) oauthIssue(w http.ResponseWriter, sub, clientID, scope string, audience any, refresh string) {
	s.oauthIssueNonce(w, sub, clientID, scope, audience, refresh, "")
}

// oauthIssueNonce answers the tokens, with an id_token carrying nonce when
// the scope holds openid.
func (s *Server) oauthIssueNonce(w http.ResponseWriter, sub, clientID, scope string, audience any, refresh, nonce string) {
	now := s.now()
	tokenType, jkt := "bearer", ""
	if dw, ok := w.(*dpopWriter); ok {
		tokenType, jkt = "DPoP", dw.jkt
		if refresh != "" {
			s.mu.Lock()
			if rec := s.opaque[refresh]; rec != nil {
				rec.jkt = jkt
			}
			s.mu.Unlock()
		}
	}
	var cnf map[string]string
	if jkt != "" {
		cnf = map[string]string{"jkt": jkt}
	}
	tok := mint(apiClaims{
		Cnf:      cnf,
		Iss:      s.base,
		Sub:      sub,
		Aud:      audience,
		ClientID: clientID,
		Scope:    scope,
		Iat:      now.Unix(),
		Exp:      now.Add(s.opts.AccessTTL).Unix(),
		Jti:      randHex(16),
	}, s.key(func(k *keyring) []byte { return k.api }))
	idToken := ""
	if hasScope(scope, "openid") {
		idToken = s.idToken(sub, clientID, nonce)
	}
	writeOAuth(w, http.StatusOK, oauthAnswer{
		AccessToken:  tok,
		TokenType:    tokenType,
		ExpiresIn:    int64(s.opts.AccessTTL.Seconds()),
		RefreshToken: refresh,
		Scope:        scope,
		IDToken:      idToken,
	})
}

// dexUserinfo is Dex's /userinfo (server/handlers.go handleUserInfo, as of
// v2.45) at /dex/userinfo, for the access tokens of /oauth/token: an
// Authorization header that does not start with "Bearer " (in any case) is
// 401 with "WWW-Authenticate: Bearer"; a token that does not verify is 403
// WITHOUT a challenge; both bodies are tokenErr's access_denied "Invalid
// bearer token.". A valid token's answer is its claims. Any method is
// served, as Dex's route is.
func (s *Server) dexUserinfo(w http.ResponseWriter, r *http.Request) {
	const prefix = "Bearer "
	auth := r.Header.Get("Authorization")
	if len(auth) < len(prefix) || !strings.EqualFold(prefix, auth[:len(prefix)]) {
		w.Header().Set("WWW-Authenticate", "Bearer")
		dexTokenErr(w, http.StatusUnauthorized, "access_denied", "Invalid bearer token.")
		return
	}
	claims, err := s.parseStd(auth[len(prefix):], s.key(func(k *keyring) []byte { return k.api }), true)
	if err != nil {
		dexTokenErr(w, http.StatusForbidden, "access_denied", "Invalid bearer token.")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(marshal(claims))
}

// dexTokenErr is Dex's tokenErr (server/oauth2.go): an RFC 6749 §5.2 body
// whose error_description is omitted when empty, with Content-Length.
func dexTokenErr(w http.ResponseWriter, status int, typ, description string) {
	body := marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{typ, description})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
