package basic

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/authx/authx/core"
)

func TestLogin(t *testing.T) {
	tests := []struct {
		name      string
		cfg       core.Config
		want      string // Authorization header
		wantToken string
	}{
		// RFC 7617 §2 example.
		{"rfc7617", core.Config{"username": "Aladdin", "password": "open sesame"}, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="},
		// RFC 7617 §2.1 example: UTF-8.
		{"utf8", core.Config{"username": "test", "password": "123£"}, "Basic dGVzdDoxMjPCow==", "dGVzdDoxMjPCow=="},
		{"colon in password", core.Config{"username": "a", "password": "b:c"}, "Basic YTpiOmM=", "YTpiOmM="},
		{"empty password", core.Config{"username": "a", "password": ""}, "Basic YTo=", "YTo="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New().Login(context.Background(), core.LoginRequest{Config: tt.cfg})
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Headers) != 1 || c.Headers[0].Name != "Authorization" || c.Headers[0].Value != tt.want {
				t.Errorf("headers = %v, want Authorization: %s", c.Headers, tt.want)
			}
			if c.Token != tt.wantToken || !c.ExpiresAt.IsZero() {
				t.Errorf("token %q expires %v", c.Token, c.ExpiresAt)
			}
		})
	}
}

func TestConfigure(t *testing.T) {
	tests := []struct {
		cfg       core.Config
		wantField string // "" = valid
		wantMsg   string
	}{
		{core.Config{"username": "alice", "password": "x"}, "", ""},
		{core.Config{"username": "al:ice", "password": "x"}, "username", "may not contain ':'"},
		{core.Config{"username": "al\x01ice"}, "username", "control character"},
		{core.Config{"password": "x"}, "username", "required unless netrc"},
		{core.Config{"netrc": true}, "", ""},
	}
	for _, tt := range tests {
		ds := New().Configure(context.Background(), tt.cfg)
		if tt.wantField == "" {
			if len(ds) != 0 {
				t.Errorf("%v: unexpected diagnostics %v", tt.cfg, ds)
			}
			continue
		}
		if len(ds) == 0 || ds[0].Field != tt.wantField || !strings.Contains(ds[0].Message, tt.wantMsg) {
			t.Errorf("%v: diagnostics %v, want %s: %q", tt.cfg, ds, tt.wantField, tt.wantMsg)
		}
	}
}

func TestLoginAsksForMissingPassword(t *testing.T) {
	s := New()
	_, err := s.Login(context.Background(), core.LoginRequest{Config: core.Config{"username": "alice"}})
	var ir *core.InputRequired
	if !errors.As(err, &ir) || len(ir.Prompts) != 1 || ir.Prompts[0].ID != "password" || !ir.Prompts[0].Secret {
		t.Fatalf("Login without password = %v, want an input-required secret prompt", err)
	}
	c, err := s.Login(context.Background(), core.LoginRequest{Config: core.Config{"username": "alice"},
		Answers: map[string]string{"password": "pw"}, Continuation: ir.Continuation})
	if err != nil || c.Headers[0].Value != "Basic YWxpY2U6cHc=" {
		t.Fatalf("Login with the answer = %v, %v", c, err)
	}
}

func TestNetrc(t *testing.T) {
	netrc := `machine other.example.com login bob password bobpw
# comment-like words are just tokens
machine api.example.com
  login alice
  password s3cret
macdef init
  cd /pub

default login anon password anonpw
`
	s := &Scheme{Netrc: func() ([]byte, error) { return []byte(netrc), nil }}
	tests := []struct {
		url, user, want string
	}{
		{"https://api.example.com/v1", "", "alice:s3cret"},
		{"https://API.example.com:8443/", "alice", "alice:s3cret"},
		{"https://unknown.example.com/", "", "anon:anonpw"},
	}
	for _, tt := range tests {
		c, err := s.Login(context.Background(), core.LoginRequest{Config: core.Config{"netrc": true, "username": tt.user}, URL: tt.url})
		if err != nil {
			t.Fatalf("%s: %v", tt.url, err)
		}
		if got := decode(t, c.Token); got != tt.want {
			t.Errorf("%s: credentials %q, want %q", tt.url, got, tt.want)
		}
	}
	_, err := s.Login(context.Background(), core.LoginRequest{Config: core.Config{"netrc": true, "username": "carol"}, URL: "https://api.example.com/"})
	if core.KindOf(err) != core.KindConfig || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("no entry for carol: %v", err)
	}
}

func decode(t *testing.T, token string) string {
	r, _ := http.NewRequest("GET", "http://x", nil)
	r.Header.Set("Authorization", "Basic "+token)
	u, p, ok := r.BasicAuth()
	if !ok {
		t.Fatalf("not Basic: %q", token)
	}
	return u + ":" + p
}

