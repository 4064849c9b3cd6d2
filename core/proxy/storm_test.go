package proxy

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// A server that refuses every credential (a 401 storm: a hostile or broken
// upstream) must not make the proxy renew the credential (a refresh, a
// login, an SSO prompt) for every request: once a renewed credential was
// refused too, the proxy passes refusals on without renewing for
// ChallengeCooldown, then tries once more.
func TestRefusalStormRenewsOnce(t *testing.T) {
	var mu sync.Mutex
	sent := 0
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sent++
		mu.Unlock()
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer up.Close()
	src := &fakeSource{}
	var now time.Time
	var clock sync.Mutex
	now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var log bytes.Buffer
	px := start(t, up, src, &syncWriter{w: &log}, func(o *Options) {
		o.Now = func() time.Time { clock.Lock(); defer clock.Unlock(); return now }
	})
	for i := range 5 {
		if resp, _ := do(t, "GET", px.URL+"/api/x", nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("request %d: %d", i+1, resp.StatusCode)
		}
	}
	if n := src.challenges.Load(); n != 1 {
		t.Errorf("%d challenges (renewals) for 5 refused requests; want 1", n)
	}
	mu.Lock()
	if sent != 6 { // the first request and its retry, then one each
		t.Errorf("the upstream got %d requests, want 6", sent)
	}
	mu.Unlock()
	clock.Lock()
	now = now.Add(DefaultChallengeCooldown + time.Second)
	clock.Unlock()
	do(t, "GET", px.URL+"/api/x", nil)
	if n := src.challenges.Load(); n != 2 {
		t.Errorf("after the cooldown: %d challenges, want 2", n)
	}
}
