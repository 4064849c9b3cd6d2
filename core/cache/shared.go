package cache

import (
	"context"
	"errors"
	"fmt"
	"time"

	core "github.com/authx/authx/core/base"
)

// Shared is a store that several machines share (core/cache/redisvault:
// stores: NAME of type redis), kept behind the directory: for a profile of
// such a store the directory holds an ordinary entry that is a copy,
// served while it is fresh with no network at all; the shared store is
// read when the copy is missing or due, and every login and refresh
// writes it first (Put), under a lock that spans the machines (Claim), so
// that N processes on M machines log in or refresh once.
//
// Its entries are named like the directory's (the profile and a keyed
// hash of its identity) under NameKey, a key every machine that shares the
// store reads from it, so that they all name an entry alike.
//
// Contract: Get, SetUntil and Delete as for an ExpiringVault. NameKey
// returns the same 32 bytes to every machine, for the store's life, and
// never to anyone without access to the store. List returns
// the accounts whose names start with prefix (a profile's entries; at most
// a bounded number). LockEntry takes account's lock across machines,
// waiting while another holds it until ctx ends or wait passes (an error
// of kind timeout then), and returns the function that releases it; a
// holder that dies loses the lock after a bounded time. Every call returns
// within a bounded time, and an error saying that the store cannot be used
// now wraps ErrVaultUnavailable. A Shared is safe for concurrent use.
type Shared interface {
	ExpiringVault
	NameKey() ([]byte, error)
	List(prefix string) ([]string, error)
	LockEntry(ctx context.Context, account string, wait time.Duration) (unlock func(), err error)
}

// shared returns the store's shared store while it can be used: nil
// without one, or within VaultRetry of a failure that made the store fall
// back to its directory alone.
func (s *Store) shared() Shared {
	if s.Shared == nil {
		return nil
	}
	if t := s.vaultDownAt.Load(); t != 0 && time.Since(time.Unix(0, t)) < VaultRetry {
		return nil
	}
	return s.Shared
}

// Claim is for a caller about to log in or refresh k's credential. It
// takes k's lock and returns the entry the caller is to renew, the latest
// there is (nil: none), with the function that releases the lock, to be
// called once the new entry is stored. When an entry that done accepts
// turns up on the way (another process, or another machine, has just
// renewed it), Claim returns it with a nil unlock and no lock held: the
// caller serves it.
//
// With a Shared store: after the local lock (one process per machine goes
// on), the shared store is read, then its lock taken and the entry read
// again; an entry found there is copied to the directory. The latest entry
// is the shared one unless the local one is newer (a login while the
// shared store was down). The shared store unavailable: the store goes on
// with its directory (one Notice), or fails (KindKeyring) without
// VaultFallback.
func (s *Store) Claim(ctx context.Context, k Key, done func(*Entry) bool) (latest *Entry, unlock func(), err error) {
	unlockLocal, err := s.Lock(ctx, k)
	if err != nil {
		return nil, nil, err
	}
	local, err := s.Get(k)
	if err != nil || done(local) {
		unlockLocal()
		return local, nil, err
	}
	sh := s.shared()
	if sh == nil {
		return local, unlockLocal, nil
	}
	fail := func(err error) (*Entry, func(), error) {
		if err := s.vaultFailed(k.Profile, err); err != nil {
			unlockLocal()
			return nil, nil, err
		}
		return local, unlockLocal, nil
	}
	nk, err := s.nameKey(true)
	if err != nil {
		unlockLocal()
		return nil, nil, err
	}
	snk, err := sh.NameKey()
	if err != nil {
		return fail(err)
	}
	name := k.name(snk)
	remote, err := s.readShared(sh, k, name)
	if err != nil {
		return fail(err)
	}
	if done(remote) {
		s.copyLocal(k, nk, remote)
		unlockLocal()
		return remote, nil, nil
	}
	wait := s.LockTimeout
	if wait <= 0 {
		wait = DefaultLockTimeout
	}
	unlockShared, err := sh.LockEntry(ctx, name, wait)
	if err != nil {
		if errors.Is(err, ErrVaultUnavailable) {
			return fail(err)
		}
		unlockLocal()
		return nil, nil, err
	}
	both := func() { unlockShared(); unlockLocal() }
	if remote, err = s.readShared(sh, k, name); err != nil {
		unlockShared()
		return fail(err)
	}
	if done(remote) {
		s.copyLocal(k, nk, remote)
		both()
		return remote, nil, nil
	}
	if remote == nil || local != nil && local.Created.After(remote.Created) {
		return local, both, nil
	}
	return remote, both, nil
}

// GetShared returns k's entry in the shared store, not its local copy:
// nil without a shared store or an entry there. An unavailable store is
// an error wrapping ErrVaultUnavailable. It is for logout, which revokes
// the fleet's credential and not only this machine's copy.
func (s *Store) GetShared(k Key) (*Entry, error) {
	sh := s.Shared
	if sh == nil {
		return nil, nil
	}
	snk, err := sh.NameKey()
	if err != nil {
		return nil, err
	}
	return s.readShared(sh, k, k.name(snk))
}

// readShared reads k's entry from the shared store: nil for a miss (none,
// damaged, sealed under another key, of another profile).
func (s *Store) readShared(sh Shared, k Key, name string) (*Entry, error) {
	data, err := sh.Get(name)
	switch {
	case errors.Is(err, ErrVaultNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case len(data) > maxEntrySize:
		return nil, nil
	}
	return decodeEntry(data, k.Profile), nil
}

// copyLocal writes e, read from the shared store, to the directory: the
// copy the next call serves without the network. A failure only costs
// that: the next call reads the shared store again.
func (s *Store) copyLocal(k Key, nk []byte, e *Entry) {
	if data, err := marshalEntry(k, e); err == nil {
		writeAtomic(s.path(k, nk), data, false)
	}
}

// putShared writes e (encoded: data) to the shared store, before the
// directory: the machines that read it next must find what this one
// serves. An unavailable shared store with VaultFallback is not an error
// (the directory alone, for VaultRetry).
func (s *Store) putShared(sh Shared, k Key, e *Entry, data []byte) error {
	snk, err := sh.NameKey()
	if err == nil {
		err = sh.SetUntil(k.name(snk), data, usefulUntil(e))
	}
	if err != nil {
		return s.vaultFailed(k.Profile, err)
	}
	return nil
}

// deleteShared removes the profile's entries from the shared store: those
// of every identity, found by their names' prefix.
func (s *Store) deleteShared(profile string) (int, error) {
	sh := s.Shared
	if sh == nil {
		return 0, nil
	}
	fail := func(err error) (int, error) {
		return 0, core.Wrap(core.KindKeyring, err, fmt.Sprintf("profile %q: its credential stays in store %s", profile, s.vaultName()))
	}
	names, err := sh.List(fileSafe(profile) + ".")
	if err != nil {
		return fail(err)
	}
	for _, name := range names {
		if err := sh.Delete(name); err != nil {
			return fail(err)
		}
	}
	return len(names), nil
}
