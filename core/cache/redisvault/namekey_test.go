package redisvault

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core/sealed"
)

// A process that outlives a Redis restart (authx proxy, the agent, a long
// wrapped job) names entries as the machines that start after it do: its
// Vault reads the store's key for entry names again, and does not keep
// the one of an emptied Redis (under which it would log in or refresh
// alone, with a refresh token another machine uses too).
func TestNameKeyFollowsARestartedRedis(t *testing.T) {
	s := startRedis(t)
	long := newVault(t, s, Options{})
	before, err := long.NameKey()
	if err != nil {
		t.Fatal(err)
	}
	s.Kill()
	s.Restart() // empty
	fresh := newVault(t, s, Options{})
	now, err := fresh.NameKey()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(before, now) {
		t.Fatal("the restarted Redis kept its key for entry names; the test shows nothing")
	}
	got, err := long.NameKey()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, now) {
		t.Error("after a Redis restart the long-lived Vault names entries with the former key, the new machines with the new one")
	}
}

// Two fleets with different sealing keys on one Redis database: under two
// prefixes (stores.NAME.prefix) neither reads the other's entries and both
// work; under one, the second is told to take a prefix of its own.
func TestTwoFleetsWithDifferentKeysOnOneRedis(t *testing.T) {
	s := startRedis(t)
	a := newVault(t, s, Options{})
	boxB, err := sealed.New(testKey(9))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.NameKey(); err != nil {
		t.Fatal(err)
	}
	if _, err := newVault(t, s, Options{Box: boxB}).NameKey(); err == nil || !strings.Contains(err.Error(), "prefix:") {
		t.Fatalf("a second fleet under the same prefix: %v; want an error that says to give it a prefix", err)
	}
	b := newVault(t, s, Options{Box: boxB, Prefix: "authx-b:"})
	for _, v := range []*Vault{a, b} {
		if err := v.SetUntil("ci.1", []byte(v.prefix), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []*Vault{a, b} {
		if got, err := v.Get("ci.1"); err != nil || string(got) != v.prefix {
			t.Fatalf("fleet %s reads %q, %v", v.prefix, got, err)
		}
	}
}
