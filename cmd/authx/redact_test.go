package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

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

// rawServer answers every request on a fresh connection with what answer
// makes of the request's head, byte for byte (a status line net/http would
// not write), and returns its base URL.
func rawServer(t *testing.T, answer func(head string) string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				var head strings.Builder
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					head.WriteString(line)
					if err != nil || line == "\r\n" {
						break
					}
				}
				io.WriteString(c, answer(head.String()))
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// authorization returns the Authorization value of a request head.
func authorization(head string) string {
	for _, line := range strings.Split(head, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Authorization") {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Issue 10, point 2: authx request's own messages that quote the server (a
// status line, a malformed answer) show none of the profile's secrets.
func TestRequestMessagesQuoteServersWithoutSecrets(t *testing.T) {
	const pw = `S3c<r>"et/PW`
	tests := []struct {
		name   string
		answer func(auth string) string
		code   int
	}{
		{"reason phrase", func(auth string) string {
			return "HTTP/1.1 400 Bad " + auth + " " + url.QueryEscape(pw) + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
		}, 7},
		{"malformed answer", func(auth string) string {
			return strings.TrimPrefix(auth, "Basic ") + "," + pw + "\r\n\r\n" // no space: net/http quotes the line
		}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := rawServer(t, func(head string) string { return tt.answer(authorization(head)) })
			e := newEnv(t).set("API_PW=" + pw)
			e.config(fmt.Sprintf("profiles:\n  api:\n    scheme: basic\n    url: %s\n    config: {username: cid, password: env:API_PW}\n", base))
			r := e.run("request", "api", "GET", "/x", "--fail")
			if r.code != tt.code || !strings.Contains(r.stderr, "***") {
				t.Fatalf("exit %d, stderr %q; want exit %d, masked", r.code, r.stderr, tt.code)
			}
			for _, form := range echoForms(pw, "cid") {
				if strings.Contains(r.stderr, form) {
					t.Errorf("stderr shows the secret as %q: %s", form, r.stderr)
				}
			}
		})
	}
}

// Issue 10, point 2, through the real CLI and plugin process: a plugin's
// error, panic and action error that quote the password (in any encoding)
// reach stderr masked, with the error's exit code; the debug log holds no
// panic text.
func TestPluginMessagesReachStderrMasked(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", dir, "../../core/session/testdata/authx-plugin-leaky").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	const pw = `S3c<r>"et/PW`
	tests := []struct {
		leak string
		args []string
		code int
	}{
		{"login", []string{"token", "api"}, 4},
		{"panic", []string{"token", "api"}, 6},
		{"panic", []string{"token", "api", "--log-level", "debug"}, 6}, // the plugin's log of its panic too
		{"", []string{"leaky", "leak", "-p", "api"}, 7},
		{"log", []string{"token", "api", "--log-level", "debug"}, 0}, // the plugin's own log lines
	}
	for _, tt := range tests {
		t.Run(tt.leak+strings.Join(tt.args, " "), func(t *testing.T) {
			e := newEnv(t).set("API_PW="+pw, "AUTHX_PLUGIN_PATH="+dir)
			e.config(fmt.Sprintf("profiles:\n  api:\n    scheme: leaky\n    config: {user: cid, password: env:API_PW, leak: %q}\n", tt.leak))
			r := e.run(tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, "raw ***") || tt.code == 0 && r.stdout == "" {
				t.Fatalf("exit %d, stderr %q; want exit %d, masked", r.code, r.stderr, tt.code)
			}
			for _, form := range echoForms(pw, "cid") {
				if strings.Contains(r.stderr, form) {
					t.Errorf("stderr shows the secret as %q: %s", form, r.stderr)
				}
			}
		})
	}
}

// TestRedirectNamingTheSecretIsMasked: a hostile server redirects to a URL
// built from the password; the error that quotes that URL (here a
// Location net/http cannot parse) shows it masked, on the first run (the
// password resolved) and from the cache (only the Basic credential known).
func TestRedirectNamingTheSecretIsMasked(t *testing.T) {
	const pw = "Sekr1tPW"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "http://127.0.0.1:1/%zz"+pw)
		w.WriteHeader(http.StatusFound)
	}))
	defer srv.Close()
	e := newEnv(t).set("PW=" + pw)
	e.config(fmt.Sprintf("profiles:\n  b:\n    scheme: basic\n    match: %s/\n    config: {username: cid, password: env:PW}\n", srv.URL))
	for _, run := range []string{"first", "cached"} {
		r := e.run("request", "b", "GET", srv.URL+"/a")
		if r.code == 0 || !strings.Contains(r.stderr, "***") {
			t.Errorf("%s run: %+v; want a failure quoting the Location masked", run, r)
		}
		for _, form := range echoForms(pw, "cid") {
			if strings.Contains(r.stderr, form) {
				t.Errorf("%s run: stderr shows the password as %q: %s", run, form, r.stderr)
			}
		}
	}
}
