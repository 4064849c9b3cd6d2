package jwttest

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Two WordPress sites run side by side:
//
//   - the main site (home URL == Server.URL) with Tmeister's "JWT
//     Authentication for WP REST API" 1.3.4 (public/class-jwt-auth-public.php);
//   - a second site at Server.URL+"/alt" with usefulteam/jwt-auth 3.x
//     (class-auth.php), a look-alike plugin in the same jwt-auth/v1 namespace.
//
// Both use WordPress core's wp_authenticate() (wp-includes/user.php, 6.x
// messages) and WordPress's REST envelope, encoded as PHP's json_encode does.

const (
	wpIncorrectUsername = "<strong>Error:</strong> The password you entered for the username <strong>%s</strong> is incorrect."
	wpIncorrectEmail    = "<strong>Error:</strong> The password you entered for the email address <strong>%s</strong> is incorrect."
	wpInvalidUsername   = "<strong>Error:</strong> The username <strong>%s</strong> is not registered on this site. If you are unsure of your username, try your email address instead."
	wpInvalidEmail      = "Unknown email address. Check again or try your username."
	wpEmptyUsername     = "<strong>Error:</strong> The username field is empty."
	wpEmptyPassword     = "<strong>Error:</strong> The password field is empty."
	wpLostPassword      = ` <a href="%s/wp-login.php?action=lostpassword">Lost your password?</a>`
)

type wpError struct {
	Code    string      `json:"code"`
	Message string      `json:"message"`
	Data    wpErrorData `json:"data"`
}

type wpErrorData struct {
	Status int `json:"status"`
}

type wpInvalidJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Data    struct {
		Status           int    `json:"status"`
		JSONErrorCode    int    `json:"json_error_code"`
		JSONErrorMessage string `json:"json_error_message"`
	} `json:"data"`
}

func newWPError(status int, code, message string) *wpError {
	return &wpError{Code: code, Message: message, Data: wpErrorData{Status: status}}
}

// writeWP sends a WordPress REST answer: PHP-encoded JSON plus the headers
// every REST response carries.
func writeWP(w http.ResponseWriter, site string, status int, v any) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	if h.Get("Link") == "" { // set by wpPlainLink on a site with plain permalinks
		h.Set("Link", "<"+site+`/wp-json/>; rel="https://api.w.org/"`)
	}
	writeRaw(w, status, ctJSON, phpJSON(v))
}

func writeWPError(w http.ResponseWriter, site string, e *wpError) {
	writeWP(w, site, e.Data.Status, e)
}

// wpRoute normalises a REST route as rest_api_loaded() does
// (untrailingslashit); route matching is case-insensitive (@^route$@i).
func wpRoute(route string) string {
	route = strings.TrimRight(route, "/")
	if route == "" {
		return "/"
	}
	if !strings.HasPrefix(route, "/") {
		route = "/" + route
	}
	return strings.ToLower(route)
}

// wpParams reproduces WP_REST_Request::get_param's lookup order: JSON body
// (JSON content type only), form body, query string. A key whose value is
// JSON null counts as absent (isset). jsonErr is true for a JSON body that
// does not parse (rest_invalid_json).
type wpParams struct {
	json  map[string]any
	form  map[string][]string
	query map[string][]string
}

func readWPParams(r *http.Request) (p wpParams, jsonErr bool) {
	p.query = r.URL.Query()
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case ct == "application/json" || strings.HasSuffix(ct, "+json"):
		body := make([]byte, 0, 512)
		buf := make([]byte, 4096)
		for len(body) < 1<<20 {
			n, err := r.Body.Read(buf)
			body = append(body, buf[:n]...)
			if err != nil {
				break
			}
		}
		if strings.TrimSpace(string(body)) == "" {
			return p, false
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return p, true
		}
		p.json, _ = v.(map[string]any)
	case ct == "application/x-www-form-urlencoded":
		if r.ParseForm() == nil {
			p.form = r.PostForm
		}
	case ct == "multipart/form-data":
		if r.ParseMultipartForm(1<<20) == nil {
			p.form = r.MultipartForm.Value
		}
	}
	return p, false
}

