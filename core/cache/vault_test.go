package cache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/authx/authx/core"
)

// fakeVault is a Vault in memory; down makes every call unavailable.
type fakeVault struct {
	mu    sync.Mutex
	items map[string][]byte
	down  bool
}

func (v *fakeVault) call(account string, f func()) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.down {
		return fmt.Errorf("reading authx/%s: no D-Bus session: %w", account, ErrVaultUnavailable)
	}
	f()
	return nil
}

func (v *fakeVault) Get(a string) (d []byte, err error) {
	err = v.call(a, func() { d = v.items[a] })
	if err == nil && d == nil {
		err = ErrVaultNotFound
	}
	return d, err
}
func (v *fakeVault) Set(a string, d []byte) error {
	return v.call(a, func() { v.items[a] = append([]byte(nil), d...) })
}
func (v *fakeVault) Delete(a string) error { return v.call(a, func() { delete(v.items, a) }) }

// filesHolding lists the files under dir whose bytes contain s.
func filesHolding(t *testing.T, dir, s string) []string {
	var out []string
	filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			if b, _ := os.ReadFile(path); strings.Contains(string(b), s) {
				out = append(out, filepath.Base(path))
			}
		}
		return nil
	})
	return out
}

func TestVaultHoldsTheSecretsTheDirectoryTheStub(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "authx")
	v := &fakeVault{items: map[string][]byte{}}
	s := New(dir)
	s.Vault = v
	k := KeyFor("work", []byte(`{"scheme":"jwt"}`))
	if e, err := s.Get(k); e != nil || err != nil {
		t.Fatalf("empty: Get = %v, %v", e, err)
	}
	if err := s.Put(k, entry("tok-secret-1")); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"tok-secret-1", "refresh-1", "cmVmcmVzaC0x" /* base64 of the state */} {
		if f := filesHolding(t, dir, secret); len(f) > 0 {
			t.Errorf("%q is in %v", secret, f)
		}
	}
	if len(v.items) != 1 {
		t.Fatalf("vault holds %d items, want 1", len(v.items))
	}
	got, err := s.Get(k)
	if err != nil || got == nil || got.Credential.Token != "tok-secret-1" || string(got.Credential.State) != "refresh-1" {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if p := s.Profiles(); len(p) != 1 || p[0] != "work" {
		t.Errorf("Profiles = %v", p)
	}
	// A file store without the vault (the front) finds no entry.
	if e, err := New(dir).Get(k); e != nil || err != nil {
		t.Errorf("file store over a vault's directory: Get = %v, %v; want a miss", e, err)
	}
	// A new identity replaces the old item.
	k2 := KeyFor("work", []byte(`{"scheme":"jwt","v":2}`))
	if err := s.Put(k2, entry("tok-secret-2")); err != nil {
		t.Fatal(err)
	}
	if len(v.items) != 1 || len(s.stubs("work")) != 1 {
		t.Errorf("after a new identity: %d items, stubs %v; want 1 and 1", len(v.items), s.stubs("work"))
	}
	n, err := s.Delete("work")
	if err != nil || n != 1 || len(v.items) != 0 || len(s.stubs("work")) != 0 {
		t.Errorf("Delete = %d, %v; %d items and stubs %v left", n, err, len(v.items), s.stubs("work"))
	}
}