func TestHandleChallenge(t *testing.T) {
	tests := []struct {
		status int
		www    string
		kind   core.Kind // of the error; 0 for a fail decision
		want   string    // the diagnosis or error starts so
	}{
		{401, `Basic realm="Jenkins", charset="UTF-8"`, 0, `credentials rejected: the server refused user "alice" (realm "Jenkins")`},
		{401, ``, 0, `credentials rejected: the server refused user "alice"`},
		{401, `Bearer realm="api", error="invalid_token"`, 0, `credentials rejected: the server asks for Bearer authentication, not Basic; does this profile need another scheme?`},
		{401, `Negotiate, Basic realm="corp"`, 0, `credentials rejected: the server refused user "alice" (realm "corp")`},
		{403, ``, core.KindForbidden, `forbidden: the server accepted no access for user "alice" to https://x.example/api (HTTP 403)`},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.www != "" {
			h.Set("WWW-Authenticate", tt.www)
		}
		res, err := New().HandleChallenge(context.Background(), core.ChallengeRequest{
			Config:   core.Config{"username": "alice", "password": "pw"},
			Request:  core.HTTPRequest{Method: "GET", URL: "https://x.example/api?pw=pw"},
			Response: core.HTTPResponse{Status: tt.status, Header: h},
		})
		got := res.Diagnosis
		if tt.kind != 0 {
			if err == nil || core.KindOf(err) != tt.kind {
				t.Errorf("%d %q: %+v, %v; want an error of kind %v", tt.status, tt.www, res, err, tt.kind)
				continue
			}
			got = err.Error()
		} else if err != nil || res.Decision != core.DecisionFail {
			t.Errorf("%d %q: %+v, %v; want a fail decision", tt.status, tt.www, res, err)
		}
		if !strings.HasPrefix(got, tt.want) || strings.Contains(got, "pw") {
			t.Errorf("%d %q: %q, want it to start %q and hold no password", tt.status, tt.www, got, tt.want)
		}
	}
}

func TestHandleChallengeRotatedPassword(t *testing.T) {
	cached := &core.Credential{Token: basicToken("alice", "old")}
	for _, tt := range []struct {
		password string
		want     core.Decision
	}{{"old", core.DecisionFail}, {"new", core.DecisionLogin}} {
		res, err := New().HandleChallenge(context.Background(), core.ChallengeRequest{
			Config: core.Config{"username": "alice", "password": tt.password}, Credential: cached,
			Response: core.HTTPResponse{Status: 401, Header: http.Header{"Www-Authenticate": {`Basic realm="x"`}}},
		})
		if err != nil || res.Decision != tt.want {
			t.Errorf("password %q: %+v %v, want decision %v", tt.password, res, err, tt.want)
		}
	}
}

// TestHandleChallengeMasksEchoedCredentials: a realm (or a scheme list)
// that echoes the password or the Basic credentials, in any encoding, is
// quoted without them; also for a password that came from netrc, known
// only through the cached credential.
func TestHandleChallengeMasksEchoedCredentials(t *testing.T) {
	tests := []struct {
		name, password, www, want string
	}{
		{"Basic credentials in the realm", "S3cretPW", `Basic realm="Basic Y2lkOlMzY3JldFBX"`, `(realm "Basic ***")`},
		{"password in the realm", "S3cretPW", `Basic realm="pw S3cretPW"`, `(realm "pw ***")`},
		{"JSON-escaped", `S3c<r>"PW`, `Basic realm="S3c\\u003cr\\u003e\\\"PW"`, `(realm "***")`},
		{"percent-encoded", `S3c<r>"PW`, `Basic realm="S3c%3Cr%3E%22PW"`, `(realm "***")`},
		{"scheme list", "S3cretPW", `Y2lkOlMzY3JldFBX realm="x"`, "asks for *** authentication"},
		{"netrc password", "", `Basic realm="Basic Y2lkOk4zdHJjUFch"`, `(realm "Basic ***")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, pass := core.Config{"username": "cid", "password": tt.password}, tt.password
			if tt.password == "" {
				cfg, pass = core.Config{"username": "cid", "netrc": true}, "N3trcPW!"
			}
			res, err := New().HandleChallenge(context.Background(), core.ChallengeRequest{
				Config: cfg, Credential: &core.Credential{Token: basicToken("cid", pass)},
				Response: core.HTTPResponse{Status: 401, Header: http.Header{"Www-Authenticate": {tt.www}}},
			})
			if err != nil || !strings.Contains(res.Diagnosis, tt.want) {
				t.Errorf("%q, %v; want it to hold %q", res.Diagnosis, err, tt.want)
			}
		})
	}
}
