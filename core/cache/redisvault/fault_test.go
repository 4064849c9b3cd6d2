package redisvault

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core/cache"
)

// bounded runs f and fails t unless it returns within limit an error
// wrapping cache.ErrVaultUnavailable.
func bounded(t *testing.T, what string, limit time.Duration, f func() error) {
	t.Helper()
	start := time.Now()
	err := f()
	took := time.Since(start)
	if !errors.Is(err, cache.ErrVaultUnavailable) {
		t.Errorf("%s: %v, want an error wrapping ErrVaultUnavailable", what, err)
	}
	if took > limit {
		t.Errorf("%s took %v, more than %v", what, took, limit)
	}
}

func TestKilledRedisFailsWithinTheBound(t *testing.T) {
	s := startRedis(t)
	v := newVault(t, s, Options{Timeout: 300 * time.Millisecond})
	if err := v.Set("work.1", []byte("x")); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	limit := time.Second
	bounded(t, "Get", limit, func() error { _, err := v.Get("work.1"); return err })
	bounded(t, "Set", limit, func() error { return v.Set("work.1", []byte("y")) })
	bounded(t, "Delete", limit, func() error { return v.Delete("work.1") })
	bounded(t, "TryLock", limit, func() error { _, err := v.TryLock("work.1", time.Second); return err })
	bounded(t, "Lock", 2*limit, func() error {
		_, err := v.Lock(context.Background(), "work.1", time.Second, 10*time.Second)
		return err
	})
}

// A server that accepts connections and never answers (a hung Redis, a
// black-holing proxy) is bounded by the timeout too.
func TestSilentRedisFailsWithinTheBound(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, silent, until the listener closes
		}
	}()
	v, err := New(Options{URL: "redis://" + l.Addr().String(), Box: newBox(t), Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	bounded(t, "Get", time.Second, func() error { _, err := v.Get("work.1"); return err })
	bounded(t, "Set", time.Second, func() error { return v.Set("work.1", []byte("y")) })
}

// A Redis with a password (an ACL user's, here the default user's): the
// URL's or Options.Password (a resolved secret reference) opens it; none
// is a refusal (not an outage) whose error does not hold the password.
func TestPassword(t *testing.T) {
	const pw = "hunter2-redis-password"
	s := startRedis(t, "--requirepass", pw)
	noPW := newVault(t, s, Options{})
	err := noPW.Set("work.1", []byte("x"))
	if err == nil || errors.Is(err, cache.ErrVaultUnavailable) || !strings.Contains(err.Error(), "NOAUTH") {
		t.Fatalf("without the password: %v, want a refusal saying NOAUTH", err)
	}
	if strings.Contains(err.Error(), pw) {
		t.Fatalf("error %q holds the password", err)
	}
	for _, v := range []*Vault{
		newVault(t, s, Options{Password: pw}),
		newVault(t, s, Options{URL: "redis://default:" + pw + "@" + s.Addr}),
	} {
		if err := v.Set("work.1", []byte("x")); err != nil {
			t.Fatal(err)
		}
		if got, err := v.Get("work.1"); err != nil || string(got) != "x" {
			t.Fatalf("Get = %q, %v", got, err)
		}
	}
	bad := newVault(t, s, Options{URL: "redis://default:wrong-" + pw + "@" + s.Addr})
	if _, err := bad.Get("work.1"); err == nil || strings.Contains(err.Error(), pw) {
		t.Fatalf("a wrong password: %v", err)
	}
}
