package jwttest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// The generic API is a typical Express/Nest login service: JSON errors in
// Nest's {"statusCode","message","error"} shape, opaque refresh tokens, JWT
// access tokens, and resource routes that challenge as RFC 6750 §3 says.

type nestError struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
	Error      string `json:"error,omitempty"`
}

type genericTokens struct {
	Token        string `json:"token"`
	RefreshToken string `json:"refreshToken"`
	ExpiresIn    int64  `json:"expiresIn"`
}

type genericUser struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

type genericLoginAnswer struct {
	Data genericTokens `json:"data"`
	User genericUser   `json:"user"`
}

// apiClaims are the claims of generic-API and OAuth2 access tokens, in order.
type apiClaims struct {
	Iss      string `json:"iss"`
	Sub      string `json:"sub"`
	Aud      any    `json:"aud,omitempty"` // a string, or several (RFC 8707 resources)
	Name     string `json:"name,omitempty"`
	ClientID string `json:"client_id,omitempty"`
	Scope    string `json:"scope"`
	Iat      int64  `json:"iat"`
	Exp      int64  `json:"exp"`
	Jti      string `json:"jti"`
	// Cnf binds the token to a DPoP key (RFC 9449 §6.1): {"jkt": ...}.
	Cnf map[string]string `json:"cnf,omitempty"`
}

type refreshRecord struct {
	jkt      string // the DPoP key's thumbprint it is bound to, if any
	kind     string // "generic" or "oauth2"
	userID   int    // 0 for client_credentials (never stored) or unknown
	clientID string
	scope    string
	expires  int64 // unix seconds
}

// bodyParams reads a request body the way Express's body-parser does: JSON
// only with a JSON content type, form fields only with a form content type.
// It returns ok=false for malformed JSON.
func bodyParams(r *http.Request) (params map[string]any, ok bool) {
	params = map[string]any{}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case ct == "application/json" || strings.HasSuffix(ct, "+json"):
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
		var v any
		if err := dec.Decode(&v); err != nil {
			if errors.Is(err, io.EOF) {
				return params, true
			}
			return params, false
		}
		if m, isObj := v.(map[string]any); isObj {
			return m, true
		}
		return params, true
	case ct == "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return params, false
		}
		for k, v := range r.PostForm {
			params[k] = v[0]
		}
	case ct == "multipart/form-data":
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return params, false
		}
		for k, v := range r.MultipartForm.Value {
			params[k] = v[0]
		}
	}
	return params, true
}

func str(params map[string]any, name string) string {
	v, _ := params[name].(string)
	return v
}

func (s *Server) genericLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.notFound(w, r)
		return
	}
	if !s.tokenEndpoint(r, false) {
		return
	}
	params, ok := bodyParams(r)
	if !ok {
		writeJSON(w, http.StatusBadRequest, nestError{400, "Invalid JSON body", "Bad Request"})
		return
	}
	name, pw := str(params, "username"), str(params, "password")
	if name == "" || pw == "" {
		writeJSON(w, http.StatusBadRequest, nestError{400, "username and password are required", "Bad Request"})
		return
	}
	u := s.userByLogin(name)
	if u == nil {
		u = s.userByEmail(name)
	}
	if u == nil || u.password != pw {
		writeJSON(w, http.StatusUnauthorized, nestError{401, "Invalid username or password", "Unauthorized"})
		return
	}
	refresh := "rt_" + randHex(24)
	s.mu.Lock()
	s.opaque[refresh] = &refreshRecord{
		kind:    "generic",
		userID:  u.id,
		scope:   "read",
		expires: unix(s.now().Add(s.opts.RefreshTTL)),
	}
	s.lastRefresh = refresh
	s.mu.Unlock()
	s.writeGenericTokens(w, u, refresh)
}

func (s *Server) writeGenericTokens(w http.ResponseWriter, u *user, refresh string) {
	now := s.now()
	tok := mint(apiClaims{
		Iss:   s.base,
		Sub:   u.login,
		Name:  u.login,
		Scope: "read",
		Iat:   unix(now),
		Exp:   unix(now.Add(s.opts.AccessTTL)),
		Jti:   randHex(16),
	}, s.key(func(k *keyring) []byte { return k.api }))
	writeJSON(w, http.StatusOK, genericLoginAnswer{
		Data: genericTokens{Token: tok, RefreshToken: refresh, ExpiresIn: int64(s.opts.AccessTTL.Seconds())},
		User: genericUser{ID: u.id, Name: u.login},
	})
}

func (s *Server) genericRefresh(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.notFound(w, r)
		return
	}
	if !s.tokenEndpoint(r, true) {
		return
	}
	params, ok := bodyParams(r)
	if !ok {
		writeJSON(w, http.StatusBadRequest, nestError{400, "Invalid JSON body", "Bad Request"})
		return
	}
	old := str(params, "refreshToken")
	if old == "" {
		writeJSON(w, http.StatusBadRequest, nestError{400, "refreshToken is required", "Bad Request"})
		return
	}
	now := unix(s.now())
	s.mu.Lock()
	rec := s.opaque[old]
	if rec == nil || rec.kind != "generic" || now >= rec.expires {
		s.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, nestError{401, "Refresh token is invalid or expired", "Unauthorized"})
		return
	}
	refresh := old
	if s.opts.RotateRefresh {
		delete(s.opaque, old)
		refresh = "rt_" + randHex(24)
		s.opaque[refresh] = &refreshRecord{
			kind:    "generic",
			userID:  rec.userID,
			scope:   rec.scope,
			expires: unix(s.now().Add(s.opts.RefreshTTL)),
		}
		s.lastRefresh = refresh
	}
	s.mu.Unlock()
	u := s.userByID(rec.userID)
	s.writeGenericTokens(w, u, refresh)
}

