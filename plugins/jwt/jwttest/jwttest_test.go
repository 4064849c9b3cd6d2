package jwttest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authx/authx/plugins/jwt/jwttest"
)

// --- helpers ---------------------------------------------------------------

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// clock is the injected clock: tests advance it instead of sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func start(t *testing.T, o jwttest.Options) (*jwttest.Server, *clock) {
	t.Helper()
	c := &clock{t: t0}
	if o.Now == nil {
		o.Now = c.Now
	}
	s := jwttest.Start(o)
	t.Cleanup(s.Close)
	return s, c
}

// client never follows redirects, so 301s can be asserted.
var client = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

type answer struct {
	Status int
	Header http.Header
	Body   string
}

func call(t *testing.T, method, u, contentType, body string, hdr ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func postJSON(t *testing.T, u, body string, hdr ...string) answer {
	t.Helper()
	return call(t, http.MethodPost, u, "application/json", body, hdr...)
}

func postForm(t *testing.T, u string, v url.Values, hdr ...string) answer {
	t.Helper()
	return call(t, http.MethodPost, u, "application/x-www-form-urlencoded", v.Encode(), hdr...)
}

func get(t *testing.T, u string, hdr ...string) answer {
	t.Helper()
	return call(t, http.MethodGet, u, "", "", hdr...)
}

func (a answer) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(a.Body), &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", a.Body, err)
	}
	return m
}

func (a answer) expect(t *testing.T, status int, body string) {
	t.Helper()
	if a.Status != status || a.Body != body {
		t.Fatalf("got %d %s\nwant %d %s", a.Status, a.Body, status, body)
	}
}

func (a answer) expectJSONType(t *testing.T, want string) {
	t.Helper()
	if got := a.Header.Get("Content-Type"); got != want {
		t.Fatalf("Content-Type = %q, want %q", got, want)
	}
}

// segments returns a JWT's decoded header and payload bytes, unparsed, so
// tests can pin their exact layout.
func segments(t *testing.T, tok string) (header, payload string) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("%q is not a compact JWS", tok)
	}
	h, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	p, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return string(h), string(p)
}

func claims(t *testing.T, tok string) map[string]any {
	t.Helper()
	_, p := segments(t, tok)
	var m map[string]any
	if err := json.Unmarshal([]byte(p), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func num(t *testing.T, m map[string]any, k string) int64 {
	t.Helper()
	f, ok := m[k].(float64)
	if !ok {
		t.Fatalf("claim %s = %#v, not a number", k, m[k])
	}
	return int64(f)
}

// forge re-signs a token's header and payload with a key the server does not
// have: a well-formed token with a bad signature.
func forge(t *testing.T, tok string) string {
	t.Helper()
	i := strings.LastIndexByte(tok, '.')
	sig, err := jwt.SigningMethodHS256.Sign(tok[:i], []byte("an attacker's key, 32 bytes long!"))
	if err != nil {
		t.Fatal(err)
	}
	return tok[:i] + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func phpEscape(s string) string { return strings.ReplaceAll(s, "/", `\/`) }

var creds = url.Values{"username": {"alice"}, "password": {"wonderland"}}

func genericLogin(t *testing.T, s *jwttest.Server) (token, refresh string) {
	t.Helper()
	a := postJSON(t, s.URL+"/auth/login", `{"username":"alice","password":"wonderland"}`)
	if a.Status != 200 {
		t.Fatalf("login: %d %s", a.Status, a.Body)
	}
	data := a.object(t)["data"].(map[string]any)
	return data["token"].(string), data["refreshToken"].(string)
}

func oauthLogin(t *testing.T, s *jwttest.Server, extra url.Values) map[string]any {
	t.Helper()
	v := url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"wonderland"}}
	for k, vs := range extra {
		v[k] = vs
	}
	a := postForm(t, s.URL+"/oauth/token", v, "Authorization", basic("cli", "s3cret-client"))
	if a.Status != 200 {
		t.Fatalf("oauth login: %d %s", a.Status, a.Body)
	}
	return a.object(t)
}

func basic(id, secret string) string {
	raw := url.QueryEscape(id) + ":" + url.QueryEscape(secret)
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(raw))
}

func wpLogin(t *testing.T, s *jwttest.Server, prefix string) string {
	t.Helper()
	a := postForm(t, s.URL+prefix+"/wp-json/jwt-auth/v1/token", creds)
	if a.Status != 200 {
		t.Fatalf("wp login: %d %s", a.Status, a.Body)
	}
	m := a.object(t)
	if prefix == "/alt" {
		return m["data"].(map[string]any)["token"].(string)
	}
	return m["token"].(string)
}

// --- server basics ---------------------------------------------------------

func TestStartListensOnLoopbackOnly(t *testing.T) {
	s, _ := start(t, jwttest.Options{})
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || strings.HasSuffix(s.URL, "/") {
		t.Fatalf("URL = %q, want http://127.0.0.1:PORT", s.URL)
	}
}

func TestUnknownPathsAnd404Shapes(t *testing.T) {
	s, _ := start(t, jwttest.Options{})
	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/nope", 404, `{"statusCode":404,"message":"Cannot GET /nope","error":"Not Found"}`},
		{"GET", "/auth/login", 404, `{"statusCode":404,"message":"Cannot GET /auth/login","error":"Not Found"}`},
		{"DELETE", "/oauth", 404, `{"statusCode":404,"message":"Cannot DELETE /oauth","error":"Not Found"}`},
		{"GET", "/wp-json/jwt-auth/v1/token", 404,
			`{"code":"rest_no_route","message":"No route was found matching the URL and request method.","data":{"status":404}}`},
		{"GET", "/wp-json/wp/v2/nothing", 404,
			`{"code":"rest_no_route","message":"No route was found matching the URL and request method.","data":{"status":404}}`},
		{"GET", "/alt/wp-json/jwt-auth/v1/token/refresh", 404,
			`{"code":"rest_no_route","message":"No route was found matching the URL and request method.","data":{"status":404}}`},
	}
	for _, tc := range tests {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			a := call(t, tc.method, s.URL+tc.path, "", "")
			a.expect(t, tc.status, tc.body)
			a.expectJSONType(t, "application/json; charset=UTF-8")
		})
	}
	if n := s.Requests("/nope"); n != 1 {
		t.Errorf("Requests(/nope) = %d, want 1", n)
	}
	if n := s.Logins(); n != 0 {
		t.Errorf("a GET on a login path counted as a login: Logins() = %d", n)
	}
}

func TestUsersOption(t *testing.T) {
	s, _ := start(t, jwttest.Options{Users: map[string]string{"zed": "zzzz", "bob@corp.test": "b0b!"}})
	// IDs follow the sorted logins: bob=1, zed=2. bob's email is the key.
	a := postForm(t, s.URL+"/wp-json/jwt-auth/v1/token", url.Values{"username": {"bob@corp.test"}, "password": {"b0b!"}})
	if a.Status != 200 || !strings.Contains(a.Body, `"user_email":"bob@corp.test","user_nicename":"bob"`) {
		t.Fatalf("email login: %d %s", a.Status, a.Body)
	}
	a = postJSON(t, s.URL+"/login", `{"email":"zed@example.com","password":"zzzz"}`)
	if a.Status != 200 || !strings.HasSuffix(a.Body, `"user":{"email":"zed@example.com","id":2}}`) {
		t.Fatalf("json-server login: %d %s", a.Status, a.Body)
	}
}

// --- generic API -----------------------------------------------------------

