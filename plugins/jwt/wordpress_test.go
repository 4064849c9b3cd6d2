package jwt

import (
	"context"
	"github.com/authx/authx/core/urlscope"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/authhttp"
	"github.com/authx/authx/plugins/jwt/jwttest"
)

// The wordpress preset works on sites with plain permalinks, whose REST API
// answers only at ?rest_route=: the login falls back on it, and the token's
// scope covers it.
func TestSchemeWordPressPlainPermalinks(t *testing.T) {
	for _, plain := range []bool{false, true} {
		for _, site := range []string{"", "/alt"} { // Tmeister at the root, usefulteam in a subdirectory
			srv := jwttest.Start(jwttest.Options{PlainPermalinks: plain})
			defer srv.Close()
			base := srv.URL + site
			cfg := core.Config{"preset": "wordpress", "username": "alice", "password": "wonderland"}
			c, err := New().Login(context.Background(), core.LoginRequest{Config: cfg, URL: base})
			if err != nil {
				t.Fatalf("plain=%v site %q: %v", plain, site, err)
			}
			if srv.Logins() != 1 {
				t.Errorf("plain=%v site %q: %d logins", plain, site, srv.Logins())
			}
			if got := srv.Requests(site + "/wp-json/jwt-auth/v1/token"); got != 1 {
				t.Errorf("plain=%v site %q: /wp-json/ tried %d times, want once", plain, site, got)
			}
			for _, target := range []string{"/wp-json/wp/v2/users/me", "/?rest_route=/wp/v2/users/me", "/index.php?rest_route=/wp/v2/users/me"} {
				u, _ := url.Parse(base + target)
				if !urlscope.InScope(u, c.Scope) {
					t.Errorf("plain=%v: %s is outside the token's scope %v", plain, u, c.Scope)
				}
				if strings.HasPrefix(target, "/wp-json/") && plain {
					continue
				}
				ch := challengeFor(t, cfg, base, c, base+target)
				if ch.Response.Status != http.StatusOK || !strings.Contains(string(ch.Response.BodyPrefix), `"alice"`) {
					t.Errorf("plain=%v %s: %d %s", plain, target, ch.Response.Status, ch.Response.BodyPrefix)
				}
			}
		}
	}
}

// A refusal at a URL the credential's scope does not cover is no reason to
// log in: the host sent no token there. The diagnosis names the scope.
func TestSchemeChallengeOutsideScope(t *testing.T) {
	cred := &core.Credential{Token: "tok", Scope: []string{"https://blog.example.com/wp-json/", "https://user:pw@blog.example.com/index.php?rest_route="}}
	tests := []struct {
		name, url string
		decision  core.Decision
	}{
		{"outside", "https://blog.example.com/wp-admin/admin-ajax.php", core.DecisionFail},
		{"another origin", "https://api.example.com/wp-json/wp/v2/users/me", core.DecisionFail},
		{"inside", "https://blog.example.com/wp-json/wp/v2/users/me", core.DecisionLogin},
		{"inside, plain permalinks", "https://blog.example.com/index.php?rest_route=/wp/v2/users/me", core.DecisionLogin},
	}
	for _, tt := range tests {
		res, err := New().HandleChallenge(context.Background(), core.ChallengeRequest{
			Config:     core.Config{"preset": "wordpress"},
			Credential: cred,
			Request:    core.HTTPRequest{Method: "GET", URL: tt.url},
			Response:   core.HTTPResponse{Status: 403, Header: http.Header{}, BodyPrefix: []byte(`{"code":"jwt_auth_invalid_token","message":"Expired token","data":{"status":403}}`)},
		})
		if err != nil || res.Decision != tt.decision {
			t.Errorf("%s: %+v, %v; want %v", tt.name, res, err, tt.decision)
			continue
		}
		if tt.decision == core.DecisionFail && (!strings.Contains(res.Diagnosis, "https://blog.example.com/wp-json/") ||
			!strings.Contains(res.Diagnosis, "scope") || strings.Contains(res.Diagnosis, "pw@")) {
			t.Errorf("%s: diagnosis %q should name the scope, without user info", tt.name, res.Diagnosis)
		}
	}
}

