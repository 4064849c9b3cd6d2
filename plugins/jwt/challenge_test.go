package jwt

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/authx/authx/core"
	"github.com/authx/authx/plugins/jwt/jwttest"
)

// Refusals without an RFC 6750 challenge: the servers whose 403 (or bare
// 401) body says the token is dead renew it once, replay-safe; a 403 that
// says insufficient_scope, or that carries no known signal, is a missing
// permission (exit 14).
func TestSchemeChallengeRefusalBodies(t *testing.T) {
	const (
		dex        = `{"error":"access_denied","error_description":"Invalid bearer token."}`
		dexOld     = `{"error":"access_denied","error_description":"failed to verify signature: failed to verify id token signature"}`
		tmeister   = `{"code":"jwt_auth_invalid_token","message":"Signature verification failed","data":{"status":403}}`
		badIss     = `{"code":"jwt_auth_bad_iss","message":"The iss do not match with this server","data":{"status":403}}`
		usefulteam = `{"success":false,"statusCode":401,"code":"jwt_auth_invalid_token","message":"Expired token","data":[]}`
		simplejwt  = `{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"Token is invalid or expired"}]}`
	)
	bearer := func(v string) http.Header { return http.Header{"Www-Authenticate": {v}} }
	tests := []struct {
		name     string
		mode     string
		status   int
		header   http.Header
		body     string
		decision core.Decision // 0: a KindForbidden error
		want     string
	}{
		{"Dex userinfo, invalid token", "oauth2", 403, nil, dex, core.DecisionRefresh, "Invalid bearer token."},
		{"Dex before 2.45, go-oidc's message", "oauth2", 403, nil, dexOld, core.DecisionRefresh, "failed to verify signature"},
		{"Tmeister after a key change", "login", 403, nil, tmeister, core.DecisionLogin, "Signature verification failed"},
		{"Tmeister, the site moved", "login", 403, nil, badIss, core.DecisionLogin, "iss do not match"},
		{"usefulteam, 401 without a challenge", "login", 401, nil, usefulteam, core.DecisionRefresh, "Expired token"},
		{"SimpleJWT behind session authentication", "login", 403, nil, simplejwt, core.DecisionRefresh, "Given token not valid"},
		{"403 with error=invalid_token", "oauth2", 403, bearer(`Bearer error="invalid_token"`), "", core.DecisionRefresh, "invalid_token"},
		{"static token refused by Dex", "static", 403, nil, dex, core.DecisionFail, "replace it"},
		{"static token refused by WordPress", "static", 403, nil, tmeister, core.DecisionFail, "replace it"},

		{"insufficient_scope wins over a body signal", "oauth2", 403, bearer(`Bearer error="insufficient_scope", scope="admin"`), dex, 0, "insufficient_scope"},
		{"access_denied for a permission", "oauth2", 403, nil, `{"error":"access_denied","error_description":"User may not read reports"}`, 0, "User may not read reports"},
		{"access_denied without a description", "oauth2", 403, nil, `{"error":"access_denied"}`, 0, "access_denied"},
		{"plain 403", "login", 403, nil, `{"message":"Sorry, you are not allowed to do that.","code":"rest_forbidden"}`, 0, "not allowed"},
		{"403 without a body", "login", 403, nil, "", 0, "Forbidden"},
		{"403 HTML page", "login", 403, nil, "<html><title>403</title>Invalid bearer token.</html>", 0, "Forbidden"},
		{"the signal in another member", "login", 403, nil, `{"message":"jwt_auth_invalid_token"}`, 0, "jwt_auth_invalid_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			res, err := New().HandleChallenge(context.Background(), core.ChallengeRequest{
				Config:     core.Config{"mode": tt.mode, "token": "tok-1"},
				Credential: &core.Credential{Token: "tok-1"},
				Request:    core.HTTPRequest{Method: "POST", URL: "https://api.example.com/v1/x"},
				Response:   core.HTTPResponse{Status: tt.status, Header: h, BodyPrefix: []byte(tt.body)},
			})
			if tt.decision == 0 {
				if core.KindOf(err) != core.KindForbidden || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("%+v, %v; want a forbidden error containing %q", res, err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Decision != tt.decision || !strings.Contains(res.Diagnosis, tt.want) {
				t.Fatalf("decision %v %q; want %v containing %q", res.Decision, res.Diagnosis, tt.decision, tt.want)
			}
			// The server refused before acting: even a POST may be sent again.
			if tt.decision != core.DecisionFail && !res.ReplaySafe {
				t.Errorf("renewal not replay-safe: %+v", res)
			}
		})
	}
}