func TestGenericLogin(t *testing.T) {
	s, _ := start(t, jwttest.Options{AccessTTL: 90 * time.Second})
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		wantBody    string // exact, when set
	}{
		{"json", "application/json", `{"username":"alice","password":"wonderland"}`, 200, ""},
		{"form", "application/x-www-form-urlencoded", creds.Encode(), 200, ""},
		{"email", "application/json", `{"username":"alice@example.com","password":"wonderland"}`, 200, ""},
		{"bad password", "application/json", `{"username":"alice","password":"nope"}`, 401,
			`{"statusCode":401,"message":"Invalid username or password","error":"Unauthorized"}`},
		{"unknown user", "application/json", `{"username":"bob","password":"wonderland"}`, 401,
			`{"statusCode":401,"message":"Invalid username or password","error":"Unauthorized"}`},
		{"missing password", "application/json", `{"username":"alice"}`, 400,
			`{"statusCode":400,"message":"username and password are required","error":"Bad Request"}`},
		{"text body is not parsed", "text/plain", `{"username":"alice","password":"wonderland"}`, 400,
			`{"statusCode":400,"message":"username and password are required","error":"Bad Request"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, "POST", s.URL+"/auth/login", tc.contentType, tc.body)
			a.expectJSONType(t, "application/json; charset=UTF-8")
			if tc.wantBody != "" {
				a.expect(t, tc.status, tc.wantBody)
				return
			}
			if a.Status != tc.status {
				t.Fatalf("status %d: %s", a.Status, a.Body)
			}
			re := regexp.MustCompile(`^\{"data":\{"token":"([^"]+)","refreshToken":"([^"]+)","expiresIn":90\},"user":\{"id":1,"name":"alice"\}\}$`)
			m := re.FindStringSubmatch(a.Body)
			if m == nil {
				t.Fatalf("body %s does not have the login shape", a.Body)
			}
			h, _ := segments(t, m[1])
			if h != `{"alg":"HS256","typ":"JWT"}` {
				t.Errorf("header %s", h)
			}
			c := claims(t, m[1])
			if num(t, c, "iat") != t0.Unix() || num(t, c, "exp")-num(t, c, "iat") != 90 {
				t.Errorf("iat/exp = %v/%v, want %d and +90", c["iat"], c["exp"], t0.Unix())
			}
			if c["sub"] != "alice" || c["scope"] != "read" || c["jti"] == "" {
				t.Errorf("claims %v", c)
			}
		})
	}
	if got := s.Logins(); got != int64(len(tests)) {
		t.Errorf("Logins() = %d, want %d", got, len(tests))
	}
}

func TestGenericRefresh(t *testing.T) {
	const invalid = `{"statusCode":401,"message":"Refresh token is invalid or expired","error":"Unauthorized"}`
	refresh := func(t *testing.T, s *jwttest.Server, rt string) answer {
		return postJSON(t, s.URL+"/auth/refresh", `{"refreshToken":"`+rt+`"}`)
	}
	t.Run("without rotation the same refresh token comes back", func(t *testing.T) {
		s, c := start(t, jwttest.Options{})
		tok, rt := genericLogin(t, s)
		c.Advance(time.Minute)
		a := refresh(t, s, rt)
		if a.Status != 200 {
			t.Fatalf("%d %s", a.Status, a.Body)
		}
		data := a.object(t)["data"].(map[string]any)
		if data["refreshToken"] != rt || data["token"] == tok {
			t.Fatalf("refresh answer %s", a.Body)
		}
		if num(t, claims(t, data["token"].(string)), "iat") != t0.Add(time.Minute).Unix() {
			t.Error("refreshed token not issued at the clock's time")
		}
		assertRefreshShape(t, refresh(t, s, rt), rt)
		if s.Refreshes() != 2 || s.LastRefreshToken() != rt {
			t.Errorf("Refreshes()=%d LastRefreshToken()=%q", s.Refreshes(), s.LastRefreshToken())
		}
	})
	t.Run("rotation invalidates the old token", func(t *testing.T) {
		s, _ := start(t, jwttest.Options{RotateRefresh: true})
		_, rt := genericLogin(t, s)
		a := refresh(t, s, rt)
		newRT := a.object(t)["data"].(map[string]any)["refreshToken"].(string)
		if newRT == rt || s.LastRefreshToken() != newRT {
			t.Fatalf("no rotation: %s", a.Body)
		}
		refresh(t, s, rt).expect(t, 401, invalid)
		if a := refresh(t, s, newRT); a.Status != 200 {
			t.Fatalf("rotated token rejected: %s", a.Body)
		}
	})
	t.Run("RevokeRefresh", func(t *testing.T) {
		s, _ := start(t, jwttest.Options{})
		tok, rt := genericLogin(t, s)
		s.RevokeRefresh()
		refresh(t, s, rt).expect(t, 401, invalid)
		if a := get(t, s.URL+"/api/me", "Authorization", "Bearer "+tok); a.Status != 200 {
			t.Fatalf("RevokeRefresh revoked the access token: %d", a.Status)
		}
	})
	t.Run("expiry follows the clock", func(t *testing.T) {
		s, c := start(t, jwttest.Options{RefreshTTL: time.Hour})
		_, rt := genericLogin(t, s)
		c.Advance(time.Hour - time.Second)
		if a := refresh(t, s, rt); a.Status != 200 {
			t.Fatalf("refresh before expiry: %d", a.Status)
		}
		c.Advance(time.Second)
		refresh(t, s, rt).expect(t, 401, invalid)
	})
	t.Run("missing and unknown", func(t *testing.T) {
		s, _ := start(t, jwttest.Options{})
		postJSON(t, s.URL+"/auth/refresh", `{}`).expect(t, 400,
			`{"statusCode":400,"message":"refreshToken is required","error":"Bad Request"}`)
		refresh(t, s, "rt_nope").expect(t, 401, invalid)
	})
}

// assertRefreshShape checks a generic refresh answer that must carry rt.
func assertRefreshShape(t *testing.T, a answer, rt string) {
	t.Helper()
	re := regexp.MustCompile(`^\{"data":\{"token":"[^"]+","refreshToken":"` + rt + `","expiresIn":3600\},"user":\{"id":1,"name":"alice"\}\}$`)
	if a.Status != 200 || !re.MatchString(a.Body) {
		t.Fatalf("refresh answer %d %s", a.Status, a.Body)
	}
}

func TestBearerChallenges(t *testing.T) {
	const (
		realm      = `Bearer realm="api"`
		expired    = `Bearer realm="api", error="invalid_token", error_description="The access token expired"`
		invalid    = `Bearer realm="api", error="invalid_token", error_description="The access token is invalid"`
		unauthBody = `{"statusCode":401,"message":"Unauthorized"}`
	)
	type prep func(t *testing.T, s *jwttest.Server, c *clock) string // returns the Authorization header
	valid := func(t *testing.T, s *jwttest.Server, _ *clock) string {
		tok, _ := genericLogin(t, s)
		return "Bearer " + tok
	}
	tests := []struct {
		name    string
		path    string
		authz   prep
		status  int
		www     string // "" means the header must be absent
		body    string // exact; "*" means any
		checkOK bool
	}{
		{"no credentials", "/api/me", nil, 401, realm, unauthBody, false},
		{"other scheme is no credentials", "/api/me",
			func(*testing.T, *jwttest.Server, *clock) string { return basic("alice", "wonderland") }, 401, realm, unauthBody, false},
		{"valid", "/api/me", valid, 200, "", "*", true},
		{"scheme is case-insensitive", "/api/me", func(t *testing.T, s *jwttest.Server, c *clock) string {
			return "bearer " + strings.TrimPrefix(valid(t, s, c), "Bearer ")
		}, 200, "", "*", true},
		{"one second before exp", "/api/me", func(t *testing.T, s *jwttest.Server, c *clock) string {
			h := valid(t, s, c)
			c.Advance(time.Hour - time.Second)
			return h
		}, 200, "", "*", true},
		{"expired at exp", "/api/me", func(t *testing.T, s *jwttest.Server, c *clock) string {
			h := valid(t, s, c)
			c.Advance(time.Hour)
			return h
		}, 401, expired, unauthBody, false},
		{"bad signature", "/api/me", func(t *testing.T, s *jwttest.Server, c *clock) string {
			return "Bearer " + forge(t, strings.TrimPrefix(valid(t, s, c), "Bearer "))
		}, 401, invalid, unauthBody, false},
		{"revoked", "/api/me", func(t *testing.T, s *jwttest.Server, c *clock) string {
			h := valid(t, s, c)
			s.RevokeAccess()
			return h
		}, 401, invalid, unauthBody, false},
		{"garbage", "/api/me", func(*testing.T, *jwttest.Server, *clock) string { return "Bearer abc" },
			401, invalid, unauthBody, false},
		{"malformed header", "/api/me", func(*testing.T, *jwttest.Server, *clock) string { return "Bearer" },
			400, `Bearer realm="api", error="invalid_request", error_description="The Authorization header is malformed"`,
			`{"statusCode":400,"message":"Bad Request"}`, false},
		{"admin without the scope", "/api/admin", valid, 403,
			`Bearer realm="api", error="insufficient_scope", scope="admin"`, `{"statusCode":403,"message":"Forbidden"}`, false},
		{"admin with an OAuth2 admin token", "/api/admin", func(t *testing.T, s *jwttest.Server, _ *clock) string {
			return "Bearer " + oauthLogin(t, s, url.Values{"scope": {"read admin"}})["access_token"].(string)
		}, 200, "", "*", true},
		{"admin with an OAuth2 read token", "/api/admin", func(t *testing.T, s *jwttest.Server, _ *clock) string {
			return "Bearer " + oauthLogin(t, s, url.Values{"scope": {"read"}})["access_token"].(string)
		}, 403, `Bearer realm="api", error="insufficient_scope", scope="admin"`, `{"statusCode":403,"message":"Forbidden"}`, false},
		{"admin without credentials", "/api/admin", nil, 401, realm, unauthBody, false},
		{"quiet without credentials", "/api/quiet", nil, 401, "", "", false},
		{"quiet expired", "/api/quiet", func(t *testing.T, s *jwttest.Server, c *clock) string {
			h := valid(t, s, c)
			c.Advance(2 * time.Hour)
			return h
		}, 401, "", "", false},
		{"quiet bad signature", "/api/quiet", func(t *testing.T, s *jwttest.Server, c *clock) string {
			return "Bearer " + forge(t, strings.TrimPrefix(valid(t, s, c), "Bearer "))
		}, 401, "", "", false},
		{"quiet valid", "/api/quiet", valid, 200, "", "*", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, c := start(t, jwttest.Options{})
			var hdr []string
			var authz string
			if tc.authz != nil {
				authz = tc.authz(t, s, c)
				hdr = []string{"Authorization", authz}
			}
			a := get(t, s.URL+tc.path, hdr...)
			if a.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", a.Status, tc.status, a.Body)
			}
			if got := a.Header.Values("WWW-Authenticate"); (tc.www == "" && len(got) != 0) || (tc.www != "" && (len(got) != 1 || got[0] != tc.www)) {
				t.Fatalf("WWW-Authenticate = %q, want %q", got, tc.www)
			}
			if tc.body != "*" && a.Body != tc.body {
				t.Fatalf("body %q, want %q", a.Body, tc.body)
			}
			if tc.body == "" && a.Header.Get("Content-Type") != "" {
				t.Errorf("a bare 401 has Content-Type %q", a.Header.Get("Content-Type"))
			}
			if tc.checkOK {
				tok := strings.Fields(authz)[1]
				m := a.object(t)
				cl := claims(t, tok)
				if m["user"] != cl["sub"] || m["jti"] != cl["jti"] {
					t.Fatalf("answer %s does not describe token %v", a.Body, cl)
				}
			}
		})
	}
}