func TestVaultUnavailableFallsBackOnceOrFails(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "authx")
	v := &fakeVault{items: map[string][]byte{}, down: true}
	var notices []string
	s := New(dir)
	s.Vault, s.VaultFallback, s.Notice = v, true, func(m string) { notices = append(notices, m) }
	k := KeyFor("work", []byte(`{"scheme":"jwt"}`))
	if err := s.Put(k, entry("tok-1")); err != nil {
		t.Fatal(err)
	}
	if e, err := s.Get(k); err != nil || e == nil || e.Credential.Token != "tok-1" {
		t.Fatalf("fallback Get = %+v, %v", e, err)
	}
	if len(notices) != 1 || strings.Contains(notices[0], "\n") || !strings.Contains(notices[0], "file store") {
		t.Errorf("notices = %q, want one line about the file store", notices)
	}
	if f := filesHolding(t, dir, "tok-1"); len(f) != 1 {
		t.Errorf("fallback wrote the entry in %v, want one file", f)
	}

	// Another process, the vault still down: the fallback's file.
	s1 := New(dir)
	s1.Vault, s1.VaultFallback = v, true
	if e, err := s1.Get(k); err != nil || e == nil || e.Credential.Token != "tok-1" {
		t.Fatalf("a second process's fallback Get = %+v, %v", e, err)
	}

	// Back up: the fallback's entry (it may hold the newest refresh
	// token) is served and moves into the keyring; no file keeps it.
	v.down = false
	s2 := New(dir)
	s2.Vault = v
	if e, err := s2.Get(k); err != nil || e == nil || e.Credential.Token != "tok-1" {
		t.Errorf("the keyring back, the fallback's entry: %+v, %v; want it served", e, err)
	}
	if f := filesHolding(t, dir, "tok-1"); len(f) != 0 || len(v.items) != 1 || len(s2.stubs("work")) != 1 {
		t.Errorf("the keyring back: the token still in %v, %d keyring items, stubs %v; want it moved into the keyring", f, len(v.items), s2.stubs("work"))
	}
	if e, err := New(dir).Get(k); err != nil || e != nil { // a store without the vault: no file entry left
		t.Errorf("a file store after the move: %+v, %v", e, err)
	}
	if e, err := s2.Get(k); err != nil || e == nil || e.Credential.Token != "tok-1" {
		t.Errorf("after the move, from the keyring: %+v, %v", e, err)
	}
	if err := s2.Put(k, entry("tok-2")); err != nil {
		t.Fatal(err)
	}
	if f := filesHolding(t, dir, "tok-"); len(f) != 0 {
		t.Errorf("tokens left in %v", f)
	}

	v.down = true
	s3 := New(dir)
	s3.Vault = v // no fallback
	_, err := s3.Get(k)
	if core.KindOf(err) != core.KindKeyring || !errors.Is(err, ErrVaultUnavailable) {
		t.Errorf("no fallback: Get error %v (kind %v), want KindKeyring", err, core.KindOf(err))
	}
	if _, err := s3.Delete("work"); core.KindOf(err) != core.KindKeyring {
		t.Errorf("Delete with the vault down: %v, want KindKeyring (the credential stays there)", err)
	}
}

// A store whose vault is not the keyring (a shared store: fleet) names it
// in its errors and stubs.
func TestVaultNameInErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "authx")
	s := New(dir)
	s.Vault, s.VaultName = &fakeVault{items: map[string][]byte{}, down: true}, "fleet"
	k := KeyFor("work", []byte(`{"scheme":"jwt"}`))
	err := s.Put(k, entry("tok-1"))
	if err == nil || !strings.Contains(err.Error(), "store: fleet") || strings.Contains(err.Error(), "keyring") {
		t.Fatalf("Put with the fleet vault down: %v; want an error naming store: fleet, not the keyring", err)
	}
	// Without the fallback, the error says why this command did not go on
	// without the store: the profile's store_fallback: fail.
	if !strings.Contains(err.Error(), "store: fleet (store_fallback: fail): ") {
		t.Errorf("Put with the fleet vault down, no fallback: %v; want it to name store_fallback: fail", err)
	}
	if core.KindOf(err) != core.KindKeyring {
		t.Errorf("kind %v, want KindKeyring (exit 17: the store could not be used)", core.KindOf(err))
	}
}

// A fallback's file entry whose lock another process holds (a login in
// progress) is served and stays for that process's Put; the next Get with
// the lock free moves it into the keyring.
func TestFallbackEntryMovesOnlyUnderTheLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "authx")
	v := &fakeVault{items: map[string][]byte{}, down: true}
	s := New(dir)
	s.Vault, s.VaultFallback = v, true
	k := KeyFor("work", []byte(`{"scheme":"jwt"}`))
	if err := s.Put(k, entry("tok-1")); err != nil {
		t.Fatal(err)
	}
	v.down = false
	holder := New(dir)
	unlock, err := holder.Lock(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	back := New(dir)
	back.Vault = v
	if e, err := back.Get(k); err != nil || e == nil || e.Credential.Token != "tok-1" || len(v.items) != 0 {
		t.Fatalf("lock held elsewhere: %+v, %v, %d items; want the file's entry served, not moved", e, err, len(v.items))
	}
	unlock()
	if e, err := back.Get(k); err != nil || e == nil || len(v.items) != 1 || len(filesHolding(t, dir, "tok-1")) != 0 {
		t.Fatalf("lock free: %+v, %v, %d items; want the entry moved into the keyring", e, err, len(v.items))
	}
}
