package redisvault

import (
	"context"
	"strings"
	"testing"

	core "github.com/authx/authx/core/base"
	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/config"
)

// Redis refusing authx's user only at the lock (an ACL whose key patterns
// leave out authx:lock:*) is a refusal like any other: a store error,
// exit 17, saying what to check; not an internal error (exit of a bug).
func TestLockRefusedIsAStoreError(t *testing.T) {
	const pw = "s3cret-Redis-pass"
	rules := []string{"~authx:entry:*", "~authx:names.key", "&authx:*"}
	for _, r := range aclRules {
		if !strings.HasPrefix(r, "~") && !strings.HasPrefix(r, "&") {
			rules = append(rules, r)
		}
	}
	s := startRedis(t, append([]string{"--user", "default", "off", "--user", "authx", "on", ">" + pw}, rules...)...)
	refs := keyRefs()
	refs["env:REDIS_PASSWORD"] = pw
	st := cache.New(t.TempDir())
	st.Shared = fromConfig(t, config.SharedStore{URL: s.URL(), Username: "authx", Password: "env:REDIS_PASSWORD"}, refs)
	st.VaultName, st.VaultFallback = "fleet", true
	k := cache.KeyFor("api", []byte("identity of api"))
	_, unlock, err := st.Claim(context.Background(), k, func(*cache.Entry) bool { return false })
	if err == nil || unlock != nil {
		t.Fatalf("Claim: %v; want the lock refused", err)
	}
	if core.KindOf(err) != core.KindKeyring || !strings.Contains(err.Error(), "check the store's username") {
		t.Fatalf("Claim: %v (kind %v); want a store error (exit 17) saying what to check", err, core.KindOf(err))
	}
}
