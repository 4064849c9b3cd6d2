package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// Issue 14, point 4: with AUTHX_LOG=debug, what the plugin decided about a
// refusal is logged by name, with its diagnosis (the profile's secrets and
// the credential masked) or its error's class, on the first refusal and on
// the second; never a decision's number.
func TestDebugLogNamesDecisionsAndDiagnoses(t *testing.T) {
	pluginDir := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", pluginDir, "../../core/session/testdata/authx-plugin-counter").CombinedOutput(); err != nil {
		t.Fatalf("building the counter plugin: %v\n%s", err, out)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) }))
	defer srv.Close()
	for _, tc := range []struct{ second, want string }{
		{"", `second refusal: profile=ct status=401 decision=fail diagnosis="counter: refused again with token \"***\" (HTTP 401)"`},
		{"error", `second refusal: profile=ct status=401 error="counter: the account lacks the permission (HTTP 401)" class=forbidden exit=14`},
		{"retry-diagnosis", `second refusal: profile=ct status=401 decision=retry diagnosis="counter: would try `}, // "again", the retry's token, masked too
	} {
		t.Run("second="+tc.second, func(t *testing.T) {
			e := newEnv(t).set("AUTHX_PLUGIN_PATH="+pluginDir, "AUTHX_LOG=debug")
			e.config("profiles:\n  ct:\n    scheme: counter\n    url: " + srv.URL + "/\n    config: {second: '" + tc.second + "'}\n")
			r := e.run("request", "ct", "GET", srv.URL+"/x")
			if r.code == 0 {
				t.Fatalf("refused twice, yet exit 0: %q", r.stderr)
			}
			for _, want := range []string{"challenge: profile=ct status=401 decision=retry", tc.want} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("the debug log lacks %q:\n%s", want, r.stderr)
				}
			}
			if m := regexp.MustCompile(`decision=\S*\d`).FindString(r.stderr); m != "" {
				t.Errorf("the debug log has a numeric decision %q:\n%s", m, r.stderr)
			}
		})
	}
}

// The first refusal's diagnosis is logged too (testkit answers a 401 with
// REFRESH and the diagnosis "token expired").
func TestDebugLogShowsFirstDiagnosis(t *testing.T) {
	srv := newTokenServer(t, 3600)
	e := newEnv(t).set("TK_SECRET=right", "AUTHX_LOG=debug")
	e.config(testkitConfig(srv.URL, ""))
	r := e.run("request", "tk", "GET", srv.URL+"/api/reject")
	if want := `challenge: profile=tk status=401 decision=refresh diagnosis="token expired"`; !strings.Contains(r.stderr, want) {
		t.Errorf("exit %d; the debug log lacks %q:\n%s", r.code, want, r.stderr)
	}
}

// The logged diagnosis and error are masked as the user's error is: a
// plugin that quotes the password (in the encodings a server echoes it)
// and the token in both shows neither in the debug log.
func TestDebugLogMasksDiagnoses(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", dir, "../../core/session/testdata/authx-plugin-leaky").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) }))
	defer srv.Close()
	const pw = `S3c<r>"et/PW`
	for _, leak := range []string{"challenge", "forbidden"} {
		t.Run(leak, func(t *testing.T) {
			e := newEnv(t).set("API_PW="+pw, "AUTHX_PLUGIN_PATH="+dir, "AUTHX_LOG=debug")
			e.config(fmt.Sprintf("profiles:\n  api:\n    scheme: leaky\n    url: %s/\n    config: {user: cid, password: env:API_PW, leak: %s}\n", srv.URL, leak))
			r := e.run("request", "api", "GET", srv.URL+"/x")
			if !regexp.MustCompile(`challenge: profile=api status=401 (decision=fail diagnosis|error)="[^"]*raw \*\*\*`).MatchString(r.stderr) {
				t.Fatalf("exit %d; the debug log lacks the masked answer:\n%s", r.code, r.stderr)
			}
			for _, form := range echoForms(pw, "cid") {
				if strings.Contains(r.stderr, form) {
					t.Errorf("stderr shows the secret as %q: %s", form, r.stderr)
				}
			}
		})
	}
}
