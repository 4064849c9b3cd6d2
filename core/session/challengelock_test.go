package session

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/cache"
)

// The retry credential of a challenge (a Digest renewal) is cached under
// the entry's lock, like every other write: another process's Sign holds
// the lock between reading the entry and writing it back with its new
// state, and a Challenge that wrote meanwhile without the lock had its
// renewed credential overwritten by the old one. Here the test is that
// other process: it holds the lock, lets Challenge run, then writes back
// the entry it read.
func TestChallengeCachesRetryUnderLock(t *testing.T) {
	dir := counterDir(t)
	store := cache.New(filepath.Join(t.TempDir(), "cache"))
	s := counterSession(t, dir, store, nil)
	s.Profile.URL = "http://127.0.0.1:1/" // the login's probe fails fast: no challenge
	ctx := context.Background()
	cred, err := s.Credential(ctx)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := store.Lock(ctx, s.Key())
	if err != nil {
		t.Fatal(err)
	}
	e, err := store.Get(s.Key())
	if err != nil || e == nil {
		t.Fatalf("entry %v %v", e, err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := s.Challenge(ctx, cred, core.HTTPRequest{Method: "GET", URL: "http://127.0.0.1:1/x"}, core.HTTPResponse{Status: 401})
		done <- err
	}()
	early := false
	select {
	case err := <-done:
		early = true
		t.Errorf("Challenge cached its retry credential while another process held the entry's lock (err %v)", err)
	case <-time.After(500 * time.Millisecond):
	}
	e.Credential.State = []byte("5") // the other process's Sign writes back what it read
	if err := store.UpdateState(s.Key(), e); err != nil {
		t.Fatal(err)
	}
	unlock()
	if !early {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := store.Get(s.Key()); got == nil || got.Credential.Token != "retry" {
		t.Errorf("cached %+v after the renewal; want the retry credential", got)
	}
}
