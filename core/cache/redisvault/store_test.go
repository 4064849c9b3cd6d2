package redisvault

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	core "github.com/authx/authx/core/base"
	"github.com/authx/authx/core/cache"
)

// A cache.Store with the Redis vault gives each entry the TTL of its
// credential's expiry, and none to an entry whose state (a refresh token)
// outlives the credential.
func TestStoreGivesEntriesTheCredentialsTTL(t *testing.T) {
	s := startRedis(t)
	v := newVault(t, s, Options{})
	store := cache.New(filepath.Join(t.TempDir(), "authx"))
	store.Vault = v

	ttlOf := func(profile string) int {
		t.Helper()
		keys := strings.Fields(string(s.CLI(t, "--scan", "--pattern", v.entryKey(profile+".*"))))
		if len(keys) != 1 {
			t.Fatalf("entries of %s in Redis: %q", profile, keys)
		}
		n, err := strconv.Atoi(strings.TrimSpace(string(s.CLI(t, "TTL", keys[0]))))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	now := time.Now()
	put := func(profile string, cred core.Credential) {
		t.Helper()
		k := cache.KeyFor(profile, []byte("identity of "+profile))
		if err := store.Put(k, &cache.Entry{Scheme: "jwt", Created: now, Credential: cred}); err != nil {
			t.Fatal(err)
		}
		if e, err := store.Get(k); err != nil || e == nil || e.Credential.Token != cred.Token {
			t.Fatalf("Get after Put = %+v, %v", e, err)
		}
	}
	put("short", core.Credential{Token: "t1", ExpiresAt: now.Add(time.Hour)})
	if ttl := ttlOf("short"); ttl < 3590 || ttl > 3600 {
		t.Errorf("TTL of an entry expiring in an hour: %d", ttl)
	}
	put("refreshable", core.Credential{Token: "t2", ExpiresAt: now.Add(time.Hour), State: []byte(`{"refresh_token":"r"}`)})
	if ttl := ttlOf("refreshable"); ttl != -1 {
		t.Errorf("TTL of an entry with state: %d, want none (-1)", ttl)
	}
}
