package jwttest_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/authx/authx/plugins/jwt/jwttest"
)

// Dex's /userinfo refuses a bad token with 403 and no challenge, a missing
// one with 401 and a bare Bearer challenge, both with tokenErr's body.
func TestDexUserinfo(t *testing.T) {
	s, _ := start(t, jwttest.Options{})
	tok := postForm(t, s.URL+"/oauth/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"wonderland"}},
		"Authorization", basic("cli", "s3cret-client")).object(t)["access_token"].(string)
	const refused = `{"error":"access_denied","error_description":"Invalid bearer token."}`

	ok := get(t, s.URL+"/dex/userinfo", "Authorization", "bearer "+tok) // any case
	if ok.Status != http.StatusOK || ok.object(t)["sub"] != "alice" {
		t.Fatalf("valid token: %d %s", ok.Status, ok.Body)
	}
	tests := []struct {
		name      string
		authz     string
		status    int
		challenge string
	}{
		{"no header", "", http.StatusUnauthorized, "Bearer"},
		{"Basic", basic("alice", "wonderland"), http.StatusUnauthorized, "Bearer"},
		{"garbage token", "Bearer not.a.jwt", http.StatusForbidden, ""},
	}
	for _, tt := range tests {
		a := get(t, s.URL+"/dex/userinfo", "Authorization", tt.authz)
		a.expect(t, tt.status, refused)
		if got := a.Header.Get("WWW-Authenticate"); got != tt.challenge {
			t.Errorf("%s: WWW-Authenticate %q, want %q", tt.name, got, tt.challenge)
		}
		if a.Header.Get("Content-Type") != "application/json" || a.Header.Get("Content-Length") != strconv.Itoa(len(refused)) {
			t.Errorf("%s: headers %v", tt.name, a.Header)
		}
	}
	s.RevokeAccess() // the signing key changed
	a := get(t, s.URL+"/dex/userinfo", "Authorization", "Bearer "+tok)
	a.expect(t, http.StatusForbidden, refused)
	if _, has := a.Header["Www-Authenticate"]; has {
		t.Errorf("a refused token got a challenge: %v", a.Header)
	}
}
