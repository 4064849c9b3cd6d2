package jwttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// An OpenID Provider on top of the RFC 6749 token endpoint, as panva's
// oidc-provider behaves with a native (public or confidential) client:
//
//   - metadata at /.well-known/openid-configuration (OIDC Discovery) and
//     /.well-known/oauth-authorization-server (RFC 8414), issuer = URL;
//   - GET /oauth/authorize (RFC 6749 §4.1, PKCE S256 required, RFC 7636),
//     redirecting to a loopback redirect URI of any port (RFC 8252 §7.3)
//     with code, state and iss (RFC 9207); the "user" signs in at once as
//     Options.Authorize decides;
//   - grant_type authorization_code and the device grant at /oauth/token;
//     a refresh token only for offline_access, and in the code flow only
//     with prompt=consent (OIDC Core §11, as oidc-provider does);
//   - POST /oauth/device_authorization and the verification page /device
//     (RFC 8628), which approves or denies as Options.Authorize decides;
//   - ES256 id_tokens (iss, sub, aud, exp, iat, auth_time, nonce, azp) whose
//     key is at /oauth/jwks;
//   - POST /oauth/revoke (RFC 7009): 200 with an empty body, whatever the
//     token.

// oidcScopes are granted besides Options.Scopes in the OIDC flows.
var oidcScopes = []string{"openid", "offline_access", "profile", "email"}

// oidcState is the provider's own state.
type oidcState struct {
	key     *ecdsa.PrivateKey
	kid     string
	mu      sync.Mutex
	codes   map[string]*authCode
	devices map[string]*deviceRecord // by device_code
	revoked map[string]bool
}

// authCode is an issued authorization code (single use, 60 s).
type authCode struct {
	clientID, redirectURI, challenge string
	scope, nonce                     string
	userID                           int
	offline                          bool
	expires                          time.Time
}

// deviceRecord is a device authorization in progress.
type deviceRecord struct {
	clientID, scope, userCode string
	expires                   time.Time
	status                    string // pending, approved, denied
	userID                    int
	interval                  time.Duration // required between polls; 0: not enforced
	lastPoll                  time.Time
	slowDowns                 int // forced slow_down answers left
}

func (o *oidcState) init() {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic("jwttest: " + err.Error())
	}
	o.key, o.kid = key, randHex(8)
	o.codes = map[string]*authCode{}
	o.devices = map[string]*deviceRecord{}
	o.revoked = map[string]bool{}
}

// Revoked reports whether token was sent to the revocation endpoint.
func (s *Server) Revoked(token string) bool {
	s.oidc.mu.Lock()
	defer s.oidc.mu.Unlock()
	return s.oidc.revoked[token]
}

// routeOIDC serves the provider's paths; it reports false for others.
func (s *Server) routeOIDC(w http.ResponseWriter, r *http.Request) bool {
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		if s.opts.NoOIDCDiscovery {
			s.notFound(w, r)
			return true
		}
		s.discovery(w)
	case "/.well-known/oauth-authorization-server":
		s.discovery(w)
	case "/oauth/authorize":
		s.authorize(w, r)
	case "/oauth/device_authorization":
		s.deviceAuthorization(w, r)
	case "/device":
		s.devicePage(w, r)
	case "/oauth/jwks":
		s.jwks(w)
	case "/oauth/revoke":
		s.revoke(w, r)
	default:
		return false
	}
	return true
}

