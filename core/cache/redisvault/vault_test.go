package redisvault

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/sealed"
)

const (
	token   = "eyJhbGciOiJSUzI1NiJ9.access-token-in-clear.sig"
	refresh = "rt-single-use-refresh-token-4711"
)

func entry() []byte {
	return []byte(`{"version":1,"profile":"work","credential":{"token":"` + token + `","state":"` +
		base64.StdEncoding.EncodeToString([]byte(refresh)) + `"}}`)
}

func TestRoundTripHoldsNoSecretInClear(t *testing.T) {
	s := startRedis(t)
	v := newVault(t, s, Options{})
	account := "work.3f2a9c1d"
	if err := v.Set(account, entry()); err != nil {
		t.Fatal(err)
	}
	got, err := v.Get(account)
	if err != nil || !bytes.Equal(got, entry()) {
		t.Fatalf("Get = %q, %v", got, err)
	}

	keys := strings.Fields(string(s.CLI(t, "--scan")))
	if len(keys) == 0 {
		t.Fatal("redis-cli --scan lists no key")
	}
	for _, k := range keys {
		if strings.Contains(k, token) || strings.Contains(k, refresh) {
			t.Fatalf("key %q holds a secret", k)
		}
		raw := s.CLI(t, "GET", k)
		for _, secret := range []string{token, refresh, "access-token-in-clear"} {
			for _, form := range []string{secret, base64.StdEncoding.EncodeToString([]byte(secret)),
				base64.RawURLEncoding.EncodeToString([]byte(secret)), hex.EncodeToString([]byte(secret))} {
				if bytes.Contains(raw, []byte(form)) {
					t.Fatalf("the value of %q holds %q", k, form)
				}
			}
		}
	}
}

func TestGetMissingIsNotFound(t *testing.T) {
	v := newVault(t, startRedis(t), Options{})
	if _, err := v.Get("nobody.0000"); !errors.Is(err, cache.ErrVaultNotFound) {
		t.Fatalf("Get of a missing account: %v, want ErrVaultNotFound", err)
	}
	if err := v.Delete("nobody.0000"); err != nil {
		t.Fatalf("Delete of a missing account: %v", err)
	}
}

func TestDelete(t *testing.T) {
	v := newVault(t, startRedis(t), Options{})
	if err := v.Set("a.1", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := v.Delete("a.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Get("a.1"); !errors.Is(err, cache.ErrVaultNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
}

// An entry copied by someone with write access to Redis under another
// account does not open there: a miss, not the other profile's token.
func TestEntryMovedToAnotherAccountIsAMiss(t *testing.T) {
	s := startRedis(t)
	v := newVault(t, s, Options{})
	if err := v.Set("admin.1111", entry()); err != nil {
		t.Fatal(err)
	}
	s.CLI(t, "COPY", v.entryKey("admin.1111"), v.entryKey("guest.2222"))
	got, err := v.Get("guest.2222")
	if !errors.Is(err, cache.ErrVaultNotFound) || !errors.Is(err, sealed.ErrOpen) || got != nil {
		t.Fatalf("Get of a moved entry = %q, %v; want a miss saying it does not open", got, err)
	}
}

func TestRotatedKeyOpensOldEntries(t *testing.T) {
	s := startRedis(t)
	old := newVault(t, s, Options{})
	if err := old.Set("work.1", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	box, _ := sealed.New(testKey(8), testKey(7))
	rotated := newVault(t, s, Options{Box: box})
	if got, err := rotated.Get("work.1"); err != nil || string(got) != "v1" {
		t.Fatalf("rotated Get = %q, %v", got, err)
	}
}

func TestSetUntilSetsTheTTL(t *testing.T) {
	s := startRedis(t)
	v := newVault(t, s, Options{})
	if err := v.SetUntil("work.1", []byte("x"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	ttl := strings.TrimSpace(string(s.CLI(t, "TTL", v.entryKey("work.1"))))
	if ttl != "3600" && ttl != "3599" {
		t.Fatalf("TTL = %s, want about 3600", ttl)
	}
	if err := v.SetUntil("work.2", []byte("x"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if ttl := strings.TrimSpace(string(s.CLI(t, "TTL", v.entryKey("work.2")))); ttl != "-1" {
		t.Fatalf("TTL of an entry without expiry = %s, want -1 (none)", ttl)
	}
	if err := v.SetUntil("work.3", []byte("x"), time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1200 * time.Millisecond)
	if _, err := v.Get("work.3"); !errors.Is(err, cache.ErrVaultNotFound) {
		t.Fatalf("an entry stored already expired is still there: %v", err)
	}
}

func TestNewRefusesBadURLs(t *testing.T) {
	box, _ := sealed.New(testKey(1))
	for _, u := range []string{"", "http://h:6379", "redis://user:hunter2-secret@h:notaport", "unix:///tmp/x", "redis://h:6379/notadb"} {
		_, err := New(Options{URL: u, Box: box})
		if err == nil {
			t.Errorf("New(%q) accepted", u)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "hunter2") || strings.Contains(msg, "\n") {
			t.Errorf("New(%q) error %q holds the password or is not one line", u, msg)
		}
	}
	if _, err := New(Options{URL: "redis://127.0.0.1:1"}); err == nil {
		t.Error("New without a sealing box accepted")
	}
	v, err := New(Options{URL: "rediss://cache.example:6380/2", Box: box})
	if err != nil {
		t.Fatalf("rediss:// refused: %v", err)
	}
	defer v.Close()
	if v.client.(*redis.Client).Options().TLSConfig == nil {
		t.Error("rediss:// without TLS")
	}
}
