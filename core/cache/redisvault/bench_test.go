package redisvault

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	core "github.com/authx/authx/core/base"
	"github.com/authx/authx/core/cache"
)

// BenchmarkGet is the cost of reading and opening a 2 KiB entry (an OAuth2
// entry with an id_token and a refresh token) from a local Redis.
func BenchmarkGet(b *testing.B) {
	v := newVault(b, startRedis(b), Options{})
	data := bytes.Repeat([]byte("x"), 2048)
	if err := v.SetUntil("work.1", data, time.Now().Add(time.Hour)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := v.Get("work.1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLockUnlock is the cost of an uncontended TryLock and Unlock.
func BenchmarkLockUnlock(b *testing.B) {
	v := newVault(b, startRedis(b), Options{})
	for b.Loop() {
		l, err := v.TryLock("work.1", time.Second)
		if err != nil || l == nil {
			b.Fatal(l, err)
		}
		if err := l.Unlock(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStoreReadThrough is what a locally missing credential that
// Redis holds costs a cache.Store in process: Claim's local lock, the name
// key (read once per Vault), the entry read and opened, the local copy
// written. The local file store's own read of a cached entry runs beside
// it for scale.
func BenchmarkStoreReadThrough(b *testing.B) {
	v := newVault(b, startRedis(b), Options{})
	store := cache.New(filepath.Join(b.TempDir(), "authx"))
	store.Shared = v
	k := cache.KeyFor("ci", []byte("identity"))
	now := time.Now()
	e := &cache.Entry{Scheme: "jwt", Created: now, Credential: core.Credential{Token: string(bytes.Repeat([]byte("t"), 1200)), ExpiresAt: now.Add(time.Hour), State: bytes.Repeat([]byte("r"), 600)}}
	if err := store.Put(k, e); err != nil {
		b.Fatal(err)
	}
	fresh := func(e *cache.Entry) bool { return e.Fresh(time.Now(), time.Minute) }
	b.Run("local hit", func(b *testing.B) {
		for b.Loop() {
			if got, err := store.Get(k); err != nil || got == nil {
				b.Fatal(got, err)
			}
		}
	})
	b.Run("local miss, Redis hit", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			os.Remove(store.Path(k))
			b.StartTimer()
			got, unlock, err := store.Claim(context.Background(), k, fresh)
			if err != nil || got == nil || unlock != nil {
				b.Fatal(got, err)
			}
		}
	})
}