// discovery answers the provider metadata.
func (s *Server) discovery(w http.ResponseWriter) {
	iss := s.base
	if s.opts.DiscoveryIssuer != "" {
		iss = s.opts.DiscoveryIssuer
	}
	doc := map[string]any{
		"issuer":                                         iss,
		"authorization_endpoint":                         s.base + "/oauth/authorize",
		"token_endpoint":                                 s.base + "/oauth/token",
		"device_authorization_endpoint":                  s.base + "/oauth/device_authorization",
		"jwks_uri":                                       s.base + "/oauth/jwks",
		"revocation_endpoint":                            s.base + "/oauth/revoke",
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"grant_types_supported":                          []string{"authorization_code", "refresh_token", "client_credentials", "password", deviceGrantType},
		"code_challenge_methods_supported":               []string{"S256"},
		"scopes_supported":                               append(slices.Clone(oidcScopes), s.scopes...),
		"subject_types_supported":                        []string{"public"},
		"id_token_signing_alg_values_supported":          []string{"ES256"},
		"token_endpoint_auth_methods_supported":          []string{"client_secret_basic", "client_secret_post", "none"},
		"authorization_response_iss_parameter_supported": true,
	}
	if s.opts.DiscoveryCacheControl != "" {
		w.Header().Set("Cache-Control", s.opts.DiscoveryCacheControl)
	}
	writeJSON(w, http.StatusOK, doc)
}

// jwks publishes the id_token key.
func (s *Server) jwks(w http.ResponseWriter) {
	pub := s.oidc.key.PublicKey
	b, _ := pub.Bytes() // 0x04 || X || Y
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": s.oidc.kid,
		"x": b64url(b[1:33]), "y": b64url(b[33:65]),
	}}})
}

// idTokenClaims are an id_token's claims, in order.
type idTokenClaims struct {
	Iss      string `json:"iss"`
	Sub      string `json:"sub"`
	Aud      string `json:"aud"`
	Exp      int64  `json:"exp"`
	Iat      int64  `json:"iat"`
	AuthTime int64  `json:"auth_time"`
	Nonce    string `json:"nonce,omitempty"`
	Azp      string `json:"azp"`
}

// idToken mints an ES256 id_token for sub, to clientID, with nonce.
func (s *Server) idToken(sub, clientID, nonce string) string {
	now := s.now()
	if s.opts.BadNonce && nonce != "" {
		nonce = "not-" + nonce
	}
	header := marshal(map[string]string{"alg": "ES256", "typ": "JWT", "kid": s.oidc.kid})
	payload := marshal(idTokenClaims{Iss: s.base, Sub: sub, Aud: clientID, Exp: now.Add(s.opts.AccessTTL).Unix(), Iat: now.Unix(),
		AuthTime: now.Unix(), Nonce: nonce, Azp: clientID})
	signing := b64url(header) + "." + b64url(payload)
	sig, err := jwt.SigningMethodES256.Sign(signing, s.oidc.key)
	if err != nil {
		panic("jwttest: ES256 sign: " + err.Error())
	}
	return signing + "." + b64url(sig)
}

// authorize is the authorization endpoint. Errors about the client or the
// redirect URI are a page (§4.1.2.1: never redirect to an unchecked URI);
// the others go back to the redirect URI with state and iss.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		errorPage(w, http.StatusMethodNotAllowed, "invalid_request", "only GET is supported")
		return
	}
	q := r.URL.Query()
	for name, vals := range q {
		if len(vals) > 1 {
			errorPage(w, http.StatusBadRequest, "invalid_request", "parameter "+name+" is included more than once")
			return
		}
	}
	clientID, redirectURI := q.Get("client_id"), q.Get("redirect_uri")
	if !s.knownClient(clientID) {
		errorPage(w, http.StatusBadRequest, "invalid_client", "unknown client_id")
		return
	}
	if !s.loopbackRedirect(redirectURI) {
		errorPage(w, http.StatusBadRequest, "invalid_redirect_uri", "redirect_uri did not match any of the client's registered redirect_uris")
		return
	}
	back := func(params url.Values) {
		u, _ := url.Parse(redirectURI)
		if st := q.Get("state"); st != "" {
			params.Set("state", st)
		}
		params.Set("iss", s.base)
		u.RawQuery = params.Encode()
		http.Redirect(w, r, u.String(), http.StatusSeeOther)
	}
	fail := func(code, desc string) { back(url.Values{"error": {code}, "error_description": {desc}}) }
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "unsupported response_type requested")
		return
	case challenge == "":
		fail("invalid_request", "Authorization Server policy requires PKCE to be used for this request")
		return
	case method != "S256":
		fail("invalid_request", "not supported value of code_challenge_method")
		return
	case !pkceValue.MatchString(challenge) || len(challenge) != 43:
		fail("invalid_request", "code_challenge must be a string with a minimum length of 43 characters")
		return
	}
	scope, ok := s.grantableScope(q.Get("scope"))
	if !ok {
		fail("invalid_scope", "requested scope is not allowed")
		return
	}
	prompts := strings.Fields(q.Get("prompt"))
	if slices.Contains(prompts, "none") {
		fail("login_required", "End-User authentication is required")
		return
	}
	u, errCode := s.decide(q)
	if errCode != "" {
		fail(errCode, "End-User aborted interaction")
		return
	}
	code := randHex(32)
	s.oidc.mu.Lock()
	s.oidc.codes[code] = &authCode{clientID: clientID, redirectURI: redirectURI, challenge: challenge, scope: scope, nonce: q.Get("nonce"),
		userID: u.id, offline: hasScope(scope, "offline_access") && slices.Contains(prompts, "consent"), expires: s.now().Add(time.Minute)}
	s.oidc.mu.Unlock()
	back(url.Values{"code": {code}})
}

