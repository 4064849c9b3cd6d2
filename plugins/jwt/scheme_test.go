package jwt

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core"
)

func TestSchemeConfigureDiagnostics(t *testing.T) {
	tests := []struct {
		name  string
		cfg   core.Config
		field string // "" means valid
		want  string
	}{
		{"three-line preset", core.Config{"preset": "wordpress", "username": "alice", "password": "pw"}, "", ""},
		{"login without url", core.Config{"username": "alice", "password": "pw"}, "login_url", "needs login_url"},
		{"key of another mode", core.Config{"login_url": "/l", "username": "a", "password": "p", "client_id": "x"}, "client_id", "is for mode oauth2"},
		{"unknown placeholder", core.Config{"login_url": "/l", "username": "a", "password": "p", "body": map[string]any{"u": "{{user}}"}}, "body.u", "unknown placeholder {{user}}"},
		{"refresh token in login body", core.Config{"login_url": "/l", "password": "p", "body": map[string]any{"r": "{{refresh_token}}", "p": "{{password}}"}}, "body.r", "{{refresh_token}}"},
		{"password placeholder unset", core.Config{"login_url": "/l", "username": "a"}, "password", "uses {{password}}"},
		{"bad header name", core.Config{"mode": "static", "token": "t", "header": "X Token"}, "header", "not a header name"},
		{"oauth2 without secret", core.Config{"mode": "oauth2", "token_url": "https://a/t", "client_id": "c"}, "client_secret", "needs client_secret"},
		{"oauth2 password grant without user", core.Config{"mode": "oauth2", "token_url": "https://a/t", "grant": "password"}, "username", "needs username and password"},
		{"oauth2 two audiences", core.Config{"mode": "oauth2", "token_url": "https://a/t", "client_id": "c", "client_secret": "s", "audience": []any{"a", "b"}}, "audience", "one audience"},
		{"oauth2 non-http url", core.Config{"mode": "oauth2", "token_url": "ftp://a/t", "client_id": "c", "client_secret": "s"}, "token_url", "only http and https"},
		{"static without token", core.Config{"mode": "static"}, "token", "needs the token"},
		{"sign without key", core.Config{"mode": "sign"}, "key", "needs the signing key"},
		{"sign with a short HMAC key", core.Config{"mode": "sign", "key": "short"}, "key", "32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := New().Configure(context.Background(), tt.cfg)
			if tt.field == "" {
				if len(ds) > 0 {
					t.Fatalf("valid config got %+v", ds)
				}
				return
			}
			for _, d := range ds {
				if d.Field == tt.field && strings.Contains(d.Message, tt.want) {
					return
				}
			}
			t.Errorf("want a diagnostic on %s containing %q; got %+v", tt.field, tt.want, ds)
		})
	}
}

