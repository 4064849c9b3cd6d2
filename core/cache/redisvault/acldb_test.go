package redisvault

import (
	"errors"
	"testing"

	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/config"
)

// dbACLRules are what authx needs of a Redis ACL user when the store's url
// names a database other than 0 (docs/stores.md): go-redis selects it on
// every new connection.
var dbACLRules = append(append([]string{}, aclRules...), "+select")

// A fleet that keeps to a database of its own (redis://HOST:PORT/1, as
// docs/fleet.md offers for two fleets on one Redis) works with the ACL
// user docs/stores.md gives for it; without +select Redis refuses every
// connection (exit 17, no fallback), and says what to check.
func TestACLUserOnADatabaseOtherThanZero(t *testing.T) {
	const pw = "s3cret-Redis-pass"
	s := startRedis(t, append([]string{"--user", "default", "off", "--user", "authx", "on", ">" + pw}, dbACLRules...)...)
	refs := keyRefs()
	refs["env:REDIS_PASSWORD"] = pw
	st := config.SharedStore{URL: s.URL() + "/1", Username: "authx", Password: "env:REDIS_PASSWORD"}
	roundTrip(t, fromConfig(t, st, refs), fromConfig(t, st, refs))
	db0 := config.SharedStore{URL: s.URL(), Username: "authx", Password: "env:REDIS_PASSWORD"}
	if _, err := fromConfig(t, db0, refs).Get("work.1"); !errors.Is(err, cache.ErrVaultNotFound) {
		t.Fatalf("database 0: %v; want a miss, the entry is in database 1", err)
	}

	s2 := startRedis(t, append([]string{"--user", "default", "off", "--user", "authx", "on", ">" + pw}, aclRules...)...)
	st.URL = s2.URL() + "/1"
	_, err := fromConfig(t, st, refs).Get("work.1")
	refused(t, "database 1 without +select", err, pw)
}
