package redisvault

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	core "github.com/authx/authx/core/base"
	"github.com/authx/authx/core/cache"
)

// machine is a cache.Store of its own directory in front of the shared
// store of s: one machine of a fleet.
func machine(t *testing.T, s *server) *cache.Store {
	t.Helper()
	st := cache.New(filepath.Join(t.TempDir(), "authx"))
	st.Shared = newVault(t, s, Options{})
	st.VaultName = "fleet"
	return st
}

// A logout while another machine renews the credential (it holds the
// entry's lock, its refresh already sent) waits for that renewal and
// leaves its tombstone over the renewed entry: the fleet does not go on
// with the session the logout ended, which the renewal would otherwise
// write over the tombstone.
func TestLogoutIsNotUndoneByARenewalInFlight(t *testing.T) {
	s := startRedis(t)
	a, b, c := machine(t, s), machine(t, s), machine(t, s)
	k := cache.KeyFor("api", []byte("identity of api"))
	now := time.Now()
	if err := a.Put(k, &cache.Entry{Scheme: "oauth2", Created: now.Add(-time.Hour), Credential: core.Credential{
		Token: "old-token", ExpiresAt: now.Add(-time.Minute), State: []byte(`{"refresh_token":"r1"}`)}}); err != nil {
		t.Fatal(err)
	}
	// b renews: it holds the lock.
	old, unlock, err := b.Claim(context.Background(), k, func(*cache.Entry) bool { return false })
	if err != nil || unlock == nil || old == nil || old.Credential.Token != "old-token" {
		t.Fatalf("Claim = %+v, %v, %v", old, unlock != nil, err)
	}
	// a logs out meanwhile.
	done := make(chan error, 1)
	go func() { _, err := a.Delete("api"); done <- err }()
	time.Sleep(300 * time.Millisecond)
	// b's refresh answered: it stores the renewed credential and releases.
	if err := b.Put(k, &cache.Entry{Scheme: "oauth2", Created: time.Now(), Credential: core.Credential{
		Token: "renewed-token", ExpiresAt: time.Now().Add(time.Hour), State: []byte(`{"refresh_token":"r2"}`)}}); err != nil {
		t.Fatal(err)
	}
	unlock()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("logout: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("logout did not end")
	}
	if e, err := c.GetShared(k); err != nil || e != nil {
		t.Fatalf("after the logout, the shared store gives another machine %+v (%v): the logged-out session goes on", e, err)
	}
	// b's own copy, made before the tombstone, is not renewed either.
	latest, unlock, err := b.Claim(context.Background(), k, func(*cache.Entry) bool { return false })
	if err != nil || unlock == nil {
		t.Fatalf("Claim after the logout: %v", err)
	}
	unlock()
	if latest != nil {
		t.Fatalf("after the logout, the renewing machine would renew its copy %q", latest.Credential.Token)
	}
}