func (p wpParams) get(name string) string {
	if v, ok := p.json[name]; ok && v != nil {
		return phpString(v)
	}
	if v, ok := p.form[name]; ok && len(v) > 0 {
		return v[0]
	}
	if v, ok := p.query[name]; ok && len(v) > 0 {
		return v[0]
	}
	return ""
}

// phpString is PHP's (string) cast of a decoded JSON scalar.
func phpString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return "1"
		}
		return ""
	}
	return ""
}

// phpEmpty is PHP's empty() on a string.
func phpEmpty(s string) bool { return s == "" || s == "0" }

var (
	tagRE    = regexp.MustCompile(`(?is)<(script|style)[^>]*?>.*?</(script|style)>|<[^>]*>`)
	octetRE  = regexp.MustCompile(`%[a-fA-F0-9]{2}`)
	entityRE = regexp.MustCompile(`&.+?;`)
	spacesRE = regexp.MustCompile(`\s+`)
)

// wpStripAllTags is wp_strip_all_tags().
func wpStripAllTags(s string) string {
	return strings.TrimSpace(tagRE.ReplaceAllString(s, ""))
}

// sanitizeUser is sanitize_user($username, false).
func sanitizeUser(s string) string {
	s = wpStripAllTags(s)
	s = octetRE.ReplaceAllString(s, "")
	s = entityRE.ReplaceAllString(s, "")
	return spacesRE.ReplaceAllString(strings.TrimSpace(s), " ")
}

var (
	emailLocalRE = regexp.MustCompile("^[a-zA-Z0-9!#$%&'*+/=?^_`{|}~.-]+$")
	emailSubRE   = regexp.MustCompile(`^[a-zA-Z0-9-]+$`)
)

// isEmail is WordPress's is_email().
func isEmail(s string) bool {
	if len(s) < 6 || strings.IndexByte(s, '@') < 1 {
		return false
	}
	local, domain, _ := strings.Cut(s, "@")
	if !emailLocalRE.MatchString(local) || strings.Contains(domain, "..") {
		return false
	}
	domain = strings.Trim(domain, " \t\n\r\x00\x0B.")
	subs := strings.Split(domain, ".")
	if len(subs) < 2 {
		return false
	}
	for _, sub := range subs {
		sub = strings.Trim(sub, " \t\n\r\x00\x0B-")
		if sub == "" || !emailSubRE.MatchString(sub) {
			return false
		}
	}
	return true
}

// wpAuthenticate is wp_authenticate(): sanitize_user, trim the password, then
// the 'authenticate' filters wp_authenticate_username_password and
// wp_authenticate_email_password. Logins and emails are looked up
// case-insensitively, as MySQL's default collation does. site is the home URL
// used in the lost-password link.
func (s *Server) wpAuthenticate(username, password, site string) (u *user, code, message string) {
	username = sanitizeUser(username)
	password = strings.Trim(password, " \t\n\r\x00\x0B")
	if phpEmpty(username) {
		return nil, "empty_username", wpEmptyUsername
	}
	if phpEmpty(password) {
		return nil, "empty_password", wpEmptyPassword
	}
	lost := fmt.Sprintf(wpLostPassword, site)
	for _, c := range s.users {
		if strings.EqualFold(c.login, username) {
			if c.password == password {
				return c, "", ""
			}
			code, message = "incorrect_password", fmt.Sprintf(wpIncorrectUsername, username)+lost
			break
		}
	}
	if code == "" {
		code, message = "invalid_username", fmt.Sprintf(wpInvalidUsername, username)
	}
	if !isEmail(username) {
		return nil, code, message
	}
	for _, c := range s.users {
		if strings.EqualFold(c.email, username) {
			if c.password == password {
				return c, "", ""
			}
			return nil, "incorrect_password", fmt.Sprintf(wpIncorrectEmail, username) + lost
		}
	}
	return nil, "invalid_email", wpInvalidEmail
}