func TestBrokenEndpoints(t *testing.T) {
	s, _ := start(t, jwttest.Options{})
	a := postJSON(t, s.URL+"/broken/html", `{"username":"alice","password":"wonderland"}`)
	if a.Status != 200 || a.Header.Get("Content-Type") != "text/html; charset=UTF-8" ||
		!strings.HasPrefix(a.Body, "<!DOCTYPE html><html><head><title>Login</title>") {
		t.Fatalf("/broken/html: %d %q %s", a.Status, a.Header.Get("Content-Type"), a.Body)
	}
	a = postJSON(t, s.URL+"/broken/shape", `{"username":"alice","password":"wonderland"}`)
	m := regexp.MustCompile(`^\{"data":\{"jwt":"([^"]+)","user":\{"id":1,"email":"alice@example.com"\}\}\}$`).FindStringSubmatch(a.Body)
	if a.Status != 200 || m == nil {
		t.Fatalf("/broken/shape: %d %s", a.Status, a.Body)
	}
	if len(strings.Split(m[1], ".")) != 3 {
		t.Errorf("jwt %q", m[1])
	}
	postJSON(t, s.URL+"/broken/malformed", `{}`).expect(t, 200,
		`{"data":{"token":"eyJhbGciOiJIUzI1NiJ9.%%%.x","expiresIn":60}}`)
	if s.Logins() != 3 {
		t.Errorf("Logins() = %d, want 3", s.Logins())
	}
}

// --- WordPress (Tmeister) --------------------------------------------------

func TestWordPressToken(t *testing.T) {
	const ttl = 7 * 24 * time.Hour
	s, _ := start(t, jwttest.Options{AccessTTL: ttl})
	tokenURL := s.URL + "/wp-json/jwt-auth/v1/token"
	lost := phpEscape(` <a href="` + s.URL + `/wp-login.php?action=lostpassword">Lost your password?</a>`)
	wpErr := func(code, msg string) string {
		return `{"code":"` + code + `","message":"` + msg + `","data":{"status":403}}`
	}
	tests := []struct {
		name   string
		do     func(t *testing.T) answer
		status int
		body   string // exact; "" for a success
	}{
		{"json body", func(t *testing.T) answer {
			return postJSON(t, tokenURL, `{"username":"alice","password":"wonderland"}`)
		}, 200, ""},
		{"form body", func(t *testing.T) answer { return postForm(t, tokenURL, creds) }, 200, ""},
		{"query string", func(t *testing.T) answer {
			return call(t, "POST", tokenURL+"?"+creds.Encode(), "", "")
		}, 200, ""},
		{"email as username", func(t *testing.T) answer {
			return postForm(t, tokenURL, url.Values{"username": {"alice@example.com"}, "password": {"wonderland"}})
		}, 200, ""},
		{"login is case-insensitive", func(t *testing.T) answer {
			return postForm(t, tokenURL, url.Values{"username": {"ALICE"}, "password": {"wonderland"}})
		}, 200, ""},
		{"plain permalinks", func(t *testing.T) answer {
			return postForm(t, s.URL+"/?rest_route=/jwt-auth/v1/token", creds)
		}, 200, ""},
		{"incorrect_password", func(t *testing.T) answer {
			return postForm(t, tokenURL, url.Values{"username": {"alice"}, "password": {"nope"}})
		}, 403, wpErr("[jwt_auth] incorrect_password",
			`<strong>Error:<\/strong> The password you entered for the username <strong>alice<\/strong> is incorrect.`+strings.ReplaceAll(lost, `"`, `\"`))},
		{"incorrect_password by email", func(t *testing.T) answer {
			return postForm(t, tokenURL, url.Values{"username": {"alice@example.com"}, "password": {"nope"}})
		}, 403, wpErr("[jwt_auth] incorrect_password",
			`<strong>Error:<\/strong> The password you entered for the email address <strong>alice@example.com<\/strong> is incorrect.`+strings.ReplaceAll(lost, `"`, `\"`))},
		{"invalid_username", func(t *testing.T) answer {
			return postJSON(t, tokenURL, `{"username":"bob","password":"x"}`)
		}, 403, wpErr("[jwt_auth] invalid_username",
			`<strong>Error:<\/strong> The username <strong>bob<\/strong> is not registered on this site. If you are unsure of your username, try your email address instead.`)},
		{"invalid_email", func(t *testing.T) answer {
			return postJSON(t, tokenURL, `{"username":"bob@example.com","password":"x"}`)
		}, 403, wpErr("[jwt_auth] invalid_email", `Unknown email address. Check again or try your username.`)},
		{"empty_username", func(t *testing.T) answer {
			return postJSON(t, tokenURL, `{"password":"wonderland"}`)
		}, 403, wpErr("[jwt_auth] empty_username", `<strong>Error:<\/strong> The username field is empty.`)},
		{"empty_password", func(t *testing.T) answer {
			return postJSON(t, tokenURL, `{"username":"alice","password":""}`)
		}, 403, wpErr("[jwt_auth] empty_password", `<strong>Error:<\/strong> The password field is empty.`)},
		{"GET is no route", func(t *testing.T) answer { return get(t, tokenURL+"?"+creds.Encode()) }, 404,
			`{"code":"rest_no_route","message":"No route was found matching the URL and request method.","data":{"status":404}}`},
		{"invalid JSON", func(t *testing.T) answer { return postJSON(t, tokenURL, `{"username":`) }, 400,
			`{"code":"rest_invalid_json","message":"Invalid JSON body passed.","data":{"status":400,"json_error_code":4,"json_error_message":"Syntax error"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.do(t)
			a.expectJSONType(t, "application/json; charset=UTF-8")
			if tc.body != "" {
				a.expect(t, tc.status, tc.body)
				return
			}
			m := regexp.MustCompile(`^\{"token":"([^"]+)","user_email":"alice@example.com","user_nicename":"alice","user_display_name":"alice"\}$`).FindStringSubmatch(a.Body)
			if a.Status != 200 || m == nil {
				t.Fatalf("%d %s", a.Status, a.Body)
			}
			if raw := strings.Split(m[1], ".")[0]; raw != "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9" {
				t.Errorf("header segment %s, want php-jwt's {\"typ\":\"JWT\",\"alg\":\"HS256\"}", raw)
			}
			_, payload := segments(t, m[1])
			iat := t0.Unix()
			want := `{"iss":"` + s.URL + `","iat":` + strconv.FormatInt(iat, 10) + `,"nbf":` + strconv.FormatInt(iat, 10) +
				`,"exp":` + strconv.FormatInt(iat+int64(ttl/time.Second), 10) + `,"data":{"user":{"id":"1"}}}`
			if payload != want {
				t.Errorf("payload\n got %s\nwant %s", payload, want)
			}
		})
	}
}

