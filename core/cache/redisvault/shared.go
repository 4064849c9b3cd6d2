package redisvault

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	core "github.com/authx/authx/core/base"
	"github.com/authx/authx/core/cache"
)

// LockTTL is how long a lock taken through LockEntry outlives its holder:
// it is extended every third of it while held, and a holder that dies
// stops extending it, so that the next machine takes it at most LockTTL
// later.
const LockTTL = 10 * time.Second

// maxList bounds how many accounts List returns; maxScan how many SCAN
// calls it makes (each bounded by the timeout) to find them.
const (
	maxList = 1000
	maxScan = 1000
)

// LockEntry takes account's lock (Lock, for LockTTL) and returns its
// release. Waiting longer than wait for another holder is a KindTimeout
// error, and so is ctx ending first; Redis unavailable wraps
// cache.ErrVaultUnavailable.
func (v *Vault) LockEntry(ctx context.Context, account string, wait time.Duration) (func() error, error) {
	l, err := v.Lock(ctx, account, LockTTL, wait)
	switch {
	case err == nil:
		return func() error {
			switch err := l.Unlock(); {
			case errors.Is(err, ErrNotHeld):
				return fmt.Errorf("the lock of %s expired while held (more than %s without reaching redis %s): another machine may have renewed the credential too", account, LockTTL, v.addr)
			case err != nil:
				return fmt.Errorf("%w; the other machines wait up to %s for the lock to expire", err, LockTTL)
			}
			return nil
		}, nil
	case errors.Is(err, ErrLockWait):
		return nil, core.Errorf(core.KindTimeout, "gave up after %s (lock_timeout) waiting for another machine to finish logging in (redis %s)", wait, v.addr)
	case ctx.Err() != nil:
		return nil, core.Wrap(core.KindTimeout, ctx.Err(), fmt.Sprintf("waiting for another machine to finish logging in (redis %s)", v.addr))
	}
	return nil, err
}

// List returns the accounts that have an entry and whose names start with
// prefix (which holds no glob character: a cache entry's name is
// letters, digits, '-', '_' and '.'), at most maxList of them; on a
// Cluster, of every master.
func (v *Vault) List(prefix string) ([]string, error) {
	for _, c := range prefix {
		if c == '*' || c == '?' || c == '[' || c == ']' || c == '\\' {
			return nil, fmt.Errorf("redis store: %q is not a name prefix", prefix)
		}
	}
	var out []string
	scan := func(node scanner) error {
		var cursor uint64
		for range maxScan {
			ctx, cancel := v.ctx()
			keys, next, err := node.Scan(ctx, cursor, v.entryKey(prefix)+"*", 1000).Result()
			cancel()
			if err != nil {
				return v.unavailable("listing "+prefix+"*", err)
			}
			for _, k := range keys {
				if len(out) == maxList {
					return tooMany{fmt.Errorf("redis %s: more than %d entries named %s*", v.addr, maxList, prefix)}
				}
				out = append(out, k[len(v.entryKey("")):])
			}
			if cursor = next; cursor == 0 {
				return nil
			}
		}
		return v.unavailable("listing "+prefix+"*", fmt.Errorf("not done after %d scans of 1000 keys", maxScan))
	}
	cc, ok := v.client.(*redis.ClusterClient)
	if !ok {
		return out, scan(v.client)
	}
	ctx, cancel := v.ctx()
	defer cancel()
	var mu sync.Mutex // ForEachMaster calls in parallel
	err := cc.ForEachMaster(ctx, func(_ context.Context, node *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		return scan(node)
	})
	var many tooMany
	if err != nil && !errors.Is(err, cache.ErrVaultUnavailable) && !errors.As(err, &many) {
		err = v.unavailable("listing "+prefix+"*", err) // the cluster's state, not loaded
	}
	return out, err
}

// tooMany is List's error for a prefix of more than maxList entries.
type tooMany struct{ error }

// scanner is a client or a cluster's node, as List scans it.
type scanner interface {
	Scan(ctx context.Context, cursor uint64, match string, count int64) *redis.ScanCmd
}

var _ cache.Shared = (*Vault)(nil)

// nameKeyAccount names the store's key for entry names, in Redis and as
// its sealing's associated data (no entry's name: those end in 32 hex
// digits).
const nameKeyAccount = "names.key"

// resealScript replaces KEYS[1] by ARGV[2] only while it holds ARGV[1].
var resealScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("SET", KEYS[1], ARGV[2])
end
return 0`)

// NameKey returns the store's key for entry names, which every machine
// sharing the store reads from it: 32 random bytes, created by the first
// machine that needs them (SET NX: one wins, every other reads its key),
// kept sealed like an entry, so that neither a reader of Redis nor a
// rotation of the sealing key changes or learns it (one sealed under an
// old key is sealed again under the current one). It is read on every
// call (one GETRANGE), never kept: a Redis restarted empty gets a new key,
// which a long-lived process (authx proxy, the agent) must then use like
// the machines that start after it, or it would renew alone.
func (v *Vault) NameKey() ([]byte, error) {
	ctx, cancel := v.ctx()
	defer cancel()
	key := v.prefix + nameKeyAccount
	blob, err := v.client.GetRange(ctx, key, 0, 4096).Bytes()
	if err == nil && len(blob) == 0 { // none yet: the first machine's wins
		fresh := make([]byte, 32)
		crand.Read(fresh)
		if err := v.client.SetNX(ctx, key, v.box.Seal(nameKeyAccount, fresh), 0).Err(); err != nil {
			return nil, v.unavailable("creating the key for entry names", err)
		}
		blob, err = v.client.GetRange(ctx, key, 0, 4096).Bytes()
	}
	if err != nil {
		return nil, v.unavailable("reading the key for entry names", err)
	}
	nk, err := v.box.Open(nameKeyAccount, blob)
	if err != nil || len(nk) != 32 {
		// Sealed under a key no longer configured, or damaged: every
		// machine is stuck on it until someone deletes it.
		return nil, core.Errorf(core.KindKeyring, "redis %s: the store's key for entry names (%s) does not open with the configured keys: put the key that sealed it in keys_old, or delete it (every machine then logs in once); or, for another fleet on this Redis, give this store a prefix: of its own", v.addr, key)
	}
	if !v.box.Current(blob) {
		// Sealed under an old key (keys_old): sealed again under the
		// current one, so that the old key can be dropped; only if it is
		// still what was read (not a name key made anew meanwhile).
		resealScript.Run(ctx, v.client, []string{key}, blob, v.box.Seal(nameKeyAccount, nk))
	}
	return nk, nil
}