// wpAuthorization is $_SERVER['HTTP_AUTHORIZATION'] after
// sanitize_text_field().
func wpAuthorization(r *http.Request) string {
	return spacesRE.ReplaceAllString(wpStripAllTags(r.Header.Get("Authorization")), " ")
}

// sscanfBearer is PHP's sscanf($header, 'Bearer %s'): the literal is
// case-sensitive, the space matches any run of whitespace (even none) and %s
// reads up to the next whitespace.
func sscanfBearer(h string) string {
	rest, ok := strings.CutPrefix(h, "Bearer")
	if !ok {
		return ""
	}
	rest = strings.TrimLeft(rest, " \t\r\n\v\f")
	if i := strings.IndexAny(rest, " \t\r\n\v\f"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// wpClaims is the payload Tmeister and usefulteam build, in their order.
type wpClaims struct {
	Iss  string `json:"iss"`
	Iat  int64  `json:"iat"`
	Nbf  int64  `json:"nbf"`
	Exp  int64  `json:"exp"`
	Data struct {
		User struct {
			ID any `json:"id"`
		} `json:"user"`
	} `json:"data"`
}

func (s *Server) mintWP(site string, id any, key []byte) string {
	now := s.now()
	var c wpClaims
	c.Iss = site
	c.Iat = now.Unix()
	c.Nbf = now.Unix()
	c.Exp = now.Add(s.opts.AccessTTL).Unix()
	c.Data.User.ID = id
	// php-jwt 6 encodes with JSON_UNESCAPED_SLASHES.
	return signHS256(phpHeader, marshal(c), key)
}

// wpTokenUser checks a decoded WordPress token as both plugins do after
// JWT::decode: iss, then data.user.id. It returns the user ID, or an error
// code and message.
func wpTokenUser(claims map[string]any, site string) (id int, code, message string) {
	if iss, _ := claims["iss"].(string); iss != site {
		return 0, "jwt_auth_bad_iss", "The iss do not match with this server"
	}
	data, _ := claims["data"].(map[string]any)
	usr, _ := data["user"].(map[string]any)
	raw, ok := usr["id"]
	if !ok || raw == nil {
		return 0, "jwt_auth_bad_request", "User ID not found in the token"
	}
	switch v := raw.(type) {
	case string:
		id, _ = strconv.Atoi(v)
	case float64:
		id = int(v)
	}
	return id, "", ""
}

// wpDispatch is WP_REST_Server's routing for one site: it answers the
// index (GET /) and a route or method it does not know (404
// rest_no_route), and a JSON body that does not parse (400); otherwise it
// returns the request's parameters for the caller to serve. getRoute is the
// one GET route; posts are the POST routes.
func wpDispatch(w http.ResponseWriter, r *http.Request, site, route, getRoute string, posts ...string) (wpParams, bool) {
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case route == "/" && get:
		writeWP(w, site, http.StatusOK, wpIndex(site))
		return wpParams{}, false
	case route == getRoute && get, r.Method == http.MethodPost && slices.Contains(posts, route):
	default:
		writeWPError(w, site, newWPError(http.StatusNotFound, "rest_no_route",
			"No route was found matching the URL and request method."))
		return wpParams{}, false
	}
	params, badJSON := readWPParams(r)
	if badJSON {
		writeWP(w, site, http.StatusBadRequest, invalidJSON())
		return wpParams{}, false
	}
	return params, true
}

// wpPlainLink sets the Link header of a site with plain permalinks, whose
// rest_url() is {home}/index.php?rest_route=/.
func wpPlainLink(w http.ResponseWriter, site string) {
	w.Header().Set("Link", "<"+site+`/index.php?rest_route=/>; rel="https://api.w.org/"`)
}

// wpNoRewrite answers a /wp-json/ URL on a site with plain permalinks:
// without rewrite rules WordPress serves it as an ordinary page request, not
// through the REST API; the theme-less front page is an empty 200.
func wpNoRewrite(w http.ResponseWriter) {
	writeRaw(w, http.StatusOK, ctHTML, nil)
}

// wordpress serves the main site's REST API (Tmeister's plugin).
func (s *Server) wordpress(w http.ResponseWriter, r *http.Request, route string) {
	site := s.base
	route = wpRoute(route)
	post := r.Method == http.MethodPost

	if route == "/jwt-auth/v1/token" && post && !s.tokenEndpoint(r, false) {
		return
	}

	// determine_current_user: runs for every REST request except those whose
	// URI contains "token/validate"; a bad Bearer token is stored and
	// returned by rest_pre_dispatch for ANY route.
	userID := 0
	if strings.Index(r.RequestURI, "token/validate") <= 0 {
		if h := wpAuthorization(r); h != "" && strings.HasPrefix(h, "Bearer") {
			id, e := s.tmeisterValidate(h, site)
			if e != nil {
				writeWPError(w, site, e)
				return
			}
			userID = id
		}
	}

	params, ok := wpDispatch(w, r, site, route, "/wp/v2/users/me", "/jwt-auth/v1/token", "/jwt-auth/v1/token/validate")
	if !ok {
		return
	}

	switch route {
	case "/jwt-auth/v1/token":
		u, code, msg := s.wpAuthenticate(params.get("username"), params.get("password"), site)
		if u == nil {
			writeWPError(w, site, newWPError(http.StatusForbidden, "[jwt_auth] "+code, msg))
			return
		}
		// The ID is a JSON string, as in the plugin's documented payload
		// ("data":{"user":{"id":"1"}}).
		tok := s.mintWP(site, strconv.Itoa(u.id), s.key(func(k *keyring) []byte { return k.wp }))
		writeWP(w, site, http.StatusOK, struct {
			Token           string `json:"token"`
			UserEmail       string `json:"user_email"`
			UserNicename    string `json:"user_nicename"`
			UserDisplayName string `json:"user_display_name"`
		}{tok, u.email, u.login, u.login})
	case "/jwt-auth/v1/token/validate":
		h := r.Header.Get("Authorization")
		if h == "" {
			writeWPError(w, site, newWPError(http.StatusForbidden, "jwt_auth_no_auth_header", "Authorization header not found."))
			return
		}
		if _, e := s.tmeisterValidate(h, site); e != nil {
			writeWPError(w, site, e)
			return
		}
		writeWP(w, site, http.StatusOK, struct {
			Code string      `json:"code"`
			Data wpErrorData `json:"data"`
		}{"jwt_auth_valid_token", wpErrorData{Status: 200}})
	case "/wp/v2/users/me":
		s.wpUsersMe(w, site, userID)
	}
}

// tmeisterValidate is Jwt_Auth_Public::validate_token with a header.
func (s *Server) tmeisterValidate(h, site string) (int, *wpError) {
	tok := sscanfBearer(h)
	if tok == "" {
		return 0, newWPError(http.StatusForbidden, "jwt_auth_bad_auth_header", "Authorization header malformed.")
	}
	claims, err := phpDecode(tok, s.key(func(k *keyring) []byte { return k.wp }), s.now())
	if err != nil {
		return 0, newWPError(http.StatusForbidden, "jwt_auth_invalid_token", err.Error())
	}
	id, code, msg := wpTokenUser(claims, site)
	if code != "" {
		return 0, newWPError(http.StatusForbidden, code, msg)
	}
	return id, nil
}

func (s *Server) wpUsersMe(w http.ResponseWriter, site string, userID int) {
	u := s.userByID(userID)
	if u == nil {
		writeWPError(w, site, newWPError(http.StatusUnauthorized, "rest_not_logged_in", "You are not currently logged in."))
		return
	}
	writeWP(w, site, http.StatusOK, struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
		Slug string `json:"slug"`
	}{u.id, u.login, u.login})
}

