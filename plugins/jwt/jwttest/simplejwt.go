package jwttest

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// Django REST framework + djangorestframework-simplejwt 5.x (views.py,
// serializers.py, tokens.py, authentication.py), with the token_blacklist app
// installed. Messages are those of current SimpleJWT ("Token is invalid",
// "Token is expired", "Token is blacklisted", "Token has wrong type").

const djRealm = `Bearer realm="api"`

type djClaims struct {
	TokenType string `json:"token_type"`
	Exp       int64  `json:"exp"`
	Iat       int64  `json:"iat"`
	Jti       string `json:"jti"`
	UserID    int    `json:"user_id"`
}

type djDetail struct {
	Detail string `json:"detail"`
	Code   string `json:"code,omitempty"`
}

type djMessage struct {
	TokenClass string `json:"token_class"`
	TokenType  string `json:"token_type"`
	Message    string `json:"message"`
}

func writeDJ401(w http.ResponseWriter, v any) {
	w.Header().Set("WWW-Authenticate", djRealm)
	writeJSON(w, http.StatusUnauthorized, v)
}

func (s *Server) simpleJWT(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if !strings.HasSuffix(p, "/") {
		// CommonMiddleware with APPEND_SLASH (DEBUG off): a permanent
		// redirect, whatever the method.
		loc := p + "/"
		if r.URL.RawQuery != "" {
			loc += "?" + r.URL.RawQuery
		}
		w.Header().Set("Location", loc)
		writeRaw(w, http.StatusMovedPermanently, "text/html; charset=utf-8", nil)
		return
	}
	switch p {
	case "/api/token/":
		if r.Method != http.MethodPost {
			djNotAllowed(w, r, "POST, OPTIONS")
			return
		}
		if !s.tokenEndpoint(r, false) {
			return
		}
		s.djObtain(w, r)
	case "/api/token/refresh/":
		if r.Method != http.MethodPost {
			djNotAllowed(w, r, "POST, OPTIONS")
			return
		}
		if !s.tokenEndpoint(r, true) {
			return
		}
		s.djRefreshView(w, r)
	case "/api/user/":
		s.djUser(w, r)
	}
}

func djNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeJSON(w, http.StatusMethodNotAllowed, djDetail{Detail: `Method "` + r.Method + `" not allowed.`})
}

// djData parses request.data with DRF's default parsers (JSON, form,
// multipart). It answers and returns ok=false on a parse error.
func djData(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if len(strings.TrimSpace(string(b))) == 0 {
			return map[string]any{}, true
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			writeJSON(w, http.StatusBadRequest, djDetail{Detail: "JSON parse error - Expecting value: line 1 column 1 (char 0)"})
			return nil, false
		}
		m, _ := v.(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		return m, true
	case "application/x-www-form-urlencoded", "multipart/form-data", "":
		params, _ := bodyParams(r)
		return params, true
	}
	writeJSON(w, http.StatusUnsupportedMediaType, djDetail{Detail: `Unsupported media type "` + r.Header.Get("Content-Type") + `" in request.`})
	return nil, false
}

// djChar validates a DRF CharField (required, no blank, whitespace trimmed).
func djChar(data map[string]any, name string) (string, []string) {
	v, ok := data[name]
	if !ok {
		return "", []string{"This field is required."}
	}
	var sv string
	switch x := v.(type) {
	case string:
		sv = x
	case float64:
		sv = phpString(x)
	default:
		return "", []string{"Not a valid string."}
	}
	sv = strings.TrimSpace(sv)
	if sv == "" {
		return "", []string{"This field may not be blank."}
	}
	return sv, nil
}

func (s *Server) djObtain(w http.ResponseWriter, r *http.Request) {
	data, ok := djData(w, r)
	if !ok {
		return
	}
	username, uerr := djChar(data, "username")
	password, perr := djChar(data, "password")
	if uerr != nil || perr != nil {
		writeJSON(w, http.StatusBadRequest, struct {
			Username []string `json:"username,omitempty"`
			Password []string `json:"password,omitempty"`
		}{uerr, perr})
		return
	}
	u := s.userByLogin(username)
	if u == nil || u.password != password {
		writeDJ401(w, djDetail{Detail: "No active account found with the given credentials"})
		return
	}
	refresh := s.djMintRefresh(u.id)
	writeJSON(w, http.StatusOK, struct {
		Refresh string `json:"refresh"`
		Access  string `json:"access"`
	}{refresh, s.djMintAccess(u.id)})
}

func (s *Server) djMintRefresh(userID int) string {
	now := s.now()
	c := djClaims{"refresh", now.Add(s.opts.RefreshTTL).Unix(), now.Unix(), randHex(16), userID}
	tok := mint(c, s.key(func(k *keyring) []byte { return k.dj }))
	s.mu.Lock()
	s.djRefresh[c.Jti] = false
	s.lastRefresh = tok
	s.mu.Unlock()
	return tok
}

