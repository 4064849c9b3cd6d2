package session

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/cache"
)

// Renew renews the cached credential unless another authx renewed it within
// RenewGrace; with nothing cached it logs in.
func TestRenew(t *testing.T) {
	dir := testkitDir(t)
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name          string
		refused       string
		cached        *cache.Entry
		token         string
		source        Source
		logins, refrs int64
	}{
		{"nothing cached: log in", "", nil, "login", LoggedIn, 1, 0},
		{"cached long ago: refresh it", "", &cache.Entry{Created: now.Add(-time.Hour), Credential: core.Credential{Token: "old", State: []byte("r"), ExpiresAt: now.Add(time.Hour)}}, "refreshed", Refreshed, 0, 1},
		{"renewed moments ago: take it", "", &cache.Entry{Created: now.Add(-2 * time.Second), Credential: core.Credential{Token: "new", ExpiresAt: now.Add(time.Hour)}}, "new", FromCache, 0, 0},
		{"recent but stale: refresh it", "", &cache.Entry{Created: now.Add(-2 * time.Second), Credential: core.Credential{Token: "old", State: []byte("r"), ExpiresAt: now}}, "refreshed", Refreshed, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			s := newSession(t, srv, dir, func() time.Time { return now })
			defer s.Close()
			if tt.cached != nil {
				tt.cached.Scheme = "testkit"
				if err := s.Store.Put(s.Key(), tt.cached); err != nil {
					t.Fatal(err)
				}
			}
			res, err := s.Renew(context.Background(), tt.refused)
			if err != nil {
				t.Fatal(err)
			}
			if res.Credential.Token != tt.token || res.Source != tt.source {
				t.Errorf("got %s from %v, want %s from %v", res.Credential.Token, res.Source, tt.token, tt.source)
			}
			if srv.logins.Load() != tt.logins || srv.refreshes.Load() != tt.refrs {
				t.Errorf("logins %d refreshes %d, want %d and %d", srv.logins.Load(), srv.refreshes.Load(), tt.logins, tt.refrs)
			}
			if e := s.Cached(); e == nil || e.Credential.Token != tt.token {
				t.Errorf("cache holds %+v, want %s", e, tt.token)
			}
		})
	}
}

// Sessions of one profile (as separate authx processes are) told of the
// same refusal renew once between them.
func TestConcurrentRenewsShareOneRefresh(t *testing.T) {
	dir := testkitDir(t)
	srv := newServer(t)
	first := newSession(t, srv, dir, nil)
	if err := first.Store.Put(first.Key(), &cache.Entry{Scheme: "testkit", Created: time.Now().Add(-time.Hour),
		Credential: core.Credential{Token: "refused", State: []byte("r"), ExpiresAt: time.Now().Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		s := newSession(t, srv, dir, nil)
		s.Store = first.Store
		wg.Go(func() {
			defer s.Close()
			res, err := s.Renew(context.Background(), "")
			if err != nil || res.Credential.Token != "refreshed" {
				t.Errorf("renew: %v %+v", err, res)
			}
		})
	}
	wg.Wait()
	if n, l := srv.refreshes.Load(), srv.logins.Load(); n != 1 || l != 0 {
		t.Errorf("%d refreshes and %d logins for 8 concurrent renewals of one refusal, want 1 and 0", n, l)
	}
}
