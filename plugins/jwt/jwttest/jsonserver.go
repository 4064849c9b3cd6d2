package jwttest

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// json-server-auth 2.x (src/users.ts, src/guards.ts, src/constants.ts): every
// error is a bare JSON string sent with res.status(N).jsonp(message).

// jsaEmailRE is json-server-auth's EMAIL_REGEX (the unescaped "." in the
// domain part included).
var jsaEmailRE = regexp.MustCompile(`^[a-zA-Z0-9.!#$%&'*+/=?^_` + "`" +
	`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$`)

const jsaMinPasswordLength = 4

type jsaClaims struct {
	Email string `json:"email"`
	Iat   int64  `json:"iat"`
	Exp   int64  `json:"exp"`
	Sub   string `json:"sub"`
}

type jsaUser struct {
	Email string `json:"email"`
	ID    int    `json:"id"`
}

func writeJSString(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, msg)
}

func (s *Server) jsonServer(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/login", "/signin":
		if r.Method != http.MethodPost {
			s.notFound(w, r)
			return
		}
		s.jsaLogin(w, r)
	case "/664/posts":
		// 664: everyone reads, logged-in users write.
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			writeJSON(w, http.StatusOK, []any{})
			return
		}
		if s.jsaLoggedOnly(w, r) {
			s.jsaCreate(w, r)
		}
	case "/660/posts":
		// 660: logged-in users read and write.
		if !s.jsaLoggedOnly(w, r) {
			return
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			writeJSON(w, http.StatusOK, []any{})
			return
		}
		s.jsaCreate(w, r)
	}
}

func (s *Server) jsaLogin(w http.ResponseWriter, r *http.Request) {
	if !s.tokenEndpoint(r, false) {
		return
	}
	params, ok := bodyParams(r)
	if !ok {
		// body-parser's SyntaxError reaches json-server-auth's errorHandler.
		writeJSString(w, http.StatusInternalServerError, "Unexpected token in JSON")
		return
	}
	email, password := str(params, "email"), str(params, "password")
	if strings.TrimSpace(email) == "" || strings.TrimSpace(password) == "" {
		writeJSString(w, http.StatusBadRequest, "Email and password are required")
		return
	}
	if !jsaEmailRE.MatchString(email) {
		writeJSString(w, http.StatusBadRequest, "Email format is invalid")
		return
	}
	if len([]rune(password)) < jsaMinPasswordLength {
		writeJSString(w, http.StatusBadRequest, "Password is too short")
		return
	}
	u := s.userByEmail(email)
	if u == nil {
		writeJSString(w, http.StatusBadRequest, "Cannot find user")
		return
	}
	if u.password != password {
		writeJSString(w, http.StatusBadRequest, "Incorrect password")
		return
	}
	now := s.now()
	tok := mint(jsaClaims{
		Email: email,
		Iat:   now.Unix(),
		Exp:   now.Add(s.opts.AccessTTL).Unix(),
		Sub:   strconv.Itoa(u.id),
	}, s.key(func(k *keyring) []byte { return k.jsa }))
	writeJSON(w, http.StatusOK, struct {
		AccessToken string  `json:"accessToken"`
		User        jsaUser `json:"user"`
	}{tok, jsaUser{Email: u.email, ID: u.id}})
}

// jsaLoggedOnly is guards.ts loggedOnly. It answers and returns false when
// the request may not go on.
func (s *Server) jsaLoggedOnly(w http.ResponseWriter, r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return true
	}
	authz := r.Header.Get("Authorization")
	if authz == "" {
		writeJSString(w, http.StatusUnauthorized, "Missing authorization header")
		return false
	}
	parts := strings.Split(authz, " ")
	if parts[0] != "Bearer" {
		writeJSString(w, http.StatusUnauthorized, "Incorrect authorization scheme")
		return false
	}
	if len(parts) < 2 || parts[1] == "" {
		writeJSString(w, http.StatusUnauthorized, "Missing token")
		return false
	}
	if msg := s.jsaVerify(parts[1]); msg != "" {
		writeJSString(w, http.StatusUnauthorized, msg)
		return false
	}
	return true
}

// jsaVerify returns node jsonwebtoken's verify() error message, or "".
func (s *Server) jsaVerify(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "jwt malformed"
	}
	var header map[string]any
	if json.Unmarshal(phpB64Decode(parts[0]), &header) != nil || header == nil {
		return "invalid token"
	}
	var payload any
	if json.Unmarshal(phpB64Decode(parts[1]), &payload) != nil {
		return "invalid token"
	}
	alg, _ := header["alg"].(string)
	if alg != "HS256" && alg != "HS384" && alg != "HS512" {
		if alg == "none" || parts[2] == "" {
			return "jwt signature is required"
		}
		return "invalid algorithm"
	}
	_, err := s.parseStd(tok, s.key(func(k *keyring) []byte { return k.jsa }), false, "HS256", "HS384", "HS512")
	switch {
	case err == nil:
		return ""
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "invalid signature"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "jwt expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "jwt not active"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "invalid token"
	}
	return "invalid token"
}

// jsaCreate answers a write that passed the guard as json-server does: 201
// with the stored entity.
func (s *Server) jsaCreate(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusNotFound, struct{}{})
		return
	}
	params, ok := bodyParams(r)
	if !ok {
		writeJSString(w, http.StatusInternalServerError, "Unexpected token in JSON")
		return
	}
	params["id"] = 1
	writeJSON(w, http.StatusCreated, params)
}
