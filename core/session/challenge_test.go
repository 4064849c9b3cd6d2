package session

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/authhttp"
	"github.com/authx/authx/core/cache"
)

// Issue 12, point 3: when the retried request is refused again, the
// plugin is asked once more (Retried) and its diagnosis, or its error's
// kind and message, is the error; there is no second retry. A retry
// credential the server refused with 401 does not stay cached; one it
// refused with 403 (it authenticates, but lacks a permission) does.
func TestSecondRefusalIsDiagnosed(t *testing.T) {
	dir := counterDir(t)
	for _, tc := range []struct {
		name, second string
		status       int
		kind         core.Kind
		msg          string
		cached       bool
	}{
		{"diagnosis", "", 401, core.KindRejected, `counter: refused again with token "***" (HTTP 401)`, false},
		{"error", "error", 401, core.KindForbidden, "counter: the account lacks the permission (HTTP 401)", false},
		{"retry is not followed", "retry", 401, core.KindRejected, "refused", false},
		{"forbidden", "", 403, core.KindHTTP, `counter: refused again with token "***" (HTTP 403)`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first := "challenged-401" // the login's probe got the 401 too
			if tc.status != 401 {
				first = "unchallenged"
			}
			var hits atomic.Int64
			var tokens []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tok := r.Header.Get("X-Token"); tok != "" { // not the login's probe
					hits.Add(1)
					tokens = append(tokens, tok)
				}
				w.WriteHeader(tc.status)
			}))
			defer srv.Close()
			store := cache.New(filepath.Join(t.TempDir(), "cache"))
			s := counterSession(t, dir, store, map[string]any{"second": tc.second})
			s.Profile.URL = srv.URL + "/"
			req, _ := http.NewRequest("GET", srv.URL+"/x", nil)
			resp, err := authhttp.NewClient(s, []string{srv.URL + "/"}, nil).Do(req)
			if resp != nil {
				resp.Body.Close()
			}
			var ce *authhttp.ChallengeError
			if !errors.As(err, &ce) || core.KindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Do = %v (kind %v), want a ChallengeError of kind %v saying %q", err, core.KindOf(err), tc.kind, tc.msg)
			}
			if hits.Load() != 2 || strings.Join(tokens, ",") != first+",retry" {
				t.Errorf("the server got %d requests with tokens %v, want 2: %s, retry", hits.Load(), tokens, first)
			}
			e := s.Cached()
			if got := e != nil && e.Credential.Token == "retry"; got != tc.cached {
				t.Errorf("cached entry %+v; want the retry credential cached: %v", e, tc.cached)
			}
			if e != nil && strings.HasPrefix(e.Credential.Token, "challenged") {
				t.Errorf("the credential the server refused first is still cached")
			}
		})
	}
}
