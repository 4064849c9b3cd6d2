package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/authx/authx/plugins/jenkins/jenkinstest"
)

func startJenkins(t *testing.T, o jenkinstest.Options) *jenkinstest.Server {
	srv := jenkinstest.Start(o)
	t.Cleanup(srv.Close)
	return srv
}

// jenkinsEnv is a user environment with a jenkins profile "ci" at url.
func jenkinsEnv(t *testing.T, url, config string, vars ...string) *env {
	e := newEnv(t).set(vars...)
	e.config(fmt.Sprintf("profiles:\n  ci:\n    scheme: jenkins\n    url: %s\n    config:\n%s", url, indent(config, "      ")))
	return e
}

var ciJobs = map[string]jenkinstest.Job{"x": {}, "folder/deploy": {}, "remote": {Token: "job-secret"}, "release": {Parameterized: true}}

// Must show 1: with an API token a POST needs no crumb, for authx request
// and for the curl and wget wrappers, and nothing is sent twice.
func TestJenkinsAPITokenNeedsNoCrumb(t *testing.T) {
	srv := startJenkins(t, jenkinstest.Options{Jobs: ciJobs})
	_, token := srv.NewAPIToken("admin", "ci")
	e := jenkinsEnv(t, srv.URL, "user: admin\napi_token: env:JENKINS_TOKEN", "JENKINS_TOKEN="+token)

	r := e.run("request", "ci", "POST", "/job/x/build", "-i", "--fail")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "HTTP/1.1 201") || !strings.Contains(r.stdout, "Location: "+srv.URL+"/queue/item/") {
		t.Fatalf("build: %+v", r)
	}
	if r := e.run("request", "ci", "POST", "/job/folder/job/deploy/build", "--fail"); r.code != 0 {
		t.Fatalf("folder job: %+v", r)
	}
	if _, err := exec.LookPath("curl"); err == nil {
		r := e.run("curl", "ci", "--", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", srv.URL+"/job/x/build")
		if r.code != 0 || r.stdout != "201" {
			t.Errorf("curl: %+v", r)
		}
	}
	if _, err := exec.LookPath("wget"); err == nil {
		if r := e.run("wget", "ci", "--", "-q", "-O", "/dev/null", "--post-data=", srv.URL+"/job/x/build"); r.code != 0 {
			t.Errorf("wget: %+v", r)
		}
	}
	want := 2
	if _, err := exec.LookPath("curl"); err == nil {
		want++
	}
	if _, err := exec.LookPath("wget"); err == nil {
		want++
	}
	if srv.CrumbRequests() != 0 || srv.Builds("x") != want-1 || srv.Builds("folder/deploy") != 1 {
		t.Errorf("crumb requests %d, builds %d and %d", srv.CrumbRequests(), srv.Builds("x"), srv.Builds("folder/deploy"))
	}
	if n := srv.Requests("POST", "/job/x/build"); n != int64(want-1) {
		t.Errorf("%d POSTs reached /job/x/build for %d builds: credentials were not preemptive", n, want-1)
	}
}

// Must show 2: with a password the first POST fetches a crumb and session
// once, later POSTs reuse them, and after a Jenkins restart the stale crumb
// is replaced and the POST retried, in one command.
func TestJenkinsPasswordCrumbSession(t *testing.T) {
	srv := startJenkins(t, jenkinstest.Options{Jobs: ciJobs, CrumbField: "X-Custom-Crumb"})
	e := jenkinsEnv(t, srv.URL, "user: admin\npassword: env:JENKINS_PW", "JENKINS_PW=admin-pw")
	for i := range 2 {
		if r := e.run("request", "ci", "POST", "/job/x/build", "--fail"); r.code != 0 {
			t.Fatalf("POST %d: %+v", i, r)
		}
	}
	if srv.CrumbRequests() != 1 {
		t.Fatalf("%d crumb requests for two POSTs, want 1", srv.CrumbRequests())
	}
	srv.RestartSessions()
	r := e.run("request", "ci", "POST", "/job/x/build", "-d", "delay=0sec", "--fail")
	if r.code != 0 || srv.CrumbRequests() != 2 || srv.Builds("x") != 3 {
		t.Fatalf("after a restart: %+v; crumb requests %d, builds %d", r, srv.CrumbRequests(), srv.Builds("x"))
	}
	if n := srv.Requests("POST", "/job/x/build"); n != 4 {
		t.Errorf("%d POSTs, want 4 (three builds and one refused)", n)
	}
	if r := e.run("request", "ci", "POST", "/job/x/build", "--fail"); r.code != 0 || srv.CrumbRequests() != 2 {
		t.Errorf("the new crumb was not cached: %+v, %d crumb requests", r, srv.CrumbRequests())
	}
}

