package session

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/config"
	"github.com/authx/authx/core/host"
	"github.com/authx/authx/core/secret"
)

// server issues tokens that expire in 61s; /refresh answers 409 (refresh
// token rejected) when reject is set.
type server struct {
	*httptest.Server
	logins, refreshes atomic.Int64
	reject            atomic.Bool
	down              atomic.Bool // answer 503 to everything
}

func newServer(t *testing.T) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.down.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		switch r.URL.Path {
		case "/login":
			s.logins.Add(1)
			json.NewEncoder(w).Encode(map[string]any{"token": "login", "refresh": "r", "expires_in": 61})
		case "/refresh":
			s.refreshes.Add(1)
			if s.reject.Load() {
				w.WriteHeader(http.StatusConflict)
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"token": "refreshed", "expires_in": 61})
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func newSession(t *testing.T, srv *server, pluginDir string, now func() time.Time) *Session {
	h := host.New(host.Options{SearchPath: []string{pluginDir}})
	t.Cleanup(h.Close)
	return &Session{
		Profile: &config.Profile{Name: "tk", Scheme: "testkit", Config: map[string]any{"server": srv.URL, "user": "u", "secret": "env:TK"}},
		Host:    h, Store: cache.New(filepath.Join(t.TempDir(), "cache")),
		Secrets: &secret.Resolver{Getenv: func(string) (string, bool) { return "right", true }},
		Now:     now, Skew: core.DefaultRefreshSkew,
	}
}

// testkitDir builds the testkit plugin into a temporary directory.
func testkitDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", dir, "../internal/testkit/cmd/authx-plugin-testkit").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return dir
}

func TestRefreshThenLoginAgain(t *testing.T) {
	dir := testkitDir(t)
	srv := newServer(t)
	now := time.Now()
	clock := func() time.Time { return now }
	s := newSession(t, srv, dir, clock)
	defer s.Close()
	ctx := context.Background()

	steps := []struct {
		advance time.Duration
		reject  bool
		token   string
		source  Source
	}{
		{0, false, "login", LoggedIn},
		{0, false, "login", FromCache},
		{50 * time.Second, false, "refreshed", Refreshed}, // within the last quarter of its 61s life
		{50 * time.Second, true, "login", LoggedIn},       // refresh token rejected: log in again
	}
	for i, st := range steps {
		now = now.Add(st.advance)
		srv.reject.Store(st.reject)
		res, err := s.Get(ctx)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if res.Credential.Token != st.token || res.Source != st.source {
			t.Errorf("step %d: %s from %v, want %s from %v", i, res.Credential.Token, res.Source, st.token, st.source)
		}
	}
	if srv.logins.Load() != 2 || srv.refreshes.Load() != 2 {
		t.Errorf("logins %d, refreshes %d; want 2 and 2", srv.logins.Load(), srv.refreshes.Load())
	}
	// The refreshed credential kept the old state (the server sent no new refresh token).
	e := s.Cached()
	if e == nil || string(e.Credential.State) != "r" {
		t.Errorf("cached state = %+v", e)
	}
}