func TestWordPressProtected(t *testing.T) {
	const (
		notLoggedIn = `{"code":"rest_not_logged_in","message":"You are not currently logged in.","data":{"status":401}}`
		noRoute     = `{"code":"rest_no_route","message":"No route was found matching the URL and request method.","data":{"status":404}}`
	)
	invalidToken := func(msg string) string {
		return `{"code":"jwt_auth_invalid_token","message":"` + msg + `","data":{"status":403}}`
	}
	type prep func(t *testing.T, s *jwttest.Server, c *clock) string
	valid := func(t *testing.T, s *jwttest.Server, _ *clock) string { return "Bearer " + wpLogin(t, s, "") }
	expired := func(t *testing.T, s *jwttest.Server, c *clock) string {
		h := valid(t, s, c)
		c.Advance(time.Hour)
		return h
	}
	tests := []struct {
		name, method, path string
		authz              prep
		status             int
		body               string
	}{
		{"valid", "GET", "/wp-json/wp/v2/users/me", valid, 200, `{"id":1,"name":"alice","slug":"alice"}`},
		{"trailing slash and case", "GET", "/wp-json/WP/v2/users/me/", valid, 200, `{"id":1,"name":"alice","slug":"alice"}`},
		{"no credentials", "GET", "/wp-json/wp/v2/users/me", nil, 401, notLoggedIn},
		{"lowercase bearer is no token", "GET", "/wp-json/wp/v2/users/me", func(t *testing.T, s *jwttest.Server, c *clock) string {
			return "bearer " + wpLogin(t, s, "")
		}, 401, notLoggedIn},
		{"basic is skipped", "GET", "/wp-json/wp/v2/users/me", func(*testing.T, *jwttest.Server, *clock) string {
			return basic("alice", "wonderland")
		}, 401, notLoggedIn},
		{"expired", "GET", "/wp-json/wp/v2/users/me", expired, 403, invalidToken("Expired token")},
		{"bad signature", "GET", "/wp-json/wp/v2/users/me", func(t *testing.T, s *jwttest.Server, c *clock) string {
			return "Bearer " + forge(t, wpLogin(t, s, ""))
		}, 403, invalidToken("Signature verification failed")},
		{"revoked", "GET", "/wp-json/wp/v2/users/me", func(t *testing.T, s *jwttest.Server, c *clock) string {
			h := valid(t, s, c)
			s.RevokeAccess()
			return h
		}, 403, invalidToken("Signature verification failed")},
		{"two segments", "GET", "/wp-json/wp/v2/users/me", func(*testing.T, *jwttest.Server, *clock) string {
			return "Bearer abc.def"
		}, 403, invalidToken("Wrong number of segments")},
		{"token of the other plugin", "GET", "/wp-json/wp/v2/users/me", func(t *testing.T, s *jwttest.Server, _ *clock) string {
			return "Bearer " + wpLogin(t, s, "/alt")
		}, 403, invalidToken("Signature verification failed")},
		{"Bearer without token", "GET", "/wp-json/wp/v2/users/me", func(*testing.T, *jwttest.Server, *clock) string {
			return "Bearer"
		}, 403, `{"code":"jwt_auth_bad_auth_header","message":"Authorization header malformed.","data":{"status":403}}`},
		{"bad token fails any route", "GET", "/wp-json/wp/v2/posts", expired, 403, invalidToken("Expired token")},
		{"bad token fails even the login", "POST", "/wp-json/jwt-auth/v1/token?username=alice&password=wonderland",
			expired, 403, invalidToken("Expired token")},
		{"valid token, unknown route", "GET", "/wp-json/wp/v2/posts", valid, 404, noRoute},
		{"validate ok", "POST", "/wp-json/jwt-auth/v1/token/validate", valid, 200,
			`{"code":"jwt_auth_valid_token","data":{"status":200}}`},
		{"validate without header", "POST", "/wp-json/jwt-auth/v1/token/validate", nil, 403,
			`{"code":"jwt_auth_no_auth_header","message":"Authorization header not found.","data":{"status":403}}`},
		{"validate lowercase bearer", "POST", "/wp-json/jwt-auth/v1/token/validate", func(t *testing.T, s *jwttest.Server, c *clock) string {
			return "bearer " + wpLogin(t, s, "")
		}, 403, `{"code":"jwt_auth_bad_auth_header","message":"Authorization header malformed.","data":{"status":403}}`},
		{"validate expired", "POST", "/wp-json/jwt-auth/v1/token/validate", expired, 403, invalidToken("Expired token")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, c := start(t, jwttest.Options{})
			var hdr []string
			if tc.authz != nil {
				hdr = []string{"Authorization", tc.authz(t, s, c)}
			}
			a := call(t, tc.method, s.URL+tc.path, "", "", hdr...)
			a.expect(t, tc.status, tc.body)
			if a.Header.Get("WWW-Authenticate") != "" {
				t.Errorf("WordPress sent WWW-Authenticate %q", a.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

// --- usefulteam/jwt-auth (/alt) --------------------------------------------

func TestUsefulTeam(t *testing.T) {
	s, c := start(t, jwttest.Options{AccessTTL: 10 * time.Minute})
	base := s.URL + "/alt/wp-json/jwt-auth/v1"

	a := postForm(t, base+"/token", creds)
	m := regexp.MustCompile(`^\{"success":true,"statusCode":200,"code":"jwt_auth_valid_credential","message":"Credential is valid","data":\{"token":"([^"]+)","id":1,"email":"alice@example.com","nicename":"alice","firstName":"","lastName":"","displayName":"alice"\}\}$`).FindStringSubmatch(a.Body)
	if a.Status != 200 || m == nil {
		t.Fatalf("login: %d %s", a.Status, a.Body)
	}
	tok := m[1]
	h, p := segments(t, tok)
	wantP := `{"iss":"` + s.URL + `/alt","iat":` + strconv.FormatInt(t0.Unix(), 10) + `,"nbf":` +
		strconv.FormatInt(t0.Unix(), 10) + `,"exp":` + strconv.FormatInt(t0.Unix()+600, 10) + `,"data":{"user":{"id":1}}}`
	if h != `{"typ":"JWT","alg":"HS256"}` || p != wantP {
		t.Fatalf("token\n got %s %s\nwant %s", h, p, wantP)
	}
	cookie := refreshCookie(t, a)
	if !regexp.MustCompile(`^1\.[0-9a-f]{64}$`).MatchString(cookie.Value) || cookie.Path != "/alt/" || !cookie.HttpOnly {
		t.Fatalf("refresh cookie %+v", cookie)
	}
	if s.LastRefreshToken() != cookie.Value {
		t.Errorf("LastRefreshToken() = %q", s.LastRefreshToken())
	}

	postForm(t, base+"/token", url.Values{"username": {"alice"}, "password": {"nope"}}).expect(t, 401,
		`{"success":false,"statusCode":401,"code":"incorrect_password","message":"Error: The password you entered for the username alice is incorrect. Lost your password?","data":[]}`)
	postForm(t, base+"/token/validate", nil, "Authorization", "Bearer "+tok).expect(t, 200,
		`{"success":true,"statusCode":200,"code":"jwt_auth_valid_token","message":"Token is valid","data":[]}`)
	postForm(t, base+"/token/validate", nil).expect(t, 401,
		`{"success":false,"statusCode":401,"code":"jwt_auth_no_auth_header","message":"Authorization header not found.","data":[]}`)
	get(t, s.URL+"/alt/wp-json/wp/v2/users/me", "Authorization", "Bearer "+tok).expect(t, 200, `{"id":1,"name":"alice","slug":"alice"}`)

	// Refresh through the cookie: always rotated, the old one is obsolete.
	withCookie := func(v string) []string { return []string{"Cookie", "refresh_token=" + v} }
	postForm(t, base+"/token/refresh", nil).expect(t, 401,
		`{"success":false,"statusCode":401,"code":"jwt_auth_no_auth_cookie","message":"Refresh token cookie not found."}`)
	a = postForm(t, base+"/token/refresh", nil, withCookie(cookie.Value)...)
	a.expect(t, 200, `{"success":true,"statusCode":200,"code":"jwt_auth_valid_token","message":"Token is valid"}`)
	next := refreshCookie(t, a)
	if next.Value == cookie.Value || s.LastRefreshToken() != next.Value {
		t.Fatalf("cookie not rotated: %q", next.Value)
	}
	postForm(t, base+"/token/refresh", nil, withCookie(cookie.Value)...).expect(t, 401,
		`{"success":false,"statusCode":401,"code":"jwt_auth_obsolete_refresh_token","message":"Refresh token is obsolete"}`)
	if s.Refreshes() != 3 {
		t.Errorf("Refreshes() = %d, want 3", s.Refreshes())
	}

	// The cookie on /token yields a fresh access token, without credentials.
	c.Advance(11 * time.Minute)
	postForm(t, base+"/token/validate", nil, "Authorization", "Bearer "+tok).expect(t, 401,
		`{"success":false,"statusCode":401,"code":"jwt_auth_invalid_token","message":"Expired token","data":[]}`)
	get(t, s.URL+"/alt/wp-json/wp/v2/users/me", "Authorization", "Bearer "+tok).expect(t, 401,
		`{"code":"rest_not_logged_in","message":"You are not currently logged in.","data":{"status":401}}`)
	a = postForm(t, base+"/token", nil, withCookie(next.Value)...)
	if a.Status != 200 || !strings.Contains(a.Body, `"code":"jwt_auth_valid_credential"`) {
		t.Fatalf("token from cookie: %d %s", a.Status, a.Body)
	}

	s.RevokeRefresh()
	postForm(t, base+"/token/refresh", nil, withCookie(next.Value)...).expect(t, 401,
		`{"success":false,"statusCode":401,"code":"jwt_auth_invalid_refresh_token","message":"Invalid refresh token"}`)
}

func refreshCookie(t *testing.T, a answer) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: a.Header}).Cookies() {
		if c.Name == "refresh_token" {
			return c
		}
	}
	t.Fatalf("no refresh_token cookie in %v", a.Header)
	return nil
}

// --- json-server-auth ------------------------------------------------------

func TestJSONServerAuthLogin(t *testing.T) {
	s, _ := start(t, jwttest.Options{})
	a := postJSON(t, s.URL+"/login", `{"email":"alice@example.com","password":"wonderland"}`)
	m := regexp.MustCompile(`^\{"accessToken":"([^"]+)","user":\{"email":"alice@example.com","id":1\}\}$`).FindStringSubmatch(a.Body)
	if a.Status != 200 || m == nil {
		t.Fatalf("%d %s", a.Status, a.Body)
	}
	h, p := segments(t, m[1])
	want := `{"email":"alice@example.com","iat":` + strconv.FormatInt(t0.Unix(), 10) + `,"exp":` +
		strconv.FormatInt(t0.Unix()+3600, 10) + `,"sub":"1"}`
	if h != `{"alg":"HS256","typ":"JWT"}` || p != want {
		t.Fatalf("token %s %s, want payload %s", h, p, want)
	}
	// Signed with json-server-auth's well-known default secret.
	if _, err := jwt.Parse(m[1], func(*jwt.Token) (any, error) { return []byte("json-server-auth-123456"), nil },
		jwt.WithTimeFunc(func() time.Time { return t0 })); err != nil {
		t.Fatalf("not signed with json-server-auth-123456: %v", err)
	}

	tests := []struct{ name, body, want string }{
		{"nothing", `{}`, `"Email and password are required"`},
		{"blank password", `{"email":"alice@example.com","password":"  "}`, `"Email and password are required"`},
		{"not an email", `{"email":"alice","password":"wonderland"}`, `"Email format is invalid"`},
		{"short password", `{"email":"alice@example.com","password":"abc"}`, `"Password is too short"`},
		{"unknown", `{"email":"bob@example.com","password":"wonderland"}`, `"Cannot find user"`},
		{"wrong password", `{"email":"alice@example.com","password":"wonderlan"}`, `"Incorrect password"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := postJSON(t, s.URL+"/login", tc.body)
			a.expect(t, 400, tc.want)
			a.expectJSONType(t, "application/json; charset=UTF-8")
		})
	}
	if a := postForm(t, s.URL+"/signin", url.Values{"email": {"alice@example.com"}, "password": {"wonderland"}}); a.Status != 200 {
		t.Fatalf("/signin with a form: %d %s", a.Status, a.Body)
	}
}

func TestJSONServerAuthGuards(t *testing.T) {
	type prep func(t *testing.T, s *jwttest.Server, c *clock) string
	valid := func(t *testing.T, s *jwttest.Server, _ *clock) string {
		a := postJSON(t, s.URL+"/login", `{"email":"alice@example.com","password":"wonderland"}`)
		return "Bearer " + a.object(t)["accessToken"].(string)
	}
	lit := func(h string) prep { return func(*testing.T, *jwttest.Server, *clock) string { return h } }
	tests := []struct {
		name, method, path string
		authz              prep
		status             int
		body               string
	}{
		{"660 valid", "GET", "/660/posts", valid, 200, `[]`},
		{"660 no header", "GET", "/660/posts", nil, 401, `"Missing authorization header"`},
		{"660 basic", "GET", "/660/posts", lit(basic("alice", "wonderland")), 401, `"Incorrect authorization scheme"`},
		{"660 lowercase bearer", "GET", "/660/posts", func(t *testing.T, s *jwttest.Server, c *clock) string {
			return "bearer " + strings.TrimPrefix(valid(t, s, c), "Bearer ")
		}, 401, `"Incorrect authorization scheme"`},
		{"660 no token", "GET", "/660/posts", lit("Bearer"), 401, `"Missing token"`},
		{"660 malformed", "GET", "/660/posts", lit("Bearer abc"), 401, `"jwt malformed"`},
		{"660 expired", "GET", "/660/posts", func(t *testing.T, s *jwttest.Server, c *clock) string {
			h := valid(t, s, c)
			c.Advance(time.Hour)
			return h
		}, 401, `"jwt expired"`},
		{"660 bad signature", "GET", "/660/posts", func(t *testing.T, s *jwttest.Server, c *clock) string {
			return "Bearer " + forge(t, strings.TrimPrefix(valid(t, s, c), "Bearer "))
		}, 401, `"invalid signature"`},
		{"660 revoked", "GET", "/660/posts", func(t *testing.T, s *jwttest.Server, c *clock) string {
			h := valid(t, s, c)
			s.RevokeAccess()
			return h
		}, 401, `"invalid signature"`},
		{"664 read is public", "GET", "/664/posts", nil, 200, `[]`},
		{"664 read ignores a bad token", "GET", "/664/posts", lit("Bearer abc"), 200, `[]`},
		{"664 write needs a login", "POST", "/664/posts", nil, 401, `"Missing authorization header"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, c := start(t, jwttest.Options{})
			var hdr []string
			if tc.authz != nil {
				hdr = []string{"Authorization", tc.authz(t, s, c)}
			}
			call(t, tc.method, s.URL+tc.path, "application/json", `{"title":"x"}`, hdr...).expect(t, tc.status, tc.body)
		})
	}
}

// --- SimpleJWT -------------------------------------------------------------

func djLogin(t *testing.T, s *jwttest.Server) (access, refresh string) {
	t.Helper()
	a := postJSON(t, s.URL+"/api/token/", `{"username":"alice","password":"wonderland"}`)
	m := regexp.MustCompile(`^\{"refresh":"([^"]+)","access":"([^"]+)"\}$`).FindStringSubmatch(a.Body)
	if a.Status != 200 || m == nil {
		t.Fatalf("obtain: %d %s", a.Status, a.Body)
	}
	return m[2], m[1]
}

func TestSimpleJWTObtain(t *testing.T) {
	s, _ := start(t, jwttest.Options{AccessTTL: 5 * time.Minute, RefreshTTL: 24 * time.Hour})
	access, refresh := djLogin(t, s)
	iat := strconv.FormatInt(t0.Unix(), 10)
	for _, tc := range []struct {
		tok, typ string
		ttl      int64
	}{{access, "access", 300}, {refresh, "refresh", 86400}} {
		h, p := segments(t, tc.tok)
		re := regexp.MustCompile(`^\{"token_type":"` + tc.typ + `","exp":` + strconv.FormatInt(t0.Unix()+tc.ttl, 10) +
			`,"iat":` + iat + `,"jti":"[0-9a-f]{32}","user_id":1\}$`)
		if h != `{"alg":"HS256","typ":"JWT"}` || !re.MatchString(p) {
			t.Errorf("%s token: %s %s", tc.typ, h, p)
		}
	}
	if s.LastRefreshToken() != refresh {
		t.Error("LastRefreshToken is not the SimpleJWT refresh token")
	}

	a := postJSON(t, s.URL+"/api/token/", `{"username":"alice","password":"nope"}`)
	a.expect(t, 401, `{"detail":"No active account found with the given credentials"}`)
	if a.Header.Get("WWW-Authenticate") != `Bearer realm="api"` {
		t.Errorf("WWW-Authenticate %q", a.Header.Get("WWW-Authenticate"))
	}
	postJSON(t, s.URL+"/api/token/", `{}`).expect(t, 400,
		`{"username":["This field is required."],"password":["This field is required."]}`)
	postJSON(t, s.URL+"/api/token/", `{"username":"alice","password":""}`).expect(t, 400,
		`{"password":["This field may not be blank."]}`)
	a = get(t, s.URL+"/api/token/")
	a.expect(t, 405, `{"detail":"Method \"GET\" not allowed."}`)
	if a.Header.Get("Allow") != "POST, OPTIONS" {
		t.Errorf("Allow %q", a.Header.Get("Allow"))
	}
	a = postJSON(t, s.URL+"/api/token", `{"username":"alice","password":"wonderland"}`)
	if a.Status != 301 || a.Header.Get("Location") != "/api/token/" {
		t.Errorf("APPEND_SLASH: %d %q", a.Status, a.Header.Get("Location"))
	}
	if s.Logins() != 4 {
		t.Errorf("Logins() = %d, want 4 (the 405 and the redirect are no logins)", s.Logins())
	}
}

func TestSimpleJWTRefresh(t *testing.T) {
	notValid := func(msg string) string { return `{"detail":"` + msg + `","code":"token_not_valid"}` }
	refresh := func(t *testing.T, s *jwttest.Server, rt string) answer {
		return postJSON(t, s.URL+"/api/token/refresh/", `{"refresh":"`+rt+`"}`)
	}
	t.Run("without rotation only access comes back", func(t *testing.T) {
		s, _ := start(t, jwttest.Options{})
		_, rt := djLogin(t, s)
		a := refresh(t, s, rt)
		if a.Status != 200 || !regexp.MustCompile(`^\{"access":"[^"]+"\}$`).MatchString(a.Body) {
			t.Fatalf("%d %s", a.Status, a.Body)
		}
		if a := refresh(t, s, rt); a.Status != 200 {
			t.Fatalf("second refresh: %d %s", a.Status, a.Body)
		}
		if s.Refreshes() != 2 {
			t.Errorf("Refreshes() = %d", s.Refreshes())
		}
	})
	t.Run("rotation blacklists the old token", func(t *testing.T) {
		s, _ := start(t, jwttest.Options{RotateRefresh: true})
		_, rt := djLogin(t, s)
		a := refresh(t, s, rt)
		m := regexp.MustCompile(`^\{"access":"[^"]+","refresh":"([^"]+)"\}$`).FindStringSubmatch(a.Body)
		if a.Status != 200 || m == nil || m[1] == rt || s.LastRefreshToken() != m[1] {
			t.Fatalf("%d %s", a.Status, a.Body)
		}
		refresh(t, s, rt).expect(t, 401, notValid("Token is blacklisted"))
		if a := refresh(t, s, m[1]); a.Status != 200 {
			t.Fatalf("rotated token: %d %s", a.Status, a.Body)
		}
	})
	tests := []struct {
		name string
		prep func(t *testing.T, s *jwttest.Server, c *clock) string
		body string
	}{
		{"garbage", func(*testing.T, *jwttest.Server, *clock) string { return "abc" }, notValid("Token is invalid")},
		{"bad signature", func(t *testing.T, s *jwttest.Server, _ *clock) string {
			_, rt := djLogin(t, s)
			return forge(t, rt)
		}, notValid("Token is invalid")},
		{"expired", func(t *testing.T, s *jwttest.Server, c *clock) string {
			_, rt := djLogin(t, s)
			c.Advance(24 * time.Hour)
			return rt
		}, notValid("Token is expired")},
		{"access token", func(t *testing.T, s *jwttest.Server, _ *clock) string {
			at, _ := djLogin(t, s)
			return at
		}, notValid("Token has wrong type")},
		{"RevokeRefresh", func(t *testing.T, s *jwttest.Server, _ *clock) string {
			_, rt := djLogin(t, s)
			s.RevokeRefresh()
			return rt
		}, notValid("Token is blacklisted")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, c := start(t, jwttest.Options{})
			a := refresh(t, s, tc.prep(t, s, c))
			a.expect(t, 401, tc.body)
			if a.Header.Get("WWW-Authenticate") != `Bearer realm="api"` {
				t.Errorf("WWW-Authenticate %q", a.Header.Get("WWW-Authenticate"))
			}
		})
	}
	t.Run("missing field", func(t *testing.T) {
		s, _ := start(t, jwttest.Options{})
		postJSON(t, s.URL+"/api/token/refresh/", `{}`).expect(t, 400, `{"refresh":["This field is required."]}`)
	})
}