// The other crumb cases: a Jenkins without CSRF protection (the crumb
// issuer answers 404) needs no crumb even with a password, and
// "crumb: always" fetches one even with an API token; each once.
func TestJenkinsCrumbModes(t *testing.T) {
	off := startJenkins(t, jenkinstest.Options{Jobs: ciJobs, CSRFDisabled: true})
	on := startJenkins(t, jenkinstest.Options{Jobs: ciJobs})
	_, token := on.NewAPIToken("admin", "ci")
	tests := []struct {
		name   string
		srv    *jenkinstest.Server
		config string
	}{
		{"CSRF protection off, password", off, "user: admin\npassword: env:PW"},
		{"crumb: always, API token", on, "user: admin\napi_token: env:T\ncrumb: always"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := jenkinsEnv(t, tt.srv.URL, tt.config, "PW=admin-pw", "T="+token)
			crumbs, builds := tt.srv.CrumbRequests(), tt.srv.Builds("x")
			for i := range 2 {
				if r := e.run("request", "ci", "POST", "/job/x/build", "--fail"); r.code != 0 {
					t.Fatalf("POST %d: %+v", i, r)
				}
			}
			if n := tt.srv.CrumbRequests() - crumbs; n != 1 || tt.srv.Builds("x")-builds != 2 {
				t.Errorf("%d crumb requests and %d builds for two POSTs, want 1 and 2", n, tt.srv.Builds("x")-builds)
			}
		})
	}
}

// Must show 3: each refusal has its diagnosis and its exit code, and none
// is retried.
func TestJenkinsDiagnoses(t *testing.T) {
	srv := startJenkins(t, jenkinstest.Options{
		Jobs: ciJobs,
		Users: map[string]jenkinstest.User{
			"admin":  {Password: "admin-pw", Permissions: []string{"hudson.model.Hudson.Administer"}},
			"viewer": {Password: "viewer-pw", Permissions: []string{"hudson.model.Hudson.Read", "hudson.model.Item.Read"}},
		},
	})
	uuid, token := srv.NewAPIToken("admin", "ci")
	_, viewerToken := srv.NewAPIToken("viewer", "ci")
	// A reverse proxy that strips Authorization, as a misconfigured Apache does.
	target, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	stripping := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("Authorization")
		proxy.ServeHTTP(w, r)
	}))
	defer stripping.Close()

	admin := jenkinsEnv(t, srv.URL, "user: admin\napi_token: env:T", "T="+token)
	if r := admin.run("login", "ci"); r.code != 0 {
		t.Fatalf("login: %+v", r)
	}
	tests := []struct {
		name   string
		env    *env
		args   []string
		code   int
		want   string
		path   string
		before func()
	}{
		{"wrong job token", admin, []string{"GET", "/job/remote/build?token=wrong"}, 7, "refused the job's build token", "/job/remote/build", nil},
		{"missing permission", jenkinsEnv(t, srv.URL, "user: viewer\napi_token: env:T", "T="+viewerToken),
			[]string{"POST", "/job/x/build"}, 14, `user "viewer" lacks the permission hudson.model.Item.Build`, "/job/x/build", nil},
		{"credentials stripped on the way", jenkinsEnv(t, stripping.URL, "user: admin\napi_token: env:T", "T="+token),
			[]string{"GET", "/api/json"}, 2, "as anonymous", "/whoAmI/api/json", nil},
		// With a password the crumb request meets the anonymous 403 itself.
		{"credentials stripped, password profile", jenkinsEnv(t, stripping.URL, "user: admin\npassword: env:PW", "PW=admin-pw"),
			[]string{"POST", "/job/x/build"}, 2, "Jenkins saw the request as anonymous (it needs hudson.model.Hudson.Read): it was sent without credentials",
			"/crumbIssuer/api/json", nil},
		{"revoked token", admin, []string{"GET", "/api/json"}, 4, `Jenkins rejected user "admin"'s API token (HTTP 401, realm "Jenkins")`, "/api/json",
			func() { admin.run("jenkins", "revoke-token", "--profile", "ci", uuid) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.before != nil {
				tt.before()
			}
			requests := func() int64 { return srv.Requests("GET", tt.path) + srv.Requests("POST", tt.path) }
			before := requests()
			r := tt.env.run(append([]string{"request", "ci"}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("exit %d %q; want exit %d and one line with %q", r.code, r.stderr, tt.code, tt.want)
			}
			if n := requests() - before; n != 1 {
				t.Errorf("%d requests to %s, want 1: no retry", n, tt.path)
			}
		})
	}
}