// A site that is no WordPress answers both URLs with a page: the error names
// the usual one; a WordPress answer at ?rest_route= is what counts.
func TestSchemeWordPressFallbackErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("rest_route") == "/jwt-auth/v1/token" && r.URL.Path == "/wrong-password/" {
			w.Header().Set("Content-Type", "application/json; charset=UTF-8")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"code":"[jwt_auth] incorrect_password","message":"<strong>Error:</strong> The password you entered for the username <strong>alice</strong> is incorrect.","data":{"status":403}}`))
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte("<html><title>Not Found</title></html>"))
	}))
	defer srv.Close()
	cfg := core.Config{"preset": "wordpress", "username": "alice", "password": "pw"}
	tests := []struct{ site, want string }{
		{"/not-wordpress", "/not-wordpress/wp-json/jwt-auth/v1/token: HTTP 404"},
		{"/wrong-password", "incorrect_password"},
	}
	for _, tt := range tests {
		_, err := New().Login(context.Background(), core.LoginRequest{Config: cfg, URL: srv.URL + tt.site})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.site, err, tt.want)
		}
	}
	// A login_url of one's own is used as is.
	cfg["login_url"] = "/wp-json/jwt-auth/v1/token"
	if _, err := New().Login(context.Background(), core.LoginRequest{Config: cfg, URL: srv.URL + "/wrong-password"}); err == nil || strings.Contains(err.Error(), "incorrect_password") {
		t.Errorf("login_url set: %v, want the 404 of login_url", err)
	}
}

// schemeSource is a minimal host for a Scheme: one cached credential, the
// scheme's challenge decision, a new login or refresh when it says so.
type schemeSource struct {
	s    *Scheme
	cfg  core.Config
	base string
	cred *core.Credential
}

func (src *schemeSource) Credential(ctx context.Context) (*core.Credential, error) {
	if src.cred == nil {
		c, err := src.s.Login(ctx, core.LoginRequest{Config: src.cfg, URL: src.base})
		if err != nil {
			return nil, err
		}
		src.cred = c
	}
	return src.cred, nil
}

func (src *schemeSource) Challenge(ctx context.Context, cred *core.Credential, req core.HTTPRequest, resp core.HTTPResponse) (*core.Credential, bool, error) {
	res, err := src.s.HandleChallenge(ctx, core.ChallengeRequest{Config: src.cfg, URL: src.base, Credential: cred, Request: req, Response: resp})
	if err != nil {
		return nil, false, err
	}
	if res.Decision != core.DecisionLogin && res.Decision != core.DecisionRefresh {
		return nil, false, core.Errorf(core.KindRejected, "%s", res.Diagnosis)
	}
	src.cred = nil
	c, err := src.Credential(ctx)
	return c, res.ReplaySafe, err
}

// The scenario: on a plain-permalink WordPress, requests at
// /?rest_route=/wp/v2/users/me carry the token (one login, not one per
// call), and after a key change one new login fixes them.
func TestSchemeWordPressRESTRouteThroughClient(t *testing.T) {
	srv := jwttest.Start(jwttest.Options{PlainPermalinks: true})
	defer srv.Close()
	src := &schemeSource{s: New(), cfg: core.Config{"preset": "wordpress", "username": "alice", "password": "wonderland"}, base: srv.URL}
	client := authhttp.NewClient(src, []string{srv.URL + "/"}, nil)
	get := func() {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/?rest_route=/wp/v2/users/me", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("HTTP %d", resp.StatusCode)
		}
	}
	for range 3 {
		get()
	}
	if srv.Logins() != 1 {
		t.Errorf("%d logins for 3 calls, want 1", srv.Logins())
	}
	srv.RevokeAccess()
	get()
	if srv.Logins() != 2 {
		t.Errorf("%d logins after a key change, want 2", srv.Logins())
	}
}