func TestSimpleJWTProtected(t *testing.T) {
	invalid := func(msg string) string {
		return `{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"` + msg + `"}]}`
	}
	tests := []struct {
		name   string
		prep   func(t *testing.T, s *jwttest.Server, c *clock) string
		status int
		body   string
	}{
		{"valid", func(t *testing.T, s *jwttest.Server, _ *clock) string {
			at, _ := djLogin(t, s)
			return "Bearer " + at
		}, 200, `{"id":1,"username":"alice","email":"alice@example.com"}`},
		{"no credentials", nil, 401, `{"detail":"Authentication credentials were not provided."}`},
		{"lowercase bearer is no credentials", func(t *testing.T, s *jwttest.Server, _ *clock) string {
			at, _ := djLogin(t, s)
			return "bearer " + at
		}, 401, `{"detail":"Authentication credentials were not provided."}`},
		{"three parts", func(*testing.T, *jwttest.Server, *clock) string { return "Bearer a b" }, 401,
			`{"detail":"Authorization header must contain two space-delimited values","code":"bad_authorization_header"}`},
		{"expired", func(t *testing.T, s *jwttest.Server, c *clock) string {
			at, _ := djLogin(t, s)
			c.Advance(time.Hour)
			return "Bearer " + at
		}, 401, invalid("Token is expired")},
		{"refresh token", func(t *testing.T, s *jwttest.Server, _ *clock) string {
			_, rt := djLogin(t, s)
			return "Bearer " + rt
		}, 401, invalid("Token has wrong type")},
		{"revoked", func(t *testing.T, s *jwttest.Server, _ *clock) string {
			at, _ := djLogin(t, s)
			s.RevokeAccess()
			return "Bearer " + at
		}, 401, invalid("Token is invalid")},
		{"generic API token", func(t *testing.T, s *jwttest.Server, _ *clock) string {
			tok, _ := genericLogin(t, s)
			return "Bearer " + tok
		}, 401, invalid("Token is invalid")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, c := start(t, jwttest.Options{})
			var hdr []string
			if tc.prep != nil {
				hdr = []string{"Authorization", tc.prep(t, s, c)}
			}
			a := get(t, s.URL+"/api/user/", hdr...)
			a.expect(t, tc.status, tc.body)
			if www := a.Header.Get("WWW-Authenticate"); tc.status == 401 && www != `Bearer realm="api"` {
				t.Errorf("WWW-Authenticate %q", www)
			}
		})
	}
}

