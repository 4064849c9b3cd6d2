package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// recorder is a server that records the path and Authorization header of
// every request it receives, exactly as sent.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string // "RAWPATH AUTHORIZATION"
}

func newRecorder(t *testing.T) *recorder {
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.seen = append(rec.seen, r.URL.EscapedPath()+" "+r.Header.Get("Authorization"))
		rec.mu.Unlock()
		fmt.Fprintln(w, "ok")
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (rec *recorder) take() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	s := rec.seen
	rec.seen = nil
	return s
}

// TestDotSegmentsDoNotLeaveTheMatchPrefix: with match: URL/api/, a URL
// that leaves /api/ through dot segments (plain or percent-encoded) is
// outside the profile for `authx header --url` and `authx request`, and
// `authx request` sends the normalized URL it matched.
func TestDotSegmentsDoNotLeaveTheMatchPrefix(t *testing.T) {
	rec := newRecorder(t)
	e := newEnv(t).set("PW=s3cr3t-pw")
	e.config(fmt.Sprintf(`
profiles:
  api:
    scheme: basic
    match: %s/api/
    config:
      username: alice
      password: env:PW
`, rec.URL))
	const basic = "Basic YWxpY2U6czNjcjN0LXB3"
	for _, path := range []string{"/api/../echo", "/api/%2e%2e/echo", "/api/.%2E/echo", "/api/x/../../echo", "/api/..;/echo", "/api/x%2F..%2F..%2Fecho"} {
		for _, args := range [][]string{
			{"header", "api", "--url", rec.URL + path},
			{"header", "--url", rec.URL + path},
			{"token", "api", "--url", rec.URL + path},
			{"request", "api", "GET", rec.URL + path},
			{"request", "GET", rec.URL + path},
			{"request", "api", "GET", strings.TrimPrefix(path, "/api/")}, // relative to match
			{"curl", "api", "--", "-s", rec.URL + path},
			{"curl", "--", "-s", rec.URL + path},
			{"wget", "api", "--", "-q", "-O-", rec.URL + path},
		} {
			r := e.run(args...)
			if r.code != 2 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("authx %s: %+v; want exit 2, one line", strings.Join(args, " "), r)
			}
		}
	}
	if seen := rec.take(); len(seen) != 0 {
		t.Errorf("requests outside /api/ were sent: %q", seen)
	}
	// Within the prefix, the normalized URL is what goes out.
	for _, path := range []string{"/api/x/../echo", "/api/%2e/echo", "/api/%65cho"} {
		if r := e.run("request", "api", "GET", rec.URL+path); r.code != 0 || r.stdout != "ok\n" {
			t.Errorf("request %s: %+v", path, r)
		}
	}
	if r := e.run("header", "api", "--url", rec.URL+"/api/x/../echo"); r.code != 0 || r.stdout != "Authorization: "+basic+"\n" {
		t.Errorf("header --url inside the prefix: %+v", r)
	}
	want := []string{"/api/echo " + basic, "/api/echo " + basic, "/api/echo " + basic}
	if seen := rec.take(); strings.Join(seen, "|") != strings.Join(want, "|") {
		t.Errorf("sent %q, want %q", seen, want)
	}
}