// genericResource serves /api/me, /api/admin and /api/quiet (GET), and
// /api/notes (POST: 201 with the note, after the token is checked).
func (s *Server) genericResource(w http.ResponseWriter, r *http.Request) {
	notes := r.URL.Path == "/api/notes"
	if notes != (r.Method == http.MethodPost) || !notes && r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.notFound(w, r)
		return
	}
	quiet := r.URL.Path == "/api/quiet"
	challenge := func(status int, attrs string, msg string) {
		if quiet {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="api"`+attrs)
		writeJSON(w, status, nestError{StatusCode: status, Message: msg})
	}

	h := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, tok, _ := strings.Cut(h, " ")
	if h == "" || !strings.EqualFold(scheme, "Bearer") {
		// No credentials for this scheme: RFC 6750 §3, no error attribute.
		challenge(http.StatusUnauthorized, "", "Unauthorized")
		return
	}
	tok = strings.TrimLeft(tok, " ")
	if tok == "" || strings.ContainsAny(tok, " \t") {
		if quiet {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		challenge(http.StatusBadRequest,
			`, error="invalid_request", error_description="The Authorization header is malformed"`, "Bad Request")
		return
	}
	claims, err := s.parseStd(tok, s.key(func(k *keyring) []byte { return k.api }), true)
	if err != nil {
		desc := "The access token is invalid"
		if errors.Is(err, jwt.ErrTokenExpired) {
			desc = "The access token expired"
		}
		challenge(http.StatusUnauthorized, `, error="invalid_token", error_description="`+desc+`"`, "Unauthorized")
		return
	}
	if r.URL.Path == "/api/admin" && !hasScope(claimString(claims, "scope"), "admin") {
		w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="insufficient_scope", scope="admin"`)
		writeJSON(w, http.StatusForbidden, nestError{StatusCode: 403, Message: "Forbidden"})
		return
	}
	answer := map[string]string{"user": claimString(claims, "sub"), "jti": claimString(claims, "jti")}
	switch r.URL.Path {
	case "/api/admin":
		answer["scope"] = claimString(claims, "scope")
	case "/api/notes":
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		answer["note"] = string(body)
		writeJSON(w, http.StatusCreated, answer)
		return
	}
	writeJSON(w, http.StatusOK, answer)
}

func hasScope(scope, want string) bool {
	for _, s := range strings.Fields(scope) {
		if s == want {
			return true
		}
	}
	return false
}

// malformedJWT is what /broken/malformed hands out: three segments, the
// middle one not base64url.
const malformedJWT = "eyJhbGciOiJIUzI1NiJ9.%%%.x"

// broken serves the bad-input helpers. They answer any POST, whatever its
// credentials, and count as login requests.
func (s *Server) broken(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/broken/html", "/broken/shape", "/broken/malformed", "/broken/down", "/broken/echo":
	default:
		s.notFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		s.notFound(w, r)
		return
	}
	if !s.tokenEndpoint(r, false) {
		return
	}
	switch r.URL.Path {
	case "/broken/html":
		writeRaw(w, http.StatusOK, ctHTML, []byte(loginPage))
	case "/broken/shape":
		u := s.users[0]
		now := s.now()
		tok := mint(apiClaims{
			Iss: s.base, Sub: u.login, Name: u.login, Scope: "read",
			Iat: unix(now), Exp: unix(now.Add(s.opts.AccessTTL)), Jti: randHex(16),
		}, s.key(func(k *keyring) []byte { return k.api }))
		type shapeUser struct {
			ID    int    `json:"id"`
			Email string `json:"email"`
		}
		type shapeData struct {
			JWT  string    `json:"jwt"`
			User shapeUser `json:"user"`
		}
		writeJSON(w, http.StatusOK, struct {
			Data shapeData `json:"data"`
		}{shapeData{JWT: tok, User: shapeUser{ID: u.id, Email: u.email}}})
	case "/broken/echo": // a careless server quotes what it was sent, as PHP encodes it
		params, _ := bodyParams(r)
		pw := str(params, "password") + str(params, "client_secret")
		writeRaw(w, http.StatusUnauthorized, ctJSON, phpJSON(map[string]string{"code": "bad_login",
			"message": fmt.Sprintf("wrong password %s (form-encoded %s), auth header was %s", pw, url.QueryEscape(pw), r.Header.Get("Authorization"))}))
	case "/broken/down": // a NestJS-style 503 while the API is being deployed
		writeJSON(w, http.StatusServiceUnavailable, nestError{StatusCode: 503, Message: "Service Unavailable"})
	case "/broken/malformed":
		type malformedData struct {
			Token     string `json:"token"`
			ExpiresIn int    `json:"expiresIn"`
		}
		writeJSON(w, http.StatusOK, struct {
			Data malformedData `json:"data"`
		}{malformedData{Token: malformedJWT, ExpiresIn: 60}})
	}
}

const loginPage = `<!DOCTYPE html><html><head><title>Login</title><meta charset="utf-8"></head>` +
	`<body><h1>Sign in</h1><form method="post" action="/broken/html">` +
	`<label>Username <input name="username"></label>` +
	`<label>Password <input name="password" type="password"></label>` +
	`<button type="submit">Log in</button></form></body></html>
`
