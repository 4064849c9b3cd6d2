package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	core "github.com/authx/authx/core/base"
)

// Vault keeps the secret part of a store's entries outside its directory:
// the OS keyring of a store: keyring profile (core/keystore). With a Vault
// the directory keeps, per entry, the lock and a stub that holds no secret
// (profile, scheme, creation and expiry: what `authx status` shows); the
// entry itself, credential, headers, cookies and state, lives in the vault
// only, under the entry's name (the profile and the keyed hash of its
// identity) as the account.
//
// Contract: Get returns the data that Set last stored under account, or an
// error wrapping ErrVaultNotFound when there is none; Delete of an absent
// account is not an error. Every call returns within a bounded time, and
// an error saying that the vault cannot be used now (unreachable, locked,
// timed out) wraps ErrVaultUnavailable. Errors never hold the data. A
// Vault is safe for concurrent use.
type Vault interface {
	Get(account string) ([]byte, error)
	Set(account string, data []byte) error
	Delete(account string) error
}

// ExpiringVault is a Vault that can drop an item by itself (a shared store
// such as Redis, core/cache/redisvault): SetUntil is Set of an item no
// longer of use after until (zero: kept until replaced or deleted). The
// store gives it the credential's expiry, or zero when the entry holds
// state (a refresh token) that outlives the credential.
type ExpiringVault interface {
	Vault
	SetUntil(account string, data []byte, until time.Time) error
}

// usefulUntil is when e is no longer of use: its credential's expiry,
// unless it holds state that may outlive it (zero: unknown).
func usefulUntil(e *Entry) time.Time {
	if len(e.Credential.State) > 0 {
		return time.Time{}
	}
	return e.Credential.ExpiresAt
}

// ErrVaultNotFound and ErrVaultUnavailable are the errors a Vault wraps
// (see Vault).
var (
	ErrVaultNotFound    = errors.New("not found")
	ErrVaultUnavailable = errors.New("unavailable")
)

// stubExt names a vault entry's stub in the directory.
const stubExt = ".keyring"