// challengeFor sends GET target with c, as the host would, and returns the
// challenge request the host would make of the answer.
func challengeFor(t *testing.T, cfg core.Config, base string, c *core.Credential, target string) core.ChallengeRequest {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range c.Headers {
		req.Header.Set(h.Name, h.Value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return core.ChallengeRequest{Config: cfg, URL: base, Credential: c,
		Request:  core.HTTPRequest{Method: http.MethodGet, URL: target},
		Response: core.HTTPResponse{Status: resp.StatusCode, Header: resp.Header, BodyPrefix: body}}
}

// After a key change, the emulated servers' refusals renew the token once:
// Dex's 403 by a refresh, WordPress's 403 by a new login (it has no
// refresh). Both are replay-safe.
func TestSchemeChallengeAfterKeyChange(t *testing.T) {
	srv := jwttest.Start(jwttest.Options{})
	defer srv.Close()
	tests := []struct {
		name     string
		cfg      core.Config
		resource string
		decision core.Decision
		want     string
	}{
		{"Dex userinfo", core.Config{"mode": "oauth2", "token_url": "/oauth/token", "grant": "password", "username": "alice", "password": "wonderland",
			"client_id": "cli", "client_secret": "s3cret-client"}, "/dex/userinfo", core.DecisionRefresh, "Dex rejected the token: Invalid bearer token."},
		{"WordPress (Tmeister)", core.Config{"preset": "wordpress", "username": "alice", "password": "wonderland"},
			"/wp-json/wp/v2/users/me", core.DecisionLogin, "WordPress rejected the token: Signature verification failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New()
			c, err := s.Login(context.Background(), core.LoginRequest{Config: tt.cfg, URL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			if ch := challengeFor(t, tt.cfg, srv.URL, c, srv.URL+tt.resource); ch.Response.Status != http.StatusOK {
				t.Fatalf("fresh token refused: %d %s", ch.Response.Status, ch.Response.BodyPrefix)
			}
			srv.RevokeAccess()
			ch := challengeFor(t, tt.cfg, srv.URL, c, srv.URL+tt.resource)
			res, err := s.HandleChallenge(context.Background(), ch)
			if err != nil || res.Decision != tt.decision || !res.ReplaySafe || !strings.Contains(res.Diagnosis, tt.want) {
				t.Fatalf("HTTP %d: %+v, %v; want %v, replay-safe, containing %q", ch.Response.Status, res, err, tt.decision, tt.want)
			}
		})
	}
}

// A refusal of the retried request (protocol minor 4: Retried) is a
// diagnosis saying the renewed token was refused too; refusals that never
// renew keep their own diagnosis and kind.
func TestChallengeRetried(t *testing.T) {
	cfg := core.Config{"mode": "login", "login_url": "https://api.example/login", "username": "u", "password": "p"}
	tests := []struct {
		name, challenge string
		status          int
		want            string
		kind            core.Kind
	}{
		{"invalid_token", `Bearer error="invalid_token"`, 401, "the server refused GET https://api.example/x again (HTTP 401) after the token was renewed: the token was rejected", 0},
		{"no challenge", ``, 401, "again (HTTP 401) after the token was renewed", 0},
		{"another scheme", `Basic realm="r"`, 401, "the server wants Basic authentication", 0},
		{"insufficient_scope", `Bearer error="insufficient_scope"`, 403, "the token lacks the scope", core.KindForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.challenge != "" {
				h.Set("WWW-Authenticate", tt.challenge)
			}
			res, err := New().HandleChallenge(context.Background(), core.ChallengeRequest{Config: cfg, Retried: true,
				Credential: &core.Credential{Token: "tok"}, Request: core.HTTPRequest{Method: "GET", URL: "https://api.example/x?q=secret"},
				Response: core.HTTPResponse{Status: tt.status, Header: h}})
			if tt.kind != 0 {
				if core.KindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("%v, want kind %v with %q", err, tt.kind, tt.want)
				}
				return
			}
			if err != nil || res.Decision != core.DecisionFail || !strings.Contains(res.Diagnosis, tt.want) || strings.Contains(res.Diagnosis, "secret") {
				t.Fatalf("%+v %v; want a diagnosis with %q", res, err, tt.want)
			}
		})
	}
}