// pkceValue is the alphabet of a code verifier or challenge (RFC 7636 §4.1).
var pkceValue = regexp.MustCompile(`^[A-Za-z0-9\-._~]{43,128}$`)

// loopbackRedirect accepts http://127.0.0.1:PORT/PATH (any port, the
// registered path: RFC 8252 §7.3); localhost is another URI.
func (s *Server) loopbackRedirect(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Fragment != "" || u.User != nil {
		return false
	}
	host, port, err := net.SplitHostPort(u.Host)
	path := s.opts.RedirectPath
	if path == "" {
		path = "/callback"
	}
	return err == nil && host == "127.0.0.1" && port != "" && u.Path == path
}

// grantableScope checks a requested scope against Options.Scopes and the
// OIDC scopes.
func (s *Server) grantableScope(requested string) (string, bool) {
	want := strings.Fields(requested)
	for _, sc := range want {
		if !slices.Contains(s.scopes, sc) && !slices.Contains(oidcScopes, sc) {
			return "", false
		}
	}
	return strings.Join(want, " "), true
}

// decide is the user's sign-in: Options.Authorize, else the first user.
func (s *Server) decide(q url.Values) (*user, string) {
	if s.opts.Authorize == nil {
		return s.users[0], ""
	}
	login, errCode := s.opts.Authorize(q)
	if errCode != "" {
		return nil, errCode
	}
	if u := s.userByLogin(login); u != nil {
		return u, ""
	}
	return nil, "access_denied"
}

// errorPage is the provider's HTML error page.
func errorPage(w http.ResponseWriter, status int, code, desc string) {
	writeRaw(w, status, ctHTML, []byte(fmt.Sprintf("<!DOCTYPE html><html><head><title>oops! something went wrong</title></head><body><h1>oops! something went wrong</h1><pre>error: %s\nerror_description: %s</pre></body></html>",
		html.EscapeString(code), html.EscapeString(desc))))
}

