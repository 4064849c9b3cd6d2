package jenkins

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/authx/authx/core"
	"github.com/authx/authx/plugins/jenkins/jenkinstest"
)

// Issue 10, point 1: a crumb answer whose field or crumb would inject a
// header or a wgetrc line is a bad answer, quoted nowhere.
func TestHostileCrumbAnswerIsRefused(t *testing.T) {
	tests := []struct {
		name         string
		field, crumb string
		want         string
	}{
		{"newlines in crumbRequestField", "X-A: x\noutput_document = ~/pwned\nheader = X-B", "", "crumbRequestField is not an HTTP header name"},
		{"CR LF in the crumb", "", "c1\r\nX-Evil: 1", "the crumb holds whitespace or a control character"},
		{"space in the crumb", "", "c1 c2", "the crumb holds whitespace"},
		{"long crumb", "", strings.Repeat("c", maxCrumbSize+1), "longer than 1024 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := jenkinstest.Start(jenkinstest.Options{CrumbField: tt.field, CrumbValue: tt.crumb})
			defer srv.Close()
			_, err := New().Login(context.Background(), core.LoginRequest{URL: srv.URL, Config: core.Config{"user": "admin", "password": "admin-pw"}})
			if core.KindOf(err) != core.KindBadAnswer || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%v (%v), want a bad answer saying %q", err, core.KindOf(err), tt.want)
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\r\n") || strings.Contains(msg, "Evil") || strings.Contains(msg, "pwned") || strings.Contains(msg, "c1") {
				t.Errorf("the message quotes the answer: %q", msg)
			}
		})
	}
	// Jenkins' own answer, any field name Jenkins allows, passes.
	srv := jenkinstest.Start(jenkinstest.Options{CrumbField: ".crumb"})
	defer srv.Close()
	cred, err := New().Login(context.Background(), core.LoginRequest{URL: srv.URL, Config: core.Config{"user": "admin", "password": "admin-pw"}})
	if err != nil || cred.Validate() != nil || len(cred.Headers) != 2 || cred.Headers[1].Name != ".crumb" || len(cred.Cookies) != 1 {
		t.Fatalf("Jenkins' own crumb: %+v, %v", cred, err)
	}
}

// FuzzCrumbAnswer: parseCrumb never panics, refuses with a one-line bad
// answer that quotes nothing, and what it accepts is a header line that
// Validate accepts and net/http would send as is.
func FuzzCrumbAnswer(f *testing.F) {
	f.Add([]byte(`{"_class":"hudson.security.csrf.DefaultCrumbIssuer","crumb":"0123abcd","crumbRequestField":"Jenkins-Crumb"}`))
	f.Add([]byte(`{"crumb":"c1","crumbRequestField":"X-A: x\noutput_document = ~/pwned\nheader = X-B"}`))
	f.Add([]byte(`{"crumb":"c1\r\nX-Evil: 1","crumbRequestField":"Jenkins-Crumb"}`))
	f.Add([]byte(`{"crumb":"c\u0000","crumbRequestField":".crumb"}`))
	f.Add([]byte(`<html>login</html>`))
	f.Add([]byte(`{"crumb":1,"crumbRequestField":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := parseCrumb(body)
		if err != nil {
			if core.KindOf(err) != core.KindBadAnswer || strings.ContainsAny(err.Error(), "\r\n\x00") {
				t.Fatalf("error %q (%v)", err, core.KindOf(err))
			}
			known := false // fixed messages only: nothing from the answer
			for _, m := range []string{"the answer holds no crumb and crumbRequestField; is url the Jenkins root?",
				"crumbRequestField is not an HTTP header name (it holds a separator, space or control character, or is too long); refusing to send it",
				"the crumb holds whitespace or a control character, or is longer than 1024 bytes; refusing to send it"} {
				known = known || err.Error() == m
			}
			if !known {
				t.Fatalf("unexpected message %q", err)
			}
			return
		}
		cred := &core.Credential{Headers: []core.Header{{Name: c.Field, Value: c.Value}}}
		if err := cred.Validate(); err != nil {
			t.Fatalf("accepted %q: %q, which Validate refuses: %v", c.Field, c.Value, err)
		}
		if strings.ContainsAny(c.Field+c.Value, "\r\n\x00 :") {
			t.Fatalf("accepted %q: %q", c.Field, c.Value)
		}
		h := http.Header{}
		h.Set(c.Field, c.Value)
		if h.Get(c.Field) != c.Value {
			t.Fatalf("net/http changes %q: %q", c.Field, c.Value)
		}
	})
}

// FuzzSessionCookies: whatever Set-Cookie lines a server sends, the cookies
// kept validate, are at most maxCookies, and survive a Cookie header round
// trip.
func FuzzSessionCookies(f *testing.F) {
	f.Add("JSESSIONID.1a2b3c4d=node01x2y3.node0; Path=/; HttpOnly", "other=1")
	f.Add("a;b=v", "s=v\r\nX-Evil: 1")
	f.Add(`s="a b"; Path=/`, "t=x, u=y; Path=/\x00")
	f.Add("s=v; Path=/;\r\nX-Evil: 1", "=v")
	f.Fuzz(func(t *testing.T, a, b string) {
		resp := &http.Response{Header: http.Header{"Set-Cookie": {a, b}}}
		cs := sessionCookies(resp)
		if len(cs) > maxCookies {
			t.Fatalf("%d cookies", len(cs))
		}
		cred := &core.Credential{Cookies: cs}
		if err := cred.Validate(); err != nil {
			t.Fatalf("kept %+v: %v", cs, err)
		}
		if len(cs) == 0 {
			return
		}
		back, err := http.ParseCookie(cred.CookieHeader())
		if err != nil || len(back) != len(cs) {
			t.Fatalf("Cookie header %q parsed back as %v (%v)", cred.CookieHeader(), back, err)
		}
		for i := range cs {
			if back[i].Name != cs[i].Name || back[i].Value != cs[i].Value {
				t.Fatalf("cookie %d changed: %+v → %+v", i, cs[i], back[i])
			}
		}
	})
}
