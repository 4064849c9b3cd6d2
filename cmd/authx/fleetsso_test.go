package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authx/authx/core/cache/redisvault/redistest"
	"github.com/authx/authx/plugins/jwt/idptest"
)

// The fleet against the real products: panva's oidc-provider (rotating,
// single-use refresh tokens: a reused one revokes the grant) and a real
// redis-server. One machine logs in through the browser; once the access
// token expired, 5 machines × 20 processes, four of them with empty
// caches, make exactly one refresh at the IdP and no token-endpoint error.
func TestSSOFleetRefreshOnce(t *testing.T) {
	const ttl = 3 * time.Second
	p := idptest.Start(t, idptest.Options{AccessTokenTTL: ttl})
	b := idptest.NewBrowser(t, p, idptest.BrowserOptions{})
	redis := redistest.Start(t)
	key := make([]byte, 32)
	rand.Read(key)
	profile := strings.Replace(oauth2Profile("sso", p, browserLogin), "    scheme: jwt\n", "    scheme: jwt\n    store: fleet\n", 1)
	cfg := fmt.Sprintf("stores:\n  fleet: {type: redis, url: %q, key: env:AUTHX_STORE_KEY}\nprofiles:\n%s", redis.URL(), profile)
	var machines []*env
	for range 5 {
		e := newEnv(t).set("IDP_CLIENT_SECRET="+p.ClientSecret, "BROWSER="+b.Path, "AUTHX_STORE_KEY="+base64.StdEncoding.EncodeToString(key))
		e.config(cfg)
		machines = append(machines, e)
	}
	loginThroughBrowser(t, machines[0], p, b, "sso")
	time.Sleep(ttl + 300*time.Millisecond)

	var mu sync.Mutex
	var wg sync.WaitGroup
	seen := map[string]int{}
	for range 20 {
		for _, m := range machines {
			wg.Go(func() {
				r := m.run("token", "sso")
				mu.Lock()
				defer mu.Unlock()
				if r.code != 0 || r.stderr != "" {
					t.Errorf("exit %d: %s", r.code, r.stderr)
				}
				seen[r.stdout]++
			})
		}
	}
	wg.Wait()
	time.Sleep(200 * time.Millisecond) // a stray second refresh would be counted
	if n := p.Count("grant.success", "refresh_token"); n != 1 || len(seen) != 1 {
		t.Errorf("100 processes on 5 machines after expiry: %d refreshes at the IdP, %d distinct tokens; want 1 and 1", n, len(seen))
	}
	if n := p.Count("grant.error", ""); n != 0 {
		t.Errorf("token endpoint errors (a reused refresh token revokes the grant): %+v", p.Events())
	}
	if o := b.Opened(); len(o) != 1 {
		t.Errorf("the browser was opened %d times, want once", len(o))
	}
}
