package redisvault

import (
	"bytes"
	"testing"
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
