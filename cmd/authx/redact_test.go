package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/authx/authx/plugins/jwt/jwttest"
)

// echoForms are the spellings of a secret a server may echo: raw, JSON
// escaped by Go and by PHP, percent- and form-encoded, and base64 alone and
// as Basic credentials with user (as net/http's SetBasicAuth and as
// RFC 6749 §2.3.1's form-encoded client credentials).
func echoForms(secret, user string) []string {
	goJSON, _ := json.Marshal(secret)
	php := strings.NewReplacer("/", `\/`, "é", `\u00e9`).Replace(string(goJSON))
	b64 := base64.StdEncoding.EncodeToString
	return []string{
		secret, string(goJSON[1 : len(goJSON)-1]), php[1 : len(php)-1], url.QueryEscape(secret), url.PathEscape(secret),
		b64([]byte(secret)), b64([]byte(user + ":" + secret)), b64([]byte(user + ":" + url.QueryEscape(secret))),
	}
}

// Issue 10, point 2: a token server that quotes the password or the Basic
// client credentials it was sent (JSON-escaped as PHP does, form-encoded)
// puts none of them on authx's stderr, in any encoding; the message still
// says what the server said.
func TestServerEchoedSecretsNeverReachStderr(t *testing.T) {
	srv := startJWT(t, jwttest.Options{})
	const pw = `w<o>nder"land/é`
	tests := []struct{ name, config string }{
		{"login password", "login_url: /broken/echo\nusername: alice\npassword: env:API_PW"},
		{"OAuth2 client secret sent with Basic", "mode: oauth2\ntoken_url: /broken/echo\nclient_id: cli\nclient_secret: env:API_PW"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t).set("API_PW=" + pw)
			e.config(fmt.Sprintf("profiles:\n  api:\n    scheme: jwt\n    url: %s\n    config:\n%s", srv.URL, indent(tt.config, "      ")))
			r := e.run("token", "api")
			if r.code != 4 || !strings.Contains(r.stderr, "***") || !strings.Contains(r.stderr, "(bad_login)") {
				t.Fatalf("exit %d, stderr %q; want exit 4 quoting the server, masked", r.code, r.stderr)
			}
			for _, form := range echoForms(pw, "cli") {
				if strings.Contains(r.stderr, form) {
					t.Errorf("stderr shows the secret as %q: %s", form, r.stderr)
				}
			}
		})
	}
}