// stub is what the directory holds of a vault entry: nothing secret.
type stub struct {
	Version   int       `json:"version"`
	Profile   string    `json:"profile"`
	Scheme    string    `json:"scheme"`
	Created   time.Time `json:"created"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Store     string    `json:"store"`
}

// VaultRetry is how long a store that fell back to files keeps to them
// before it asks its vault again: a command never mixes the two, and a
// long-lived process (the agent) returns to the keyring once it answers.
const VaultRetry = time.Minute

// vault returns the store's vault while it can be used: nil without one,
// or within VaultRetry of a failure that made the store fall back to files.
func (s *Store) vault() Vault {
	if s.Vault == nil {
		return nil
	}
	if t := s.vaultDownAt.Load(); t != 0 && time.Since(time.Unix(0, t)) < VaultRetry {
		return nil
	}
	return s.Vault
}

// vaultFailed handles err from the vault: an unavailable vault with
// VaultFallback makes the store go on with files (Notice is told once) and
// returns nil; any other error comes back as a KindKeyring error, which is
// then what the process tells of the store (no Notice after it: a shared
// lock's failed release, on the way out, is not a second line).
func (s *Store) vaultFailed(profile string, err error) error {
	if err := s.vaultError(profile, err); err != nil {
		s.noticed.Store(true)
		return err
	}
	return nil
}

func (s *Store) vaultError(profile string, err error) error {
	if core.KindOf(err) == core.KindConfig { // the store's settings (its key): not a fault to work around
		return err
	}
	if errors.Is(err, ErrVaultUnavailable) && s.VaultFallback {
		s.vaultDownAt.Store(time.Now().UnixNano())
		if !s.noticed.Swap(true) && s.Notice != nil {
			if s.Shared != nil {
				s.Notice(fmt.Sprintf("store %s: %s; profile %q logs in on this machine alone (its cache %s) for this command", s.vaultName(), oneLine(err), profile, s.dir))
			} else {
				s.Notice(fmt.Sprintf("%s; profile %q uses the file store %s for this command", oneLine(err), profile, s.dir))
			}
		}
		return nil
	}
	if errors.Is(err, ErrVaultUnavailable) { // the profile forbids going on without it
		return core.Wrap(core.KindKeyring, err, "store: "+s.vaultName()+" (store_fallback: fail)")
	}
	return core.Wrap(core.KindKeyring, err, "store: "+s.vaultName())
}

// vaultName is the store's VaultName, "keyring" by default.
func (s *Store) vaultName() string {
	if s.VaultName == "" {
		return "keyring"
	}
	return s.VaultName
}

func oneLine(err error) string {
	first, _, _ := strings.Cut(err.Error(), "\n")
	return first
}

// stubPath is the stub of the entry named name.
func (s *Store) stubPath(name string) string { return filepath.Join(s.dir, name+stubExt) }

// getVault is Get for a store with a vault: a missing stub is a miss
// without asking the vault, unless a fallback left a file entry. fellBack
// is true when the caller must read the file store: the vault could not be
// used, or it is back and holds nothing for this entry while a fallback's
// file entry is there (then leftover is true too: the caller moves that
// entry into the vault, see migrate).
func (s *Store) getVault(v Vault, k Key, nk []byte) (e *Entry, fellBack, leftover bool, err error) {
	name := k.name(nk)
	_, stubErr := readFile(s.stubPath(name), maxEntrySize)
	if stubErr != nil {
		// No stub: a miss, unless a fallback left a file entry.
		if _, err := os.Lstat(s.path(k, nk)); err != nil {
			return nil, false, false, nil
		}
	}
	data, err := v.Get(name)
	switch {
	case errors.Is(err, ErrVaultNotFound):
		if stubErr != nil { // the fallback's file entry is all there is
			return nil, true, true, nil
		}
		return nil, false, false, nil
	case err != nil:
		if err := s.vaultFailed(k.Profile, err); err != nil {
			return nil, false, false, err
		}
		return nil, true, false, nil
	}
	if len(data) > maxEntrySize { // damaged, as a file would be
		return nil, false, false, nil
	}
	return decodeEntry(data, k.Profile), false, false, nil
}

// migrate moves e, a file entry a fallback left, into the vault now that
// it is back (the stub and the item written, the file removed), if the
// entry's lock is free at once: the file may hold a newer refresh token
// than anything else, and must not stay on disk. With the lock held
// elsewhere the file stays for the holder's Put to replace.
func (s *Store) migrate(v Vault, k Key, nk []byte, e *Entry) {
	f, err := os.OpenFile(filepath.Join(s.dir, k.name(nk)+".lock"), os.O_RDWR|os.O_CREATE|openNonBlock, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	if ok, err := tryLock(f); !ok || err != nil {
		return
	}
	defer unlockFile(f)
	// Read again under the lock: another process may have replaced it.
	data, err := readFile(s.path(k, nk), maxEntrySize)
	if err != nil {
		return
	}
	if cur := decodeEntry(data, k.Profile); cur != nil && cur.Created.Equal(e.Created) {
		s.putVault(v, k, nk, cur, data, true)
	}
}

// putVault is put for a store with a vault: the stub first, then the
// vault's item, so that no item is left without the stub that leads to it
// (a stub without its item is a miss). A file entry of the same identity
// (left by a fallback) is removed. fellBack is true when the vault could
// not be used and the caller must write the file store.
func (s *Store) putVault(v Vault, k Key, nk []byte, e *Entry, data []byte, durable bool) (fellBack bool, err error) {
	name := k.name(nk)
	st, _ := json.Marshal(stub{Version: Version, Profile: k.Profile, Scheme: e.Scheme, Created: e.Created, ExpiresAt: e.Credential.ExpiresAt, Store: s.vaultName()})
	if err := writeAtomic(s.stubPath(name), st, durable); err != nil {
		return false, core.Wrap(core.KindCache, err, "writing the credential cache "+s.dir)
	}
	if ev, ok := v.(ExpiringVault); ok {
		err = ev.SetUntil(name, data, usefulUntil(e))
	} else {
		err = v.Set(name, data)
	}
	if err != nil {
		os.Remove(s.stubPath(name))
		if err := s.vaultFailed(k.Profile, err); err != nil {
			return false, err
		}
		return true, nil
	}
	if err := os.Remove(s.path(k, nk)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, core.Wrap(core.KindCache, err, "removing the file entry of a store: "+s.vaultName()+" profile")
	}
	return false, nil
}

// stubs returns the base names (without extension) of the profile's stubs.
func (s *Store) stubs(profile string) []string {
	matches, _ := filepath.Glob(filepath.Join(s.dir, fileSafe(profile)+".*"+stubExt))
	names := make([]string, 0, len(matches))
	for _, m := range matches {
		names = append(names, strings.TrimSuffix(filepath.Base(m), stubExt))
	}
	return names
}

// deleteVault removes the items of the profile's stubs from the vault,
// then the stubs, except those in keep, and reports how many it removed.
// A vault that cannot be reached is an error here, fallback or not: the
// credential would stay in it.
func (s *Store) deleteVault(profile string, keep string) (int, error) {
	if s.Vault == nil { // stubs of a profile that was store: keyring: its items are not ours to reach now
		return 0, nil
	}
	n := 0
	for _, name := range s.stubs(profile) {
		if name == keep {
			continue
		}
		if err := s.Vault.Delete(name); err != nil {
			return n, core.Wrap(core.KindKeyring, err, fmt.Sprintf("profile %q: its credential stays in store %s", profile, s.vaultName()))
		}
		os.Remove(s.stubPath(name))
		os.Remove(filepath.Join(s.dir, name+".lock"))
		n++
	}
	return n, nil
}