func (s *Server) djMintAccess(userID int) string {
	now := s.now()
	c := djClaims{"access", now.Add(s.opts.AccessTTL).Unix(), now.Unix(), randHex(16), userID}
	tok := mint(c, s.key(func(k *keyring) []byte { return k.dj }))
	s.mu.Lock()
	s.djAccess[c.Jti] = false
	s.mu.Unlock()
	return tok
}

// djToken reproduces Token.__init__(token) + verify() for the given type
// ("access" or "refresh"). It returns the claims or SimpleJWT's message.
func (s *Server) djToken(tok, wantType string) (jwt.MapClaims, string) {
	claims, err := verifySignatureOnly(tok, s.key(func(k *keyring) []byte { return k.dj }))
	if err != nil {
		return nil, "Token is invalid"
	}
	jti := claimString(claims, "jti")
	s.mu.Lock()
	revoked := wantType == "access" && s.djAccess[jti]
	blacklisted := s.djRefresh[jti]
	s.mu.Unlock()
	if revoked {
		// As if SIGNING_KEY had been rotated: the decode fails.
		return nil, "Token is invalid"
	}
	exp, hasExp := claims["exp"]
	if hasExp {
		e, isNum := number(exp)
		if !isNum {
			return nil, "Token is invalid"
		}
		if float64(s.now().Unix()) >= e {
			return nil, "Token is expired"
		}
	}
	if wantType == "refresh" && blacklisted {
		return nil, "Token is blacklisted"
	}
	if !hasExp {
		return nil, "Token has no 'exp' claim"
	}
	if jti == "" {
		return nil, "Token has no id"
	}
	tt, has := claims["token_type"]
	if !has {
		return nil, "Token has no type"
	}
	if tt != wantType {
		return nil, "Token has wrong type"
	}
	return claims, ""
}

func (s *Server) djRefreshView(w http.ResponseWriter, r *http.Request) {
	data, ok := djData(w, r)
	if !ok {
		return
	}
	raw, ferr := djChar(data, "refresh")
	if ferr != nil {
		writeJSON(w, http.StatusBadRequest, struct {
			Refresh []string `json:"refresh"`
		}{ferr})
		return
	}
	claims, msg := s.djToken(raw, "refresh")
	if msg != "" {
		writeDJ401(w, djDetail{Detail: msg, Code: "token_not_valid"})
		return
	}
	userID := 0
	if n, ok := number(claims["user_id"]); ok {
		userID = int(n)
	}
	if s.userByID(userID) == nil {
		writeDJ401(w, djDetail{Detail: "No active account found with the given credentials"})
		return
	}
	access := s.djMintAccess(userID)
	if !s.opts.RotateRefresh {
		writeJSON(w, http.StatusOK, struct {
			Access string `json:"access"`
		}{access})
		return
	}
	s.mu.Lock()
	s.djRefresh[claimString(claims, "jti")] = true // BLACKLIST_AFTER_ROTATION
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, struct {
		Access  string `json:"access"`
		Refresh string `json:"refresh"`
	}{access, s.djMintRefresh(userID)})
}

// djUser is a view with JWTAuthentication and IsAuthenticated.
func (s *Server) djUser(w http.ResponseWriter, r *http.Request) {
	parts := strings.Fields(r.Header.Get("Authorization"))
	if len(parts) == 0 || parts[0] != "Bearer" {
		writeDJ401(w, djDetail{Detail: "Authentication credentials were not provided."})
		return
	}
	if len(parts) != 2 {
		writeDJ401(w, djDetail{Detail: "Authorization header must contain two space-delimited values", Code: "bad_authorization_header"})
		return
	}
	claims, msg := s.djToken(parts[1], "access")
	if msg != "" {
		writeDJ401(w, struct {
			Detail   string      `json:"detail"`
			Code     string      `json:"code"`
			Messages []djMessage `json:"messages"`
		}{"Given token not valid for any token type", "token_not_valid",
			[]djMessage{{TokenClass: "AccessToken", TokenType: "access", Message: msg}}})
		return
	}
	id, isNum := number(claims["user_id"])
	if !isNum {
		writeDJ401(w, djDetail{Detail: "Token contained no recognizable user identification", Code: "token_not_valid"})
		return
	}
	u := s.userByID(int(id))
	if u == nil {
		writeDJ401(w, djDetail{Detail: "User not found", Code: "user_not_found"})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		djNotAllowed(w, r, "GET, HEAD, OPTIONS")
		return
	}
	writeJSON(w, http.StatusOK, struct {
		ID       int    `json:"id"`
		Username string `json:"username"`
		Email    string `json:"email"`
	}{u.id, u.login, u.email})
}
