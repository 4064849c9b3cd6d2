package redisvault

import (
	"bytes"
	"testing"
	"time"
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
