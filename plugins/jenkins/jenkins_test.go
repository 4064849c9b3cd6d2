package jenkins

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core"
)

func TestConfigure(t *testing.T) {
	tests := []struct {
		cfg   core.Config
		field string
	}{
		{core.Config{"user": "alice", "api_token": "t"}, ""},
		{core.Config{"user": "alice", "password": "p", "crumb": "always"}, ""},
		{core.Config{"user": "alice"}, "api_token"},
		{core.Config{"user": "alice", "api_token": "t", "password": "p"}, "password"},
		{core.Config{"user": "a:b", "api_token": "t"}, "user"},
	}
	for _, tt := range tests {
		ds := New().Configure(context.Background(), tt.cfg)
		switch {
		case tt.field == "" && len(ds) > 0:
			t.Errorf("%v: unexpected %+v", tt.cfg, ds)
		case tt.field != "" && (len(ds) != 1 || ds[0].Field != tt.field):
			t.Errorf("%v: %+v, want one diagnostic on %s", tt.cfg, ds, tt.field)
		}
	}
}

func TestCrumbNeeds(t *testing.T) {
	tests := []struct {
		cfg  core.Config
		want bool
	}{
		{core.Config{"user": "a", "api_token": "t"}, false},
		{core.Config{"user": "a", "password": "p"}, true},
		{core.Config{"user": "a", "api_token": "t", "crumb": "always"}, true},
		{core.Config{"user": "a", "password": "p", "crumb": "never"}, false},
	}
	for _, tt := range tests {
		st, _ := read(tt.cfg)
		if st.needsCrumb() != tt.want {
			t.Errorf("%v: needsCrumb %v, want %v", tt.cfg, !tt.want, tt.want)
		}
	}
}

// Each Jenkins refusal has its own kind; the headers and bodies are those
// of Jenkins (see jenkinstest).
func TestDiagnose(t *testing.T) {
	st := &settings{user: "alice", isToken: true}
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Add(kv[i], kv[i+1])
		}
		return out
	}
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		kind   core.Kind
		want   string
	}{
		{"bad token", 401, h("WWW-Authenticate", `Basic realm="Jenkins", charset="UTF-8"`), "", core.KindRejected, `user "alice"'s API token (HTTP 401, realm "Jenkins")`},
		{"anonymous", 403, h("X-You-Are-Authenticated-As", "anonymous", "X-Required-Permission", "hudson.model.Hudson.Read"), "Authentication required", core.KindConfig, "sent without credentials"},
		{"permission", 403, h("X-You-Are-Authenticated-As", "alice", "X-Required-Permission", "hudson.model.Item.Build"), "", core.KindForbidden, "lacks the permission hudson.model.Item.Build"},
		{"job token", 403, h(), "<pre>Invalid token provided.</pre>", core.KindHTTP, "build token"},
	}
	for _, tt := range tests {
		d := diagnose(st, tt.status, tt.header, []byte(tt.body))
		if d == nil || d.Kind != tt.kind || !strings.Contains(d.Msg, tt.want) {
			t.Errorf("%s: %v, want kind %v with %q", tt.name, d, tt.kind, tt.want)
		}
	}
	if d := diagnose(st, 403, h(), []byte("No valid crumb was included in the request")); d != nil {
		t.Errorf("a stale crumb is no diagnosis but a retry: %v", d)
	}
	if !staleCrumb(403, []byte("<h2>HTTP ERROR 403 No valid crumb was included in the request</h2>")) {
		t.Error("the Jetty crumb page is not recognised")
	}
}

// A crumb request that fails tells how: a server that is not Jenkins (an
// HTML page), one too slow, one not there.
func TestLoginFailureKinds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/portal/"):
			w.Header().Set("Content-Type", "text/html;charset=utf-8")
			io.WriteString(w, "<html><title>Sign in</title></html>")
		case strings.HasPrefix(r.URL.Path, "/slow/"):
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		}
	}))
	defer srv.Close()
	tests := []struct {
		root string
		kind core.Kind
		want string
	}{
		{srv.URL + "/portal", core.KindBadAnswer, "/portal/crumbIssuer/api/json: the answer holds no crumb"},
		{srv.URL + "/slow", core.KindTimeout, "no answer within 100ms (the profile's timeout)"},
		{"http://127.0.0.1:9", core.KindNetwork, "connection refused"},
	}
	for _, tt := range tests {
		cfg := core.Config{"user": "alice", "password": "s3cret-pw", "timeout": "100ms"}
		_, err := New().Login(context.Background(), core.LoginRequest{Config: cfg, URL: tt.root})
		if core.KindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("%s: %v (%v), want %v naming %q", tt.root, err, core.KindOf(err), tt.kind, tt.want)
		}
	}
}

// TestDiagnoseMasksEchoedCredentials: the header values a diagnosis quotes
// (the realm, the permission, the user) never show the token, the Basic
// credentials or the build token, in any encoding.
func TestDiagnoseMasksEchoedCredentials(t *testing.T) {
	st := &settings{user: "cid", secret: `S3c<r>"etPW`, isToken: true, buildToken: "b-tok-1234"}
	basic := st.basic()
	tests := []struct {
		name   string
		status int
		header http.Header
		want   string
	}{
		{"Basic credentials in the realm", 401, http.Header{"Www-Authenticate": {`Basic realm="auth was Basic ` + basic + `"`}}, `realm "auth was Basic ***"`},
		{"JSON-escaped token in the realm", 401, http.Header{"Www-Authenticate": {`Basic realm="S3c\\u003cr\\u003e\\\"etPW"`}}, `realm "***"`},
		{"form-encoded token as the user", 403, http.Header{"X-Required-Permission": {"Job/Build"}, "X-You-Are-Authenticated-As": {"S3c%3Cr%3E%22etPW"}}, `user "***" lacks`},
		{"build token as the permission", 403, http.Header{"X-Required-Permission": {"b-tok-1234"}, "X-You-Are-Authenticated-As": {"anonymous"}}, "(it needs ***)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := diagnose(st, tt.status, tt.header, nil)
			if d == nil || !strings.Contains(d.Msg, tt.want) {
				t.Errorf("%v, want it to hold %q", d, tt.want)
			}
		})
	}
}