func wpIndex(site string) any {
	return struct {
		Name       string   `json:"name"`
		URL        string   `json:"url"`
		Home       string   `json:"home"`
		Namespaces []string `json:"namespaces"`
	}{"jwttest", site, site, []string{"jwt-auth/v1", "wp/v2"}}
}

func invalidJSON() wpInvalidJSON {
	var e wpInvalidJSON
	e.Code = "rest_invalid_json"
	e.Message = "Invalid JSON body passed."
	e.Data.Status = 400
	e.Data.JSONErrorCode = 4
	e.Data.JSONErrorMessage = "Syntax error"
	return e
}

// --- usefulteam/jwt-auth (the /alt site) ---

type altAnswer struct {
	Success    bool   `json:"success"`
	StatusCode int    `json:"statusCode"`
	Code       string `json:"code"`
	Message    string `json:"message"`
	Data       any    `json:"data"`
}

// altBare is the plugin's answer without a "data" key (refresh errors).
type altBare struct {
	Success    bool   `json:"success"`
	StatusCode int    `json:"statusCode"`
	Code       string `json:"code"`
	Message    string `json:"message"`
}

type altLoginData struct {
	Token       string `json:"token"`
	ID          int    `json:"id"`
	Email       string `json:"email"`
	Nicename    string `json:"nicename"`
	FirstName   string `json:"firstName"`
	LastName    string `json:"lastName"`
	DisplayName string `json:"displayName"`
}