// --- OAuth2 ----------------------------------------------------------------

func TestOAuth2Success(t *testing.T) {
	s, _ := start(t, jwttest.Options{
		AccessTTL: 30 * time.Minute,
		Clients:   map[string]string{"cli": "s3cret-client", "my app": "p@ss:w/rd+"},
	})
	tokenURL := s.URL + "/oauth/token"
	tests := []struct {
		name        string
		form        url.Values
		authz       string
		sub, scope  string
		aud         string
		wantRefresh bool
	}{
		{"password grant, Basic auth", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"wonderland"}},
			basic("cli", "s3cret-client"), "alice", "read write admin", "", true},
		{"password grant, body auth", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"wonderland"},
			"client_id": {"cli"}, "client_secret": {"s3cret-client"}}, "", "alice", "read write admin", "", true},
		{"Basic credentials are form-urlencoded first", url.Values{"grant_type": {"client_credentials"}},
			basic("my app", "p@ss:w/rd+"), "my app", "read write admin", "", false},
		{"client_credentials has no refresh token", url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}},
			basic("cli", "s3cret-client"), "cli", "read", "", false},
		{"audience becomes aud", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"wonderland"},
			"scope": {"read write"}, "audience": {"https://api.example.com"}},
			basic("cli", "s3cret-client"), "alice", "read write", "https://api.example.com", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.authz != "" {
				hdr = []string{"Authorization", tc.authz}
			}
			a := postForm(t, tokenURL, tc.form, hdr...)
			if a.Status != 200 {
				t.Fatalf("%d %s", a.Status, a.Body)
			}
			assertNoStore(t, a)
			re := `^\{"access_token":"([^"]+)","token_type":"bearer","expires_in":1800,`
			if tc.wantRefresh {
				re += `"refresh_token":"[0-9a-f]{64}",`
			}
			re += `"scope":"` + tc.scope + `"\}$`
			m := regexp.MustCompile(re).FindStringSubmatch(a.Body)
			if m == nil {
				t.Fatalf("body %s does not match %s", a.Body, re)
			}
			c := claims(t, m[1])
			if c["sub"] != tc.sub || c["scope"] != tc.scope || num(t, c, "exp")-num(t, c, "iat") != 1800 ||
				c["jti"] == "" || c["client_id"] == "" {
				t.Errorf("claims %v", c)
			}
			if aud, has := c["aud"]; (tc.aud == "" && has) || (tc.aud != "" && aud != tc.aud) {
				t.Errorf("aud = %v, want %q", aud, tc.aud)
			}
			if a := get(t, s.URL+"/api/me", "Authorization", "Bearer "+m[1]); a.Status != 200 {
				t.Errorf("/api/me rejects the OAuth2 token: %d", a.Status)
			}
		})
	}
	if s.Logins() != int64(len(tests)) || s.Refreshes() != 0 {
		t.Errorf("Logins()=%d Refreshes()=%d", s.Logins(), s.Refreshes())
	}
}