func TestFreshCacheNeedsNoPlugin(t *testing.T) {
	srv := newServer(t)
	s := newSession(t, srv, t.TempDir(), nil) // an empty plugin directory
	if err := s.Store.Put(s.Key(), &cache.Entry{Scheme: "testkit", Credential: core.Credential{Token: "cached", ExpiresAt: time.Now().Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Get(context.Background())
	if err != nil || res.Credential.Token != "cached" || res.Source != FromCache {
		t.Fatalf("Credential = %+v, %v", res, err)
	}
	if s.plugin.Load() != nil {
		t.Error("a plugin was started for a fresh cached credential")
	}
	// A stale one needs the plugin, which is missing.
	s.Skew = 2 * time.Hour
	if _, err := s.Get(context.Background()); core.KindOf(err) != core.KindPluginNotFound {
		t.Errorf("stale credential without a plugin: %v", err)
	}
}

// A library program shares one Session between goroutines (an http.Client
// used concurrently): they share one plugin process and log in once.
func TestConcurrentGetsShareOneLogin(t *testing.T) {
	srv := newServer(t)
	s := newSession(t, srv, testkitDir(t), nil)
	defer s.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			res, err := s.Get(context.Background())
			if err == nil && res.Credential.Token != "login" {
				err = fmt.Errorf("token %q", res.Credential.Token)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := srv.logins.Load(); n != 1 {
		t.Errorf("%d logins for 16 concurrent Gets, want 1", n)
	}
}

// A login forced by a refusal re-reads the cache under the lock: when a
// concurrent authx already replaced the refused credential, that one is
// served and nothing logs in. An explicit Login always logs in.
func TestLoginAfterRefusalReusesConcurrentRenewal(t *testing.T) {
	srv := newServer(t)
	s := newSession(t, srv, testkitDir(t), nil)
	defer s.Close()
	ctx := context.Background()
	cached := core.Credential{Token: "renewed-by-another", Headers: []core.Header{{Name: "Authorization", Value: "Bearer renewed-by-another"}}, ExpiresAt: time.Now().Add(time.Hour)}
	tests := []struct {
		name     string
		mode     mode
		rejected *core.Credential
		token    string
		source   Source
	}{
		{"refused an older credential: reuse", modeLogin, &core.Credential{Token: "stale"}, "renewed-by-another", FromCache},
		{"refresh decision, older credential: reuse", modeRenew, &core.Credential{Token: "stale"}, "renewed-by-another", FromCache},
		{"refused the cached one: log in", modeLogin, &cached, "login", LoggedIn},
		{"explicit login: log in", modeLogin, nil, "login", LoggedIn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Store.Put(s.Key(), &cache.Entry{Scheme: "testkit", Created: time.Now(), Credential: cached}); err != nil {
				t.Fatal(err)
			}
			before := srv.logins.Load()
			res, err := s.get(ctx, tt.mode, tt.rejected)
			if err != nil {
				t.Fatal(err)
			}
			if res.Credential.Token != tt.token || res.Source != tt.source {
				t.Errorf("got %q from %v, want %q from %v", res.Credential.Token, res.Source, tt.token, tt.source)
			}
			if logins := srv.logins.Load() - before; (tt.source == LoggedIn) != (logins == 1) || logins > 1 {
				t.Errorf("%d logins", logins)
			}
		})
	}
}

// A renewal that fails for a reason other than a refusal (the token server
// answers 5xx or is unreachable) while the cached credential has not expired
// yet serves it, with one warning; once it has expired, the failure is the
// answer. A credential the server refused is never served again.
func TestRenewalFailureServesStillValidCredential(t *testing.T) {
	dir := testkitDir(t)
	for _, outage := range []struct {
		name string
		kind core.Kind
		down func(*server)
	}{
		{"5xx", core.KindBadAnswer, func(s *server) { s.down.Store(true) }},
		{"unreachable", core.KindNetwork, func(s *server) { s.Close() }},
	} {
		t.Run(outage.name, func(t *testing.T) {
			srv := newServer(t)
			now := time.Now()
			s := newSession(t, srv, dir, func() time.Time { return now })
			var warnings []string
			s.Warn = func(msg string) { warnings = append(warnings, msg) }
			defer s.Close()
			ctx := context.Background()
			if _, err := s.Get(ctx); err != nil {
				t.Fatal(err)
			}
			outage.down(srv)

			now = now.Add(50 * time.Second) // 11s left: inside the skew, not expired
			res, err := s.Get(ctx)
			if err != nil || res.Credential.Token != "login" || res.Source != FromCache {
				t.Fatalf("inside the skew: %+v, %v; want the cached credential", res, err)
			}
			if len(warnings) != 1 || !strings.Contains(warnings[0], `profile "tk": renewing the credential failed`) ||
				!strings.Contains(warnings[0], "expires in 1") || strings.Contains(warnings[0], "\n") {
				t.Errorf("warnings = %q, want one line", warnings)
			}
			if _, err := s.get(ctx, modeRenew, res.Credential); core.KindOf(err) != outage.kind {
				t.Errorf("after a refusal: %v, want the outage's error", err)
			}

			now = now.Add(12 * time.Second) // expired
			if _, err := s.Get(ctx); core.KindOf(err) != outage.kind {
				t.Errorf("expired: %v (kind %v), want kind %v", err, core.KindOf(err), outage.kind)
			}
		})
	}
}
