package redisvault

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	core "github.com/authx/authx/core/base"
	"github.com/authx/authx/core/cache"
)

// An entry as large as a valid credential makes it (core.MaxCredentialSize
// of state, which the entry's JSON holds in base64) is shared like any
// other: another machine reads it from Redis rather than missing it and
// logging in on its own.
func TestStoreSharesTheLargestCredential(t *testing.T) {
	s := startRedis(t)
	v := newVault(t, s, Options{})
	machine := func() *cache.Store {
		st := cache.New(filepath.Join(t.TempDir(), "authx"))
		st.Shared = v
		return st
	}
	a, b := machine(), machine()
	k := cache.KeyFor("big", []byte("identity"))
	state := bytes.Repeat([]byte{0xfe}, core.MaxCredentialSize-64)
	cred := core.Credential{Token: "t", ExpiresAt: time.Now().Add(time.Hour), State: state}
	if err := cred.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := a.Put(k, &cache.Entry{Scheme: "jwt", Created: time.Now(), Credential: cred}); err != nil {
		t.Fatal(err)
	}
	e, unlock, err := b.Claim(context.Background(), k, func(e *cache.Entry) bool { return e != nil })
	if unlock != nil {
		unlock()
	}
	if err != nil || e == nil || !bytes.Equal(e.Credential.State, state) {
		t.Fatalf("another machine's Claim: entry %v, %v; want the shared one", e != nil, err)
	}
}