type altRefreshRec struct {
	token   string
	expires int64
}

// emptyPHPArray is PHP's array() as json_encode writes it: [].
var emptyPHPArray = []any{}

func altFail(code, message string) altAnswer {
	return altAnswer{Success: false, StatusCode: 401, Code: code, Message: message, Data: emptyPHPArray}
}

func (s *Server) usefulteam(w http.ResponseWriter, r *http.Request, route string) {
	site := s.base + "/alt"
	route = wpRoute(route)
	post := r.Method == http.MethodPost

	switch {
	case route == "/jwt-auth/v1/token" && post:
		if !s.tokenEndpoint(r, false) {
			return
		}
	case route == "/jwt-auth/v1/token/refresh" && post:
		if !s.tokenEndpoint(r, true) {
			return
		}
	}

	// determine_current_user (3.x): a token error is ignored, the route does
	// its own access checks.
	userID := 0
	if strings.Index(r.RequestURI, "token/validate") <= 0 {
		if id, e := s.altValidate(r, site); e == nil {
			userID = id
		}
	}

	params, ok := wpDispatch(w, r, site, route, "/wp/v2/users/me", "/jwt-auth/v1/token", "/jwt-auth/v1/token/validate", "/jwt-auth/v1/token/refresh")
	if !ok {
		return
	}

	switch route {
	case "/jwt-auth/v1/token":
		s.altGetToken(w, r, site, params)
	case "/jwt-auth/v1/token/validate":
		if _, e := s.altValidate(r, site); e != nil {
			writeWP(w, site, e.StatusCode, e)
			return
		}
		writeWP(w, site, http.StatusOK, altAnswer{true, 200, "jwt_auth_valid_token", "Token is valid", emptyPHPArray})
	case "/jwt-auth/v1/token/refresh":
		c, err := r.Cookie("refresh_token")
		if err != nil {
			writeWP(w, site, http.StatusUnauthorized, altBare{false, 401, "jwt_auth_no_auth_cookie", "Refresh token cookie not found."})
			return
		}
		device := params.get("device")
		id, e := s.altCheckRefresh(c.Value, device)
		if e != nil {
			writeWP(w, site, http.StatusUnauthorized, e)
			return
		}
		s.altSendRefresh(w, s.userByID(id), device)
		writeWP(w, site, http.StatusOK, altBare{true, 200, "jwt_auth_valid_token", "Token is valid"})
	case "/wp/v2/users/me":
		s.wpUsersMe(w, site, userID)
	}
}