func assertNoStore(t *testing.T, a answer) {
	t.Helper()
	if a.Header.Get("Cache-Control") != "no-store" || a.Header.Get("Pragma") != "no-cache" ||
		a.Header.Get("Content-Type") != "application/json;charset=UTF-8" {
		t.Fatalf("headers %v", a.Header)
	}
}

func TestOAuth2Errors(t *testing.T) {
	s, _ := start(t, jwttest.Options{Clients: map[string]string{"cli": "s3cret-client", "spa": ""}})
	tokenURL := s.URL + "/oauth/token"
	pw := url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"wonderland"}}
	with := func(v url.Values, kv ...string) url.Values {
		out := url.Values{}
		for k, vs := range v {
			out[k] = append([]string(nil), vs...)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Add(kv[i], kv[i+1])
		}
		return out
	}
	good := basic("cli", "s3cret-client")
	tests := []struct {
		name       string
		method, ct string
		body       string
		authz      string
		status     int
		code       string
		wwwBasic   bool
	}{
		{"wrong secret with Basic", "POST", "", pw.Encode(), basic("cli", "nope"), 401, "invalid_client", true},
		{"unknown client with Basic", "POST", "", pw.Encode(), basic("who", "s3cret-client"), 401, "invalid_client", true},
		{"wrong secret in the body", "POST", "", with(pw, "client_id", "cli", "client_secret", "nope").Encode(), "", 400, "invalid_client", false},
		{"no client authentication", "POST", "", pw.Encode(), "", 401, "invalid_client", true},
		{"both methods", "POST", "", with(pw, "client_id", "cli", "client_secret", "s3cret-client").Encode(), good, 400, "invalid_request", false},
		{"wrong user password", "POST", "", with(url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"x"}}).Encode(), good, 400, "invalid_grant", false},
		{"missing password", "POST", "", url.Values{"grant_type": {"password"}, "username": {"alice"}}.Encode(), good, 400, "invalid_request", false},
		{"missing grant_type", "POST", "", url.Values{"username": {"alice"}}.Encode(), good, 400, "invalid_request", false},
		{"unsupported grant", "POST", "", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:saml2-bearer"}, "assertion": {"x"}}.Encode(), good, 400, "unsupported_grant_type", false},
		{"unknown scope", "POST", "", with(pw, "scope", "read delete").Encode(), good, 400, "invalid_scope", false},
		{"duplicate parameter", "POST", "", pw.Encode() + "&username=bob", good, 400, "invalid_request", false},
		{"JSON body", "POST", "application/json", `{"grant_type":"password","username":"alice","password":"wonderland"}`, good, 400, "invalid_request", false},
		{"public client may not use client_credentials", "POST", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {"spa"}}.Encode(), "", 400, "unauthorized_client", false},
		{"unknown refresh token", "POST", "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}}.Encode(), good, 400, "invalid_grant", false},
		{"GET", "GET", "", "", good, 405, "invalid_request", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.ct
			if ct == "" && tc.method == "POST" {
				ct = "application/x-www-form-urlencoded"
			}
			var hdr []string
			if tc.authz != "" {
				hdr = []string{"Authorization", tc.authz}
			}
			a := call(t, tc.method, tokenURL, ct, tc.body, hdr...)
			if a.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", a.Status, tc.status, a.Body)
			}
			assertNoStore(t, a)
			m := a.object(t)
			if m["error"] != tc.code || m["error_description"] == "" || len(m) != 2 {
				t.Fatalf("body %s, want error %q", a.Body, tc.code)
			}
			www := a.Header.Get("WWW-Authenticate")
			if tc.wwwBasic && www != `Basic realm="oauth"` || !tc.wwwBasic && www != "" {
				t.Fatalf("WWW-Authenticate %q", www)
			}
		})
	}
	// The public client can use the password grant with its client_id alone.
	if a := postForm(t, tokenURL, with(pw, "client_id", "spa")); a.Status != 200 {
		t.Fatalf("public client password grant: %d %s", a.Status, a.Body)
	}
}

