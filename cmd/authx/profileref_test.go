package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authx/authx/plugins/jwt/jwttest"
)

// profileRefConfig is a config with an SSO profile (password grant) and
// the given profiles, each a token exchange whose subject_token is
// profile:<its value>.
func profileRefConfig(srv *jwttest.Server, exchanges map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `profiles:
  sso:
    scheme: jwt
    url: %[1]s
    config: {mode: oauth2, token_url: /oauth/token, grant: password, client_id: cli, client_secret: s3cret-client, username: alice, password: env:API_PW}
`, srv.URL)
	for name, ref := range exchanges {
		fmt.Fprintf(&b, `  %[2]s:
    scheme: jwt
    url: %[1]s
    config: {mode: oauth2, token_url: /oauth/token, grant: token_exchange, client_id: cli, client_secret: s3cret-client,
      subject_token: "profile:%[3]s", resource: [https://orders.example.com/]}
`, srv.URL, name, ref)
	}
	return b.String()
}

// A token exchange takes its subject token from another profile
// (profile:NAME): one SSO login feeds another API's token.
func TestProfileReferenceTokenExchange(t *testing.T) {
	srv := startJWT(t, jwttest.Options{})
	e := newEnv(t).set("API_PW=wonderland")
	e.config(profileRefConfig(srv, map[string]string{"orders": "sso"}))
	r := e.run("token", "orders")
	if r.code != 0 {
		t.Fatalf("token orders: %+v", r)
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(strings.TrimSpace(r.stdout), claims); err != nil {
		t.Fatal(err)
	}
	if claims["sub"] != "alice" || claims["aud"] != "https://orders.example.com/" {
		t.Fatalf("exchanged token claims %v", claims)
	}
	if srv.Logins() != 2 {
		t.Fatalf("%d token requests, want 2 (the SSO login, the exchange)", srv.Logins())
	}
	// The SSO profile's token was cached on the way: it is served alone.
	if r := e.run("token", "sso"); r.code != 0 || srv.Logins() != 2 {
		t.Fatalf("token sso: %+v, %d token requests", r, srv.Logins())
	}
}

// A loop of profile references is refused at once in one line (exit 2),
// never followed forever nor deadlocked on the profiles' locks.
func TestProfileReferenceCycle(t *testing.T) {
	srv := startJWT(t, jwttest.Options{})
	e := newEnv(t).set("API_PW=wonderland")
	e.config(profileRefConfig(srv, map[string]string{"a": "b", "b": "a", "me": "me"}))
	for _, tt := range []struct{ profile, loop string }{{"a", "a → b → a"}, {"me", "me → me"}} {
		r := e.run("token", tt.profile)
		if r.code != 2 || !strings.Contains(r.stderr, "a cycle of profile references: "+tt.loop) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("token %s: %+v; want exit 2 naming the loop %s in one line", tt.profile, r, tt.loop)
		}
	}
	if srv.Logins() != 0 {
		t.Errorf("%d token requests for a loop", srv.Logins())
	}
}

// config validate names a profile: reference to no profile, and warns about
// one in a field that does not resolve it.
func TestProfileReferenceValidate(t *testing.T) {
	srv := startJWT(t, jwttest.Options{})
	e := newEnv(t).set("API_PW=wonderland")
	e.config(profileRefConfig(srv, map[string]string{"orders": "nope"}) + `  odd:
    scheme: jwt
    url: https://api.example.com
    config: {mode: oauth2, token_url: /oauth/token, client_id: "profile:sso", client_secret: env:X}
`)
	r := e.run("config", "validate")
	if r.code != 2 || !strings.Contains(r.stderr, "profiles.orders.config.subject_token: profile:nope: no such profile (profiles: odd, orders, sso)") ||
		!strings.Contains(r.stderr, "warning: config ") || !strings.Contains(r.stderr, "profiles.odd.config.client_id holds a profile: reference, which only secret fields resolve") {
		t.Fatalf("validate: %+v", r)
	}
}