// Must show 4: whoami, new-token and revoke-token against the emulator; a
// new token works at once and stops working when revoked.
func TestJenkinsActions(t *testing.T) {
	srv := startJenkins(t, jenkinstest.Options{Jobs: ciJobs})
	e := jenkinsEnv(t, srv.URL, "user: admin\npassword: env:JENKINS_PW", "JENKINS_PW=admin-pw")
	who := e.run("jenkins", "whoami", "--profile", "ci")
	var w map[string]any
	if json.Unmarshal([]byte(who.stdout), &w); who.code != 0 || w["name"] != "admin" || w["anonymous"] != false {
		t.Fatalf("whoami: %+v", who)
	}
	created := e.run("jenkins", "new-token", "--profile", "ci", "--name", "nightly")
	token := strings.TrimSpace(created.stdout)
	if created.code != 0 || !regexp.MustCompile(`^11[0-9a-f]{32}$`).MatchString(token) {
		t.Fatalf("new-token: %+v", created)
	}
	if strings.Contains(created.stderr, token) {
		t.Errorf("the token value also went to stderr")
	}
	uuid := regexp.MustCompile(`uuid ([0-9a-f-]{36})`).FindStringSubmatch(created.stderr)
	if uuid == nil {
		t.Fatalf("no uuid in %q", created.stderr)
	}
	withToken := jenkinsEnv(t, srv.URL, "user: admin\napi_token: env:T", "T="+token)
	if r := withToken.run("jenkins", "whoami", "--profile", "ci"); r.code != 0 {
		t.Fatalf("the new token: %+v", r)
	}
	if r := e.run("jenkins", "revoke-token", "--profile", "ci", uuid[1]); r.code != 0 {
		t.Fatalf("revoke-token: %+v", r)
	}
	if r := withToken.run("jenkins", "whoami", "--profile", "ci"); r.code != 4 || !strings.Contains(r.stderr, "rejected") {
		t.Errorf("revoked token: %+v, want exit 4", r)
	}
}

// The build action triggers a job, in a folder or with parameters, and with
// the profile's build_token a user without Item.Build may trigger that job.
func TestJenkinsBuildAction(t *testing.T) {
	srv := startJenkins(t, jenkinstest.Options{Jobs: ciJobs, Users: map[string]jenkinstest.User{
		"admin":  {Password: "admin-pw", Permissions: []string{"hudson.model.Hudson.Administer"}},
		"viewer": {Password: "viewer-pw", Permissions: []string{"hudson.model.Hudson.Read", "hudson.model.Item.Read"}},
	}})
	admin := jenkinsEnv(t, srv.URL, "user: admin\npassword: env:PW", "PW=admin-pw")
	for _, args := range [][]string{{"folder/deploy"}, {"release", "VERSION=1.2", "DRY_RUN=true"}} {
		r := admin.run(append([]string{"jenkins", "build", "-p", "ci"}, args...)...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, srv.URL+"/queue/item/") {
			t.Errorf("build %v: %+v", args, r)
		}
	}
	viewer := jenkinsEnv(t, srv.URL, "user: viewer\npassword: env:PW\nbuild_token: env:JOB_TOKEN", "PW=viewer-pw", "JOB_TOKEN=job-secret")
	if r := viewer.run("jenkins", "build", "-p", "ci", "remote"); r.code != 0 {
		t.Errorf("build with the job token: %+v", r)
	}
	if r := viewer.run("jenkins", "build", "-p", "ci", "x"); r.code != 14 {
		t.Errorf("build without permission: %+v, want 14", r)
	}
	if srv.Builds("folder/deploy") != 1 || srv.Builds("release") != 1 || srv.Builds("remote") != 1 || srv.Builds("x") != 0 {
		t.Errorf("builds: %d %d %d %d", srv.Builds("folder/deploy"), srv.Builds("release"), srv.Builds("remote"), srv.Builds("x"))
	}
}

// A rotated API token is picked up when Jenkins refuses the cached one, and
// the POST is sent once more: Jenkins authenticates before anything runs.
func TestJenkinsRotatedToken(t *testing.T) {
	srv := startJenkins(t, jenkinstest.Options{Jobs: ciJobs})
	oldUUID, oldToken := srv.NewAPIToken("admin", "old")
	_, newToken := srv.NewAPIToken("admin", "new")
	e := jenkinsEnv(t, srv.URL, "user: admin\napi_token: env:T", "T="+oldToken)
	if r := e.run("login", "ci"); r.code != 0 {
		t.Fatal(r)
	}
	if r := e.run("jenkins", "revoke-token", "-p", "ci", oldUUID); r.code != 0 {
		t.Fatal(r)
	}
	e.set("T=" + newToken)
	r := e.run("request", "ci", "POST", "/job/x/build", "--fail")
	if r.code != 0 || srv.Builds("x") != 1 || srv.Requests("POST", "/job/x/build") != 2 {
		t.Fatalf("after rotation: %+v; builds %d, POSTs %d; want one refused POST and one build", r, srv.Builds("x"), srv.Requests("POST", "/job/x/build"))
	}
}

// The scheme's own requests follow no redirect: Basic credentials and a
// crumb would go wherever it points (net/http keeps them on another port).
func TestJenkinsFollowsNoRedirect(t *testing.T) {
	var leaked atomic.Value
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(r.Header.Get("Authorization"))
	}))
	defer elsewhere.Close()
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusFound)
	}))
	defer redirecting.Close()
	e := jenkinsEnv(t, redirecting.URL, "user: admin\napi_token: env:T", "T=11deadbeefdeadbeefdeadbeefdeadbeef")
	r := e.run("jenkins", "whoami", "-p", "ci")
	if r.code != 2 || !strings.Contains(r.stderr, "Jenkins redirects to") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("redirect: %+v, want exit 2 naming the redirect", r)
	}
	if v := leaked.Load(); v != nil {
		t.Errorf("the redirect target received Authorization %q", v)
	}
}
