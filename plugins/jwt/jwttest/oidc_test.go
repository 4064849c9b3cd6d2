package jwttest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/plugins/jwt/jwttest"
)

const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // RFC 7636 Appendix B

func challengeOf(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorize sends an authorization request for the public client "native"
// with extra parameters (an empty value deletes one) and returns the answer.
func authorize(t *testing.T, s *jwttest.Server, extra url.Values) answer {
	t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {"native"}, "redirect_uri": {"http://127.0.0.1:5555/callback"},
		"scope": {"openid offline_access"}, "state": {"st"}, "nonce": {"n"}, "code_challenge": {challengeOf(verifier)},
		"code_challenge_method": {"S256"}, "prompt": {"consent"}}
	for k, v := range extra {
		if v[0] == "" {
			q.Del(k)
		} else {
			q[k] = v
		}
	}
	return get(t, s.URL+"/oauth/authorize?"+q.Encode())
}

func startOIDC(o jwttest.Options) *jwttest.Server {
	o.Clients = map[string]string{"native": "", "cli": "s3cret-client"}
	return jwttest.Start(o)
}

func TestAuthorizeRedirects(t *testing.T) {
	s := startOIDC(jwttest.Options{})
	defer s.Close()
	a := authorize(t, s, nil)
	if a.Status != 303 {
		t.Fatalf("%d %s", a.Status, a.Body)
	}
	loc, _ := url.Parse(a.Header.Get("Location"))
	q := loc.Query()
	if loc.Host != "127.0.0.1:5555" || loc.Path != "/callback" || q.Get("state") != "st" || q.Get("iss") != s.URL || len(q.Get("code")) != 64 {
		t.Fatalf("Location %s", loc)
	}
	code := q.Get("code")
	exchange := func(v string) answer {
		return postForm(t, s.URL+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {"native"}, "code": {code},
			"redirect_uri": {"http://127.0.0.1:5555/callback"}, "code_verifier": {v}})
	}
	tok := exchange(verifier)
	if tok.Status != 200 {
		t.Fatalf("%d %s", tok.Status, tok.Body)
	}
	m := tok.object(t)
	if m["refresh_token"] == nil || m["id_token"] == nil {
		t.Fatalf("answer %v", m)
	}
	idc := claims(t, m["id_token"].(string))
	if idc["nonce"] != "n" || idc["aud"] != "native" || idc["iss"] != s.URL || idc["sub"] != "alice" {
		t.Fatalf("id_token claims %v", idc)
	}
	// A code is single-use.
	if again := exchange(verifier); again.Status != 400 || !strings.Contains(again.Body, `"invalid_grant"`) {
		t.Fatalf("replay: %d %s", again.Status, again.Body)
	}
}

func TestAuthorizeRefuses(t *testing.T) {
	s := startOIDC(jwttest.Options{})
	defer s.Close()
	for _, tc := range []struct {
		name  string
		extra url.Values
		page  bool   // an error page, no redirect
		want  string // the error code
	}{
		{"unknown client", url.Values{"client_id": {"nobody"}}, true, "invalid_client"},
		{"localhost is another URI", url.Values{"redirect_uri": {"http://localhost:5555/callback"}}, true, "invalid_redirect_uri"},
		{"another path", url.Values{"redirect_uri": {"http://127.0.0.1:5555/cb"}}, true, "invalid_redirect_uri"},
		{"https to loopback", url.Values{"redirect_uri": {"https://127.0.0.1:5555/callback"}}, true, "invalid_redirect_uri"},
		{"no PKCE", url.Values{"code_challenge": {""}}, false, "invalid_request"},
		{"plain PKCE", url.Values{"code_challenge_method": {"plain"}}, false, "invalid_request"},
		{"implicit", url.Values{"response_type": {"token"}}, false, "unsupported_response_type"},
		{"unknown scope", url.Values{"scope": {"openid delete"}}, false, "invalid_scope"},
		{"prompt none", url.Values{"prompt": {"none"}}, false, "login_required"},
	} {
		a := authorize(t, s, tc.extra)
		if tc.page {
			if a.Status != 400 || !strings.Contains(a.Body, "error: "+tc.want) {
				t.Errorf("%s: %d %s", tc.name, a.Status, a.Body)
			}
			continue
		}
		loc, _ := url.Parse(a.Header.Get("Location"))
		if a.Status != 303 || loc.Query().Get("error") != tc.want || loc.Query().Get("state") != "st" {
			t.Errorf("%s: %d %s", tc.name, a.Status, loc)
		}
	}
}

