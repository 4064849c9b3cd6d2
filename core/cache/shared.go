package cache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
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
// of kind timeout then), and returns the function that releases it, whose
// error says the release failed (the lock then stays until it expires, or
// had expired already); a holder that dies loses the lock after a bounded
// time. Every call returns
// within a bounded time, and an error saying that the store cannot be used
// now wraps ErrVaultUnavailable. A Shared is safe for concurrent use.
type Shared interface {
	ExpiringVault
	NameKey() ([]byte, error)
	List(prefix string) ([]string, error)
	LockEntry(ctx context.Context, account string, wait time.Duration) (unlock func() error, err error)
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
// shared store was down), and none predates a logout the shared store
// records (see tombstone). The shared store unavailable: the store goes on
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
	local = s.unlessLoggedOut(k, nk, local, remote)
	if done(remote.entry) {
		s.copyLocal(k, nk, remote.entry)
		unlockLocal()
		return remote.entry, nil, nil
	}
	wait := s.LockTimeout
	if wait <= 0 {
		wait = DefaultLockTimeout
	}
	unlockShared, err := sh.LockEntry(ctx, name, wait)
	if err != nil {
		if core.KindOf(err) == core.KindTimeout { // another machine's login, not the store
			unlockLocal()
			return nil, nil, err
		}
		return fail(err) // unavailable, or refusing authx's user
	}
	both := func() { s.release(k.Profile, unlockShared); unlockLocal() }
	if remote, err = s.readShared(sh, k, name); err != nil {
		// The fallback told first: its notice, not the release's, is
		// the one line a process tells.
		latest, unlock, err := fail(err)
		s.release(k.Profile, unlockShared)
		return latest, unlock, err
	}
	local = s.unlessLoggedOut(k, nk, local, remote)
	if done(remote.entry) {
		s.copyLocal(k, nk, remote.entry)
		both()
		return remote.entry, nil, nil
	}
	if remote.entry == nil || local != nil && local.Created.After(remote.entry.Created) {
		return local, both, nil
	}
	return remote.entry, both, nil
}

// sharedEntry is what the shared store holds under an entry's name: the
// entry, or the time a logout ended the fleet's session (a tombstone), or
// neither.
type sharedEntry struct {
	entry     *Entry
	loggedOut time.Time
}

// tombstone is what a logout leaves in the shared store under each of the
// profile's names (Delete): a machine whose copy predates it does not
// renew that copy (refresh it with its refresh token) back into the store,
// as it would after a Redis restart, which leaves nothing. The next login
// replaces it.
type tombstone struct {
	Version   int       `json:"version"`
	Profile   string    `json:"profile"`
	LoggedOut time.Time `json:"logged_out"`
}

// unlessLoggedOut returns local, or nil when a logout recorded in remote
// ended the session local is a copy of (it was created before); that copy
// is removed from the directory.
func (s *Store) unlessLoggedOut(k Key, nk []byte, local *Entry, remote sharedEntry) *Entry {
	if local == nil || remote.loggedOut.IsZero() || local.Created.After(remote.loggedOut) {
		return local
	}
	os.Remove(s.path(k, nk))
	return nil
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
	remote, err := s.readShared(sh, k, k.name(snk))
	return remote.entry, err
}

// readShared reads k's entry from the shared store: nothing for a miss
// (none, damaged, sealed under another key, of another profile).
func (s *Store) readShared(sh Shared, k Key, name string) (sharedEntry, error) {
	data, err := sh.Get(name)
	switch {
	case errors.Is(err, ErrVaultNotFound):
		return sharedEntry{}, nil
	case err != nil:
		return sharedEntry{}, err
	case len(data) > maxEntrySize:
		return sharedEntry{}, nil
	}
	var t tombstone
	if json.Unmarshal(data, &t) == nil && !t.LoggedOut.IsZero() {
		if t.Version != Version || t.Profile != k.Profile {
			return sharedEntry{}, nil
		}
		return sharedEntry{loggedOut: t.LoggedOut}, nil
	}
	return sharedEntry{entry: decodeEntry(data, k.Profile)}, nil
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

// deleteShared ends the profile's session in the shared store: each of
// its entries (of every identity, found by their names' prefix) is
// replaced by a tombstone (see tombstone), under the entry's lock: a
// renewal in flight on another machine stores its entry first, and the
// tombstone replaces it (written after, it would put the logged-out
// session back for the whole fleet).
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
	wait := s.LockTimeout
	if wait <= 0 {
		wait = DefaultLockTimeout
	}
	for _, name := range names {
		unlock, err := sh.LockEntry(context.Background(), name, wait)
		if err != nil {
			return fail(err)
		}
		// The time after the renewal: its copies predate the logout.
		mark, _ := json.Marshal(tombstone{Version: Version, Profile: profile, LoggedOut: time.Now().UTC()})
		err = sh.SetUntil(name, mark, time.Time{})
		s.release(profile, unlock)
		if err != nil {
			return fail(err)
		}
	}
	return len(names), nil
}

// release releases a shared store's lock; a release that fails is told
// (Notice, unless the store told of a failure already): the other
// machines wait for the lock to expire, or it had expired while held and
// another machine may have renewed the credential too.
func (s *Store) release(profile string, unlock func() error) {
	if err := unlock(); err != nil && !s.noticed.Swap(true) && s.Notice != nil { // one notice per process: an outage was told already
		s.Notice(fmt.Sprintf("store %s: profile %q: %s", s.vaultName(), profile, oneLine(err)))
	}
}