func TestOAuth2Refresh(t *testing.T) {
	refresh := func(t *testing.T, s *jwttest.Server, rt string, kv ...string) answer {
		v := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return postForm(t, s.URL+"/oauth/token", v, "Authorization", basic("cli", "s3cret-client"))
	}
	invalidGrant := func(t *testing.T, a answer) {
		t.Helper()
		if a.Status != 400 || a.object(t)["error"] != "invalid_grant" {
			t.Fatalf("want invalid_grant, got %d %s", a.Status, a.Body)
		}
		assertNoStore(t, a)
	}
	t.Run("without rotation", func(t *testing.T) {
		s, _ := start(t, jwttest.Options{})
		rt := oauthLogin(t, s, url.Values{"scope": {"read write"}})["refresh_token"].(string)
		a := refresh(t, s, rt)
		if a.Status != 200 || strings.Contains(a.Body, "refresh_token") || a.object(t)["scope"] != "read write" {
			t.Fatalf("%d %s", a.Status, a.Body)
		}
		// Narrowing the scope is allowed, widening it is not.
		if a := refresh(t, s, rt, "scope", "read"); a.Status != 200 || a.object(t)["scope"] != "read" {
			t.Fatalf("narrowed: %d %s", a.Status, a.Body)
		}
		if a := refresh(t, s, rt, "scope", "admin"); a.Status != 400 || a.object(t)["error"] != "invalid_scope" {
			t.Fatalf("widened: %d %s", a.Status, a.Body)
		}
		if s.Refreshes() != 3 || s.Logins() != 1 {
			t.Errorf("Refreshes()=%d Logins()=%d", s.Refreshes(), s.Logins())
		}
	})
	t.Run("rotation", func(t *testing.T) {
		s, _ := start(t, jwttest.Options{RotateRefresh: true})
		rt := oauthLogin(t, s, nil)["refresh_token"].(string)
		a := refresh(t, s, rt)
		next, _ := a.object(t)["refresh_token"].(string)
		if a.Status != 200 || next == "" || next == rt || s.LastRefreshToken() != next {
			t.Fatalf("%d %s", a.Status, a.Body)
		}
		invalidGrant(t, refresh(t, s, rt))
		if a := refresh(t, s, next); a.Status != 200 {
			t.Fatalf("rotated token: %d %s", a.Status, a.Body)
		}
	})
	t.Run("RevokeRefresh", func(t *testing.T) {
		s, _ := start(t, jwttest.Options{})
		rt := oauthLogin(t, s, nil)["refresh_token"].(string)
		s.RevokeRefresh()
		invalidGrant(t, refresh(t, s, rt))
	})
	t.Run("expiry follows the clock", func(t *testing.T) {
		s, c := start(t, jwttest.Options{RefreshTTL: 2 * time.Hour})
		rt := oauthLogin(t, s, nil)["refresh_token"].(string)
		c.Advance(2 * time.Hour)
		invalidGrant(t, refresh(t, s, rt))
	})
	t.Run("bound to its client", func(t *testing.T) {
		s, _ := start(t, jwttest.Options{Clients: map[string]string{"cli": "s3cret-client", "other": "x"}})
		rt := oauthLogin(t, s, nil)["refresh_token"].(string)
		a := postForm(t, s.URL+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}},
			"Authorization", basic("other", "x"))
		invalidGrant(t, a)
	})
	t.Run("a generic refresh token is no OAuth2 grant", func(t *testing.T) {
		s, _ := start(t, jwttest.Options{})
		_, rt := genericLogin(t, s)
		invalidGrant(t, refresh(t, s, rt))
	})
}

// --- counters, latency -----------------------------------------------------

// post sends a request from any goroutine and reports failures with
// t.Errorf (t.Fatal may only be called from the test goroutine).
func post(t *testing.T, u, contentType, body string, hdr ...string) int {
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Errorf("%s: %v", u, err)
		return 0
	}
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Errorf("%s: %v", u, err)
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestCountersExactUnderConcurrency(t *testing.T) {
	s, _ := start(t, jwttest.Options{})
	const n = 20
	const js, form = "application/json", "application/x-www-form-urlencoded"
	logins := []struct{ path, ct, body string }{
		{"/auth/login", js, `{"username":"alice","password":"wonderland"}`},
		{"/wp-json/jwt-auth/v1/token", form, creds.Encode()},
		{"/alt/wp-json/jwt-auth/v1/token", form, creds.Encode()},
		{"/login", js, `{"email":"alice@example.com","password":"wonderland"}`},
		{"/api/token/", js, `{"username":"alice","password":"wonderland"}`},
		{"/oauth/token", form, "grant_type=password&username=alice&password=wonderland&client_id=cli&client_secret=s3cret-client"},
	}
	var wg sync.WaitGroup
	for _, l := range logins {
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if st := post(t, s.URL+l.path, l.ct, l.body); st != 200 {
					t.Errorf("%s: status %d", l.path, st)
				}
			}()
		}
	}
	wg.Wait()
	if got, want := s.Logins(), int64(n*len(logins)); got != want {
		t.Fatalf("Logins() = %d, want %d", got, want)
	}
	for _, l := range logins {
		if got := s.Requests(l.path); got != n {
			t.Errorf("Requests(%s) = %d, want %d", l.path, got, n)
		}
	}
	if s.Refreshes() != 0 {
		t.Errorf("Refreshes() = %d", s.Refreshes())
	}

	// One login, then 20 concurrent refreshes with rotation: exactly one wins.
	s2, _ := start(t, jwttest.Options{RotateRefresh: true})
	_, rt := genericLogin(t, s2)
	var mu sync.Mutex
	wins := 0
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if post(t, s2.URL+"/auth/refresh", js, `{"refreshToken":"`+rt+`"}`) == 200 {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 || s2.Refreshes() != n || s2.Logins() != 1 {
		t.Fatalf("wins=%d Refreshes()=%d Logins()=%d", wins, s2.Refreshes(), s2.Logins())
	}
}

func TestLatency(t *testing.T) {
	const latency = 300 * time.Millisecond
	s, _ := start(t, jwttest.Options{Latency: latency})

	begin := time.Now()
	genericLogin(t, s)
	if d := time.Since(begin); d < latency {
		t.Fatalf("login answered after %v, want ≥ %v", d, latency)
	}

	// A client with a shorter timeout gives up; the request still counts.
	short := &http.Client{Timeout: 50 * time.Millisecond}
	_, err := short.Post(s.URL+"/oauth/token", "application/x-www-form-urlencoded",
		strings.NewReader("grant_type=client_credentials&client_id=cli&client_secret=s3cret-client"))
	var ne interface{ Timeout() bool }
	if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("want a client timeout, got %v", err)
	}

	// Resource endpoints are not delayed.
	begin = time.Now()
	get(t, s.URL+"/api/me")
	if d := time.Since(begin); d >= latency {
		t.Errorf("/api/me took %v", d)
	}

	// A cancelled request ends the wait at once.
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", s.URL+"/api/token/", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	done := make(chan error, 1)
	before := s.Logins()
	go func() {
		_, err := http.DefaultClient.Do(req)
		done <- err
	}()
	for s.Logins() == before {
		runtime.Gosched()
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if s.Logins() != 3 {
		t.Errorf("Logins() = %d, want 3", s.Logins())
	}
}

func TestCloseDoesNotWaitOutLatency(t *testing.T) {
	s := jwttest.Start(jwttest.Options{Latency: time.Hour})
	go http.Post(s.URL+"/auth/login", "application/json", strings.NewReader(`{}`))
	for s.Logins() == 0 {
		runtime.Gosched()
	}
	closed := make(chan struct{})
	go func() {
		s.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close is waiting for the Latency of a pending request")
	}
}