func TestSchemeHandleChallenge(t *testing.T) {
	wwwAuth := func(v string) http.Header { return http.Header{"Www-Authenticate": {v}} }
	tests := []struct {
		name     string
		mode     string
		status   int
		header   http.Header
		body     string
		decision core.Decision // or, when kind is set, an error of that kind
		want     string
		kind     core.Kind
	}{
		{"RFC 6750 invalid_token", "login", 401, wwwAuth(`Bearer realm="api", error="invalid_token", error_description="The access token expired"`), "", core.DecisionRefresh, "expired", 0},
		{"401 that says nothing", "oauth2", 401, http.Header{}, "", core.DecisionRefresh, "rejected", 0},
		{"401 without error (no credentials seen)", "login", 401, wwwAuth(`Bearer realm="api"`), "", core.DecisionRefresh, "rejected", 0},
		{"static token cannot be renewed", "static", 401, wwwAuth(`Bearer error="invalid_token"`), "", core.DecisionFail, "replace it", 0},
		{"insufficient_scope", "login", 403, wwwAuth(`Bearer realm="api", error="insufficient_scope", scope="admin"`), "", 0, `scope "admin"`, core.KindForbidden},
		{"invalid_request", "login", 400, wwwAuth(`Bearer error="invalid_request"`), "", core.DecisionFail, "malformed", 0},
		{"another scheme", "login", 401, wwwAuth(`Basic realm="Jenkins"`), "", core.DecisionFail, "wants Basic authentication", 0},
		{"WordPress stale token", "login", 403, http.Header{}, `{"code":"jwt_auth_invalid_token","message":"Expired token","data":{"status":403}}`, core.DecisionLogin, "Expired token", 0},
		{"plain 403", "login", 403, http.Header{}, `{"message":"You shall not pass"}`, 0, "You shall not pass", core.KindForbidden},
		{"another 4xx", "login", 409, http.Header{}, `{"message":"busy"}`, core.DecisionFail, "busy", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := New().HandleChallenge(context.Background(), core.ChallengeRequest{
				Config:   core.Config{"mode": tt.mode},
				Request:  core.HTTPRequest{Method: "GET", URL: "https://api.example.com/v1/x?secret=1"},
				Response: core.HTTPResponse{Status: tt.status, Header: tt.header, BodyPrefix: []byte(tt.body)},
			})
			if tt.kind != 0 {
				if core.KindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "secret=1") {
					t.Errorf("%v (%v), want a %v error containing %q", err, core.KindOf(err), tt.kind, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Decision != tt.decision || !strings.Contains(res.Diagnosis, tt.want) {
				t.Errorf("decision %v %q; want %v containing %q", res.Decision, res.Diagnosis, tt.decision, tt.want)
			}
			if strings.Contains(res.Diagnosis, "secret=1") {
				t.Errorf("diagnosis shows the query: %q", res.Diagnosis)
			}
		})
	}
}

func TestSchemeServerMessage(t *testing.T) {
	tests := []struct{ body, want string }{
		{`"Incorrect password"`, "Incorrect password"},
		{`{"error":"invalid_grant","error_description":"The refresh token expired"}`, "The refresh token expired (invalid_grant)"},
		{`{"code":"[jwt_auth] incorrect_password","message":"<strong>Error:</strong> The password you entered for the username <strong>alice</strong> is incorrect. <a href=\"https://x/wp-login.php?action=lostpassword\">Lost your password?</a>","data":{"status":403}}`,
			"Error: The password you entered for the username alice is incorrect. Lost your password? ([jwt_auth] incorrect_password)"},
		{`{"detail":"No active account found with the given credentials"}`, "No active account found with the given credentials"},
		{`{"error":{"message":"nested"}}`, "nested"},
		{`<html>not json</html>`, ""},
		{`{}`, ""},
	}
	for _, tt := range tests {
		if got := serverMessage([]byte(tt.body)); got != tt.want {
			t.Errorf("serverMessage(%s) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

// The expiry comes from expires_in, else from the token's exp claim, else
// it is unknown.
func TestSchemeCredentialExpiry(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	s := &Scheme{Now: func() time.Time { return now }}
	jwtWithExp, _, err := Mint(MintOptions{Alg: "HS256", Key: []byte(strings.Repeat("k", 32)), TTL: 10 * time.Minute, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := read(core.Config{"mode": "static", "token": "x"}, "")
	tests := []struct {
		name     string
		token    string
		lifetime time.Duration
		want     time.Time
	}{
		{"expires_in wins", jwtWithExp, time.Minute, now.Add(time.Minute)},
		{"exp claim", jwtWithExp, 0, now.Add(10 * time.Minute)},
		{"opaque token: unknown", "2YotnFZFEjr1zCsicMWpAA", 0, time.Time{}},
	}
	for _, tt := range tests {
		c, err := s.credential(st, tt.token, "", tt.lifetime, "test")
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !c.ExpiresAt.Equal(tt.want) {
			t.Errorf("%s: expires %v, want %v", tt.name, c.ExpiresAt, tt.want)
		}
		if c.Headers[0] != (core.Header{Name: "Authorization", Value: "Bearer " + tt.token}) {
			t.Errorf("%s: header %+v", tt.name, c.Headers[0])
		}
	}
	if _, err := s.credential(st, "eyJhbGciOiJIUzI1NiJ9.%%%.x", "", 0, "static token"); core.KindOf(err) != core.KindConfig || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("malformed static JWT: %v", err)
	}
}

func TestSchemeKeysNeverValues(t *testing.T) {
	doc := map[string]any{"data": map[string]any{"jwt": "SECRET", "user": map[string]any{"id": 1.0}}, "ok": true}
	got := strings.Join(leafPaths(doc), ",")
	if got != "data.jwt,data.user.id,ok" {
		t.Errorf("leafPaths = %q", got)
	}
}

// A static token replaced since it was cached is taken on the next refusal;
// the same one again is a diagnosis.
func TestSchemeStaticTokenRotation(t *testing.T) {
	req := func(configured string) core.ChallengeRequest {
		return core.ChallengeRequest{
			Config:     core.Config{"mode": "static", "token": configured},
			Credential: &core.Credential{Token: "old-token"},
			Request:    core.HTTPRequest{Method: "GET", URL: "https://api.example.com/x"},
			Response:   core.HTTPResponse{Status: 401, Header: http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}}},
		}
	}
	if res, _ := New().HandleChallenge(context.Background(), req("new-token")); res.Decision != core.DecisionLogin {
		t.Errorf("rotated: %+v, want a new login", res)
	}
	if res, _ := New().HandleChallenge(context.Background(), req("old-token")); res.Decision != core.DecisionFail || strings.Contains(res.Diagnosis, "old-token") {
		t.Errorf("same token: %+v, want a diagnosis without the token", res)
	}
}