func (s *Server) altGetToken(w http.ResponseWriter, r *http.Request, site string, params wpParams) {
	username, password := params.get("username"), params.get("password")
	device := params.get("device")
	var u *user
	if c, err := r.Cookie("refresh_token"); err == nil {
		id, e := s.altCheckRefresh(c.Value, device)
		if e != nil {
			writeWP(w, site, http.StatusUnauthorized, e)
			return
		}
		u = s.userByID(id)
	} else if !phpEmpty(params.get("custom_auth")) {
		writeWP(w, site, http.StatusUnauthorized, altFail("jwt_auth_custom_auth_failed", "Custom authentication failed."))
		return
	} else {
		var code, msg string
		u, code, msg = s.wpAuthenticate(username, password, site)
		if u == nil {
			writeWP(w, site, http.StatusUnauthorized, altFail(code, wpStripAllTags(msg)))
			return
		}
	}
	tok := s.mintWP(site, u.id, s.key(func(k *keyring) []byte { return k.alt }))
	if !phpEmpty(username) && !phpEmpty(password) {
		s.altSendRefresh(w, u, device)
	}
	writeWP(w, site, http.StatusOK, altAnswer{true, 200, "jwt_auth_valid_credential", "Credential is valid", altLoginData{
		Token: tok, ID: u.id, Email: u.email, Nicename: u.login, DisplayName: u.login,
	}})
}

// altValidate is Auth::validate_token(false) of usefulteam/jwt-auth 3.x.
func (s *Server) altValidate(r *http.Request, site string) (int, *altAnswer) {
	h := wpAuthorization(r)
	if h == "" {
		e := altFail("jwt_auth_no_auth_header", "Authorization header not found.")
		return 0, &e
	}
	tok := sscanfBearer(h)
	if tok == "" {
		e := altFail("jwt_auth_bad_auth_header", "Authorization header malformed.")
		return 0, &e
	}
	claims, err := phpDecode(tok, s.key(func(k *keyring) []byte { return k.alt }), s.now())
	if err != nil {
		e := altFail("jwt_auth_invalid_token", err.Error())
		return 0, &e
	}
	id, code, msg := wpTokenUser(claims, site)
	if code != "" {
		e := altFail(code, msg+".")
		return 0, &e
	}
	if s.userByID(id) == nil {
		e := altFail("jwt_auth_user_not_found", "User doesn't exist")
		return 0, &e
	}
	return id, nil
}

// altCheckRefresh is Auth::validate_refresh_token.
func (s *Server) altCheckRefresh(cookie, device string) (int, *altBare) {
	invalid := &altBare{false, 401, "jwt_auth_invalid_refresh_token", "Invalid refresh token"}
	idPart, tok, ok := strings.Cut(cookie, ".")
	id, _ := strconv.Atoi(idPart)
	if !ok || strings.Contains(tok, ".") || id == 0 || phpEmpty(tok) {
		return 0, invalid
	}
	s.mu.Lock()
	rec, found := s.altRefresh[id][device]
	s.mu.Unlock()
	switch {
	case !found:
		return 0, invalid
	case rec.token != tok:
		return 0, &altBare{false, 401, "jwt_auth_obsolete_refresh_token", "Refresh token is obsolete"}
	case s.now().Unix() > rec.expires:
		return 0, &altBare{false, 401, "jwt_auth_expired_refresh_token", "Refresh token has expired"}
	}
	return id, nil
}

// altSendRefresh is Auth::send_refresh_token: a new 64-hex token replaces the
// device's previous one and goes out as an HttpOnly cookie.
func (s *Server) altSendRefresh(w http.ResponseWriter, u *user, device string) {
	tok := randHex(32)
	now := s.now()
	expires := now.Add(s.opts.RefreshTTL)
	value := strconv.Itoa(u.id) + "." + tok
	s.mu.Lock()
	if s.altRefresh[u.id] == nil {
		s.altRefresh[u.id] = map[string]altRefreshRec{}
	}
	s.altRefresh[u.id][device] = altRefreshRec{token: tok, expires: expires.Unix()}
	s.lastRefresh = value
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{
		Name:     "refresh_token",
		Value:    value,
		Path:     "/alt/",
		Expires:  expires.UTC().Truncate(time.Second),
		MaxAge:   int(s.opts.RefreshTTL.Seconds()),
		HttpOnly: true,
	})
}