// codeGrant is grant_type=authorization_code at the token endpoint (RFC
// 6749 §4.1.3, RFC 7636 §4.6): the code is single-use and bound to the
// client, the redirect URI and the challenge. aud is the access token's
// (the request's resource indicators).
func (s *Server) codeGrant(w http.ResponseWriter, form url.Values, clientID string, aud any) {
	code, verifier := form.Get("code"), form.Get("code_verifier")
	s.oidc.mu.Lock()
	rec := s.oidc.codes[code]
	delete(s.oidc.codes, code)
	s.oidc.mu.Unlock()
	sum := sha256.Sum256([]byte(verifier))
	switch {
	case code == "":
		oauthFail(w, http.StatusBadRequest, "invalid_request", "missing required parameter 'code'")
	case rec == nil || !s.now().Before(rec.expires) || rec.clientID != clientID:
		oauthFail(w, http.StatusBadRequest, "invalid_grant", "grant request is invalid")
	case form.Get("redirect_uri") != rec.redirectURI:
		oauthFail(w, http.StatusBadRequest, "invalid_grant", "grant request is invalid (redirect_uri mismatch)")
	case !pkceValue.MatchString(verifier) || base64.RawURLEncoding.EncodeToString(sum[:]) != rec.challenge:
		oauthFail(w, http.StatusBadRequest, "invalid_grant", "grant request is invalid (PKCE verification failed)")
	default:
		u := s.userByID(rec.userID)
		refresh := ""
		if rec.offline {
			refresh = s.oauthStoreRefresh(u.id, clientID, rec.scope)
		}
		s.oauthIssueNonce(w, u.login, clientID, rec.scope, aud, refresh, rec.nonce)
	}
}

// deviceGrantType is the device flow's grant_type (RFC 8628 §3.4).
const deviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

// deviceAuthorization is the device authorization endpoint (RFC 8628
// §3.1, §3.2). oidc-provider sends no interval unless configured.
func (s *Server) deviceAuthorization(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		oauthFail(w, http.StatusMethodNotAllowed, "invalid_request", "only POST is supported")
		return
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" || r.ParseForm() != nil {
		oauthFail(w, http.StatusBadRequest, "invalid_request", "only application/x-www-form-urlencoded content-type bodies are supported")
		return
	}
	clientID, ok := s.oauthClient(w, r, r.PostForm)
	if !ok {
		return
	}
	scope, ok := s.grantableScope(r.PostForm.Get("scope"))
	if !ok {
		oauthFail(w, http.StatusBadRequest, "invalid_scope", "requested scope is not allowed")
		return
	}
	deviceCode, userCode := randHex(32), userCode()
	rec := &deviceRecord{clientID: clientID, scope: scope, userCode: userCode, expires: s.now().Add(10 * time.Minute),
		status: "pending", interval: s.opts.DeviceInterval, slowDowns: s.opts.SlowDown}
	s.oidc.mu.Lock()
	s.oidc.devices[deviceCode] = rec
	s.oidc.mu.Unlock()
	answer := map[string]any{
		"device_code":               deviceCode,
		"user_code":                 userCode,
		"verification_uri":          s.base + "/device",
		"verification_uri_complete": s.base + "/device?user_code=" + url.QueryEscape(userCode),
		"expires_in":                600,
	}
	if s.opts.DeviceInterval > 0 {
		answer["interval"] = int(s.opts.DeviceInterval.Seconds())
	}
	writeOAuth(w, http.StatusOK, answer)
}

// userCode is eight letters without vowels, as RFC 8628 §6.1 suggests:
// BDFG-HJKL.
func userCode() string {
	const alphabet = "BCDFGHJKLMNPQRSTVWXZ"
	b := randBytes(8)
	out := make([]byte, 0, 9)
	for i, c := range b {
		if i == 4 {
			out = append(out, '-')
		}
		out = append(out, alphabet[int(c)%len(alphabet)])
	}
	return string(out)
}

