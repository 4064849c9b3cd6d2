package redisvault

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	core "github.com/authx/authx/core/base"
	"github.com/authx/authx/core/cache"
)

// killedAfterLock is a machine's Vault whose Redis dies right after it
// takes an entry's lock.
type killedAfterLock struct {
	*Vault
	s *server
}

func (k killedAfterLock) LockEntry(ctx context.Context, account string, wait time.Duration) (func() error, error) {
	unlock, err := k.Vault.LockEntry(ctx, account, wait)
	if err == nil {
		k.s.Kill()
	}
	return unlock, err
}

// Redis killed while a machine holds the lock, before it reads the entry
// again: the machine logs in alone, and its one line on stderr says so
// (the fallback's notice), not only that the lock could not be released.
func TestRedisKilledUnderTheLockTellsTheFallback(t *testing.T) {
	s := startRedis(t)
	st := machine(t, s)
	st.Shared = killedAfterLock{st.Shared.(*Vault), s}
	st.VaultFallback = true
	var mu sync.Mutex
	var notices []string
	st.Notice = func(msg string) { mu.Lock(); notices = append(notices, msg); mu.Unlock() }
	k := cache.KeyFor("api", []byte("identity of api"))
	latest, unlock, err := st.Claim(context.Background(), k, func(*cache.Entry) bool { return false })
	if err != nil || unlock == nil || latest != nil {
		t.Fatalf("Claim = %+v, %v, %v; want a login on this machine", latest, unlock != nil, err)
	}
	unlock()
	mu.Lock()
	defer mu.Unlock()
	if len(notices) != 1 || !strings.Contains(notices[0], "logs in on this machine alone") {
		t.Fatalf("notices: %q; want one, saying the machine logs in alone", notices)
	}
}

// The same with store_fallback: fail: the error (exit 17) is the one
// line, with no notice of the release beside it.
func TestRedisKilledUnderTheLockFailsInOneLine(t *testing.T) {
	s := startRedis(t)
	st := machine(t, s)
	st.Shared = killedAfterLock{st.Shared.(*Vault), s}
	var mu sync.Mutex
	var notices []string
	st.Notice = func(msg string) { mu.Lock(); notices = append(notices, msg); mu.Unlock() }
	k := cache.KeyFor("api", []byte("identity of api"))
	_, unlock, err := st.Claim(context.Background(), k, func(*cache.Entry) bool { return false })
	if err == nil || unlock != nil || core.KindOf(err) != core.KindKeyring {
		t.Fatalf("Claim: %v; want a store error (exit 17)", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(notices) != 0 {
		t.Fatalf("notices beside the error: %q", notices)
	}
}