func TestCodeExchangeRefuses(t *testing.T) {
	s := startOIDC(jwttest.Options{})
	defer s.Close()
	for _, tc := range []struct {
		name string
		edit func(url.Values)
	}{
		{"wrong verifier", func(v url.Values) { v.Set("code_verifier", strings.Repeat("a", 43)) }},
		{"another redirect_uri", func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1:5556/callback") }},
		{"another client", func(v url.Values) {
			v.Del("client_id")
			v.Set("client_secret", "s3cret-client")
			v.Set("client_id", "cli")
		}},
	} {
		loc, _ := url.Parse(authorize(t, s, nil).Header.Get("Location"))
		v := url.Values{"grant_type": {"authorization_code"}, "client_id": {"native"}, "code": {loc.Query().Get("code")},
			"redirect_uri": {"http://127.0.0.1:5555/callback"}, "code_verifier": {verifier}}
		tc.edit(v)
		if a := postForm(t, s.URL+"/oauth/token", v); a.Status != 400 || !strings.Contains(a.Body, `"invalid_grant"`) {
			t.Errorf("%s: %d %s", tc.name, a.Status, a.Body)
		}
	}
}

// Without prompt=consent there is no refresh token (OIDC Core §11, as
// oidc-provider does).
func TestNoRefreshWithoutConsent(t *testing.T) {
	s := startOIDC(jwttest.Options{})
	defer s.Close()
	loc, _ := url.Parse(authorize(t, s, url.Values{"prompt": {""}}).Header.Get("Location"))
	a := postForm(t, s.URL+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {"native"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {"http://127.0.0.1:5555/callback"}, "code_verifier": {verifier}})
	if m := a.object(t); a.Status != 200 || m["refresh_token"] != nil {
		t.Fatalf("%d %s", a.Status, a.Body)
	}
}

func TestDeviceFlow(t *testing.T) {
	now := time.Now()
	s := startOIDC(jwttest.Options{Now: func() time.Time { return now }, DeviceInterval: 5 * time.Second})
	defer s.Close()
	a := postForm(t, s.URL+"/oauth/device_authorization", url.Values{"client_id": {"native"}, "scope": {"openid offline_access"}})
	if a.Status != 200 {
		t.Fatalf("%d %s", a.Status, a.Body)
	}
	da := a.object(t)
	if da["interval"] != 5.0 || da["expires_in"] != 600.0 || !strings.HasPrefix(da["verification_uri_complete"].(string), s.URL+"/device?user_code=") {
		t.Fatalf("device authorization %v", da)
	}
	poll := func() string {
		a := postForm(t, s.URL+"/oauth/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {"native"},
			"device_code": {da["device_code"].(string)}})
		if a.Status == 200 {
			return "ok"
		}
		return a.object(t)["error"].(string)
	}
	if e := poll(); e != "authorization_pending" {
		t.Fatal(e)
	}
	now = now.Add(time.Second)
	if e := poll(); e != "slow_down" { // sooner than 5 s
		t.Fatal(e)
	}
	now = now.Add(5 * time.Second)
	if e := poll(); e != "slow_down" { // now 10 s are due
		t.Fatal(e)
	}
	if p := get(t, da["verification_uri_complete"].(string)); p.Status != 200 || !strings.Contains(p.Body, "successful") {
		t.Fatalf("%d %s", p.Status, p.Body)
	}
	now = now.Add(15 * time.Second)
	if e := poll(); e != "ok" {
		t.Fatal(e)
	}
	if e := poll(); e != "invalid_grant" { // used
		t.Fatal(e)
	}
}

func TestDiscoveryAndRevocation(t *testing.T) {
	s := startOIDC(jwttest.Options{NoOIDCDiscovery: true})
	defer s.Close()
	if a := get(t, s.URL+"/.well-known/openid-configuration"); a.Status != 404 {
		t.Fatalf("%d", a.Status)
	}
	md := get(t, s.URL+"/.well-known/oauth-authorization-server").object(t)
	if md["issuer"] != s.URL || md["revocation_endpoint"] != s.URL+"/oauth/revoke" || md["jwks_uri"] != s.URL+"/oauth/jwks" {
		t.Fatalf("metadata %v", md)
	}
	m := oauthLogin(t, s, nil)
	rt := m["refresh_token"].(string)
	if a := postForm(t, s.URL+"/oauth/revoke", url.Values{"token": {rt}}, "Authorization", basic("cli", "s3cret-client")); a.Status != 200 || a.Body != "" {
		t.Fatalf("%d %q", a.Status, a.Body)
	}
	if !s.Revoked(rt) {
		t.Fatal("not revoked")
	}
	if a := postForm(t, s.URL+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "Authorization", basic("cli", "s3cret-client")); a.Status != 400 {
		t.Fatalf("refresh after revocation: %d %s", a.Status, a.Body)
	}
	if a := postForm(t, s.URL+"/oauth/revoke", url.Values{"token": {rt}}); a.Status != 401 {
		t.Fatalf("unauthenticated revocation: %d %s", a.Status, a.Body)
	}
}