// devicePage is the verification page: with a user_code (query or form)
// the user signs in and approves or denies, as Options.Authorize decides.
func (s *Server) devicePage(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	code := r.Form.Get("user_code")
	if code == "" {
		writeRaw(w, http.StatusOK, ctHTML, []byte(`<!DOCTYPE html><html><head><title>Sign-in</title></head><body><form method="post"><input name="user_code"><button>Continue</button></form></body></html>`))
		return
	}
	s.oidc.mu.Lock()
	var rec *deviceRecord
	for _, d := range s.oidc.devices {
		if d.userCode == code && d.status == "pending" {
			rec = d
		}
	}
	s.oidc.mu.Unlock()
	if rec == nil {
		errorPage(w, http.StatusBadRequest, "invalid_request", "the code was not found or was already used")
		return
	}
	u, errCode := s.decide(r.Form)
	s.oidc.mu.Lock()
	if errCode != "" {
		rec.status = "denied"
	} else {
		rec.status, rec.userID = "approved", u.id
	}
	s.oidc.mu.Unlock()
	writeRaw(w, http.StatusOK, ctHTML, []byte(`<!DOCTYPE html><html><head><title>Sign-in Success</title></head><body><p>Your sign-in was `+rec.statusWord()+`.</p></body></html>`))
}

func (d *deviceRecord) statusWord() string {
	if d.status == "approved" {
		return "successful"
	}
	return "aborted"
}

// deviceGrant is the device grant at the token endpoint (RFC 8628 §3.4,
// §3.5): authorization_pending until approved; slow_down when polled
// sooner than the interval (which then grows by 5 s) or while
// Options.SlowDown lasts; expired_token, access_denied; the tokens once,
// with a refresh token for offline_access.
func (s *Server) deviceGrant(w http.ResponseWriter, form url.Values, clientID string, aud any) {
	dc := form.Get("device_code")
	now := s.now()
	s.oidc.mu.Lock()
	rec := s.oidc.devices[dc]
	if rec == nil || rec.clientID != clientID {
		s.oidc.mu.Unlock()
		oauthFail(w, http.StatusBadRequest, "invalid_grant", "grant request is invalid")
		return
	}
	tooSoon := rec.interval > 0 && !rec.lastPoll.IsZero() && now.Sub(rec.lastPoll) < rec.interval
	rec.lastPoll = now
	code := ""
	switch {
	case !now.Before(rec.expires):
		delete(s.oidc.devices, dc)
		code = "expired_token"
	case tooSoon || rec.slowDowns > 0:
		if rec.slowDowns > 0 {
			rec.slowDowns--
		}
		rec.interval = max(rec.interval, 5*time.Second) + 5*time.Second
		code = "slow_down"
	case rec.status == "pending":
		code = "authorization_pending"
	case rec.status == "denied":
		delete(s.oidc.devices, dc)
		code = "access_denied"
	default:
		delete(s.oidc.devices, dc)
	}
	s.oidc.mu.Unlock()
	if code != "" {
		oauthFail(w, http.StatusBadRequest, code, deviceMessages[code])
		return
	}
	u := s.userByID(rec.userID)
	refresh := ""
	if hasScope(rec.scope, "offline_access") {
		refresh = s.oauthStoreRefresh(u.id, clientID, rec.scope)
	}
	s.oauthIssueNonce(w, u.login, clientID, rec.scope, aud, refresh, "")
}

var deviceMessages = map[string]string{
	"expired_token":         "device code is expired",
	"slow_down":             "you are polling too quickly and should back off",
	"authorization_pending": "End-User authorization is pending",
	"access_denied":         "End-User aborted interaction",
}

// revoke is the revocation endpoint (RFC 7009 §2): the client
// authenticates; any token, known or not, is answered 200 with no body; a
// refresh token of the client is forgotten.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.Method != http.MethodPost || ct != "application/x-www-form-urlencoded" || r.ParseForm() != nil {
		oauthFail(w, http.StatusBadRequest, "invalid_request", "only POST with application/x-www-form-urlencoded bodies is supported")
		return
	}
	clientID, ok := s.oauthClient(w, r, r.PostForm)
	if !ok {
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		oauthFail(w, http.StatusBadRequest, "invalid_request", "missing required parameter 'token'")
		return
	}
	s.mu.Lock()
	if rec := s.opaque[tok]; rec != nil && rec.clientID == clientID {
		delete(s.opaque, tok)
	}
	s.mu.Unlock()
	s.oidc.mu.Lock()
	s.oidc.revoked[tok] = true
	s.oidc.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}
