package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/authx/authx/plugins/jwt/jwttest"
)

// Must show 3: after a server-side key change, N parallel `authx request`
// make exactly one login (or refresh) between them, and all succeed. Tmeister's
// WordPress plugin answers the stale token with 403 jwt_auth_invalid_token
// (the scheme says: log in again); usefulteam's answers 401 (the scheme says:
// refresh, else log in).
func TestParallelRequestsAfterKeyChangeRenewOnce(t *testing.T) {
	for _, site := range []struct{ name, path string }{
		{"Tmeister 403", ""},
		{"usefulteam 401", "/alt"},
	} {
		for _, n := range []int{6, 20} {
			t.Run(fmt.Sprintf("%s, %d processes", site.name, n), func(t *testing.T) {
				srv := startJWT(t, jwttest.Options{})
				e := newEnv(t).set("API_PW=wonderland")
				e.config(fmt.Sprintf("profiles:\n  blog:\n    scheme: jwt\n    url: %s%s\n    config:\n      preset: wordpress\n      username: alice\n      password: env:API_PW\n", srv.URL, site.path))
				if r := e.run("request", "blog", "GET", "/wp-json/wp/v2/users/me", "--fail"); r.code != 0 {
					t.Fatalf("first request: %+v", r)
				}
				renewals := func() int64 { return srv.Logins() + srv.Refreshes() }
				before := renewals()
				srv.RevokeAccess() // the site's signing key changed: the cached token is refused

				results := make([]result, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() { results[i] = e.run("request", "blog", "GET", "/wp-json/wp/v2/users/me", "--fail") })
				}
				wg.Wait()
				for i, r := range results {
					if r.code != 0 || !strings.Contains(r.stdout, `"slug":"alice"`) {
						t.Errorf("process %d: exit %d, stdout %q, stderr %q", i, r.code, r.stdout, r.stderr)
					}
				}
				if got := renewals() - before; got != 1 {
					t.Errorf("%d parallel requests after the key change made %d logins and refreshes, want exactly 1", n, got)
				}
				noOrphans(t)
			})
		}
	}
}
