package authhttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/authx/authx/core"
)

func TestCheckScope(t *testing.T) {
	profile := []string{"https://blog.example.com/"}
	scoped := &core.Credential{Token: "t", Scope: []string{"https://blog.example.com/wp-json/"}}
	tests := []struct {
		url  string
		cred *core.Credential
		want string // "" when covered
	}{
		{"https://blog.example.com/wp-json/wp/v2/users/me", scoped, ""},
		{"https://blog.example.com/anything", bearer("t"), ""},
		{"https://blog.example.com/?rest_route=/wp/v2/users/me", scoped,
			"the credential's scope (https://blog.example.com/wp-json/) does not cover https://blog.example.com/"},
		{"https://evil.example.com/wp-json/?k=s3cret", scoped,
			"https://evil.example.com/wp-json/ is outside the profile's match prefixes (https://blog.example.com/)"},
		{"https://evil.example.com/", nil, "is outside the profile's match prefixes"},
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.url)
		err := CheckScope(u, profile, tt.cred)
		var se *ScopeError
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v, want covered", tt.url, err)
		case tt.want != "" && (core.KindOf(err) != core.KindConfig || !errors.As(err, &se) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "s3cret")):
			t.Errorf("%s: %v, want a config error with %q", tt.url, err, tt.want)
		}
	}
}

// A refusal at a URL the request went to without the credential (the
// credential's own scope, or the profile's match prefixes after a
// redirect, exclude it) triggers no renewal: a new credential would not be
// sent either. The error names the real reason.
func TestClientRefusalWhereNoCredentialWasSent(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/moved":
			http.Redirect(w, r, srv.URL+"/elsewhere", http.StatusFound)
		case r.Header.Get("Authorization") == "":
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, "rest_not_logged_in")
		default:
			io.WriteString(w, "ok")
		}
	}))
	defer srv.Close()
	scoped := func(s *challengeSource) *scopedSource { return &scopedSource{s, []string{srv.URL + "/wp-json/"}} }
	tests := []struct {
		name    string
		scope   []string
		scoped  bool
		path    string
		want    string
		wantErr bool
	}{
		{"the credential's scope", []string{srv.URL + "/"}, true, "/?rest_route=/wp/v2/users/me",
			"the credential's scope (" + srv.URL + "/wp-json/) does not cover " + srv.URL + "/", true},
		{"the profile's match prefixes, after a redirect", []string{srv.URL + "/api/"}, false, "/api/moved",
			srv.URL + "/elsewhere is outside the profile's match prefixes (" + srv.URL + "/api/)", true},
		{"a URL the caller did not mean to send it to", []string{srv.URL + "/api/"}, false, "/public", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := newChallengeSource(true)
			var src Source = cs
			if tt.scoped {
				src = scoped(cs)
			}
			resp, err := NewClient(src, tt.scope, nil).Do(mustRequest("GET", srv.URL+tt.path))
			if resp == nil || resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("response %v, %v", resp, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if cs.challenges.Load() != 0 || string(body) != "rest_not_logged_in" {
				t.Errorf("%d challenges, body %q; want none and the server's body", cs.challenges.Load(), body)
			}
			var ce *ChallengeError
			if tt.wantErr != (err != nil) || tt.wantErr && (!errors.As(err, &ce) || core.KindOf(err) != core.KindConfig ||
				!strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "HTTP 401") || strings.Contains(err.Error(), "again")) {
				t.Errorf("err = %v, want a config error containing %q", err, tt.want)
			}
		})
	}
}

// scopedSource hands out its source's credentials narrowed to scope.
type scopedSource struct {
	*challengeSource
	scope []string
}

func (s *scopedSource) Credential(ctx context.Context) (*core.Credential, error) {
	c, err := s.challengeSource.Credential(ctx)
	if c != nil {
		c.Scope = s.scope
	}
	return c, err
}
