// Package cache stores credentials between authx runs.
//
// Each profile has one entry, a JSON file named after the profile and a
// keyed hash of its identity (see config.Profile.Identity), so a changed
// profile never reuses an old credential. The hash is an HMAC-SHA256 under a
// random key kept in the directory (names.key): a profile written with a
// literal password yields a file name from which nobody can test guesses,
// even when the name is shown (authx status) or pasted in a bug report.
// The directory is 0700 and every file 0600; writes are atomic (temp file,
// fsync, rename; UpdateState's, once per signed request, skip the fsync).
// Lock serialises logins, refreshes and state updates of one entry across
// processes with flock(2), waiting at most LockTimeout.
//
// Every read is bounded: a file of the store that is not a regular file (a
// FIFO, a device), is larger than maxEntrySize or belongs to another user
// is damaged, never waited on. A directory that belongs to another user is
// refused, for root too.
package cache

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	core "github.com/authx/authx/core/base" // core's credentials and errors, without net/http
)

// Version is the entry format this build reads and writes. An entry of any
// other version is a miss.
const Version = 1

// Entry is one cached credential.
type Entry struct {
	Version    int             `json:"version"`
	Profile    string          `json:"profile"`
	Scheme     string          `json:"scheme"`
	Created    time.Time       `json:"created"`
	Credential core.Credential `json:"credential"`
}

// Fresh reports whether e can be served as is at now: it expires later
// than skew from now. For short-lived credentials the skew shrinks to a
// quarter of the lifetime, so that a 2-second token is still served from
// the cache for most of its life instead of being renewed on every call. A
// nil entry is not fresh.
func (e *Entry) Fresh(now time.Time, skew time.Duration) bool {
	if e == nil {
		return false
	}
	if life := e.Credential.ExpiresAt.Sub(e.Created); life > 0 && life/4 < skew {
		skew = life / 4
	}
	return e.Credential.FreshAt(now, skew)
}

// Key names one entry: a profile's name and identity. The store turns it
// into a file name with its keyed hash.
type Key struct {
	Profile  string
	identity string
}

// KeyFor returns the key of a profile with the given identity bytes.
func KeyFor(profile string, identity []byte) Key {
	return Key{Profile: profile, identity: string(identity)}
}

// nameKeyFile holds the store's random HMAC key for entry names.
const nameKeyFile = "names.key"

// name is k's entry's base file name under the name key nk: the profile,
// made file-safe, and 128 bits of HMAC-SHA256(nk, identity).
func (k Key) name(nk []byte) string {
	m := hmac.New(sha256.New, nk)
	io.WriteString(m, k.identity)
	return fileSafe(k.Profile) + "." + hex.EncodeToString(m.Sum(nil)[:16])
}

// fileSafe maps a profile name to a file name part, injectively: letters,
// digits and '-' stay, every other byte becomes _XX (hex).
func fileSafe(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// DefaultLockTimeout is how long Lock waits for another authx when
// Store.LockTimeout is zero: long enough for a login that prompts.
const DefaultLockTimeout = 2 * time.Minute

// maxEntrySize bounds an entry file: larger is damaged.
const maxEntrySize = 4 << 20

// Store is a cache directory. It is safe for concurrent use once its
// fields are set.
type Store struct {
	// LockTimeout bounds Lock's wait; zero means DefaultLockTimeout.
	LockTimeout time.Duration
	// Vault, when set, holds the entries' secrets instead of the
	// directory (see Vault); the locks stay in the directory.
	Vault Vault
	// Shared, when set, is a store several machines share behind the
	// directory, which keeps a copy of its entries (see Shared). A Store
	// has a Vault or a Shared store, not both.
	Shared Shared
	// VaultName names the vault (or the shared store) in errors and
	// stubs: the store: value ("keyring" when empty; a shared store's
	// name).
	VaultName string
	// VaultFallback says what an unavailable Vault or Shared store makes
	// the store do:
	// go on with files for VaultRetry (a command's whole life), telling
	// Notice once per process (true), or fail with a KindKeyring error
	// (false).
	VaultFallback bool
	Notice        func(msg string)
	vaultDownAt   atomic.Int64 // unix nanoseconds of the last failure; 0: none
	noticed       atomic.Bool

	dir string
	nk  atomic.Pointer[[]byte] // the name key, once read
}

// New returns the store in dir. The directory is created (0700) on the
// first write, not here.
func New(dir string) *Store { return &Store{dir: dir} }

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// Path returns the file that holds (or would hold) k's entry, or "" while
// the store has written nothing.
func (s *Store) Path(k Key) string {
	nk, err := s.nameKey(false)
	if err != nil || nk == nil {
		return ""
	}
	return s.path(k, nk)
}

func (s *Store) path(k Key, nk []byte) string { return filepath.Join(s.dir, k.name(nk)+".json") }

// sideExt ends the name of a side file (see SidePath).
const sideExt = ".side"

// SidePath returns a file beside k's entry in which a caller keeps a small
// private record about the entry (kind names the caller, e.g. "kube"):
// Delete, and replacing the entry by one of another identity, remove it
// with the entry. It is "" while the store has written nothing.
func (s *Store) SidePath(k Key, kind string) string {
	nk, err := s.nameKey(false)
	if err != nil || nk == nil {
		return ""
	}
	return filepath.Join(s.dir, k.name(nk)+"."+fileSafe(kind)+sideExt)
}

// Digest returns HMAC-SHA256(v) keyed with the store's name key, in hex:
// a record that tells whether a later value is v and, without the key,
// nothing of v (a plain hash of a token could be checked against
// guesses). It is "" while the store has written nothing.
func (s *Store) Digest(v string) string {
	nk, err := s.nameKey(false)
	if err != nil || nk == nil {
		return ""
	}
	m := hmac.New(sha256.New, nk)
	io.WriteString(m, "side-digest\x00"+v) // apart from the entry names' HMACs
	return hex.EncodeToString(m.Sum(nil))
}

// removeSides removes the profile's side files but those of the entry
// named keep ("": all of them).
func (s *Store) removeSides(profile, keep string) {
	matches, _ := filepath.Glob(filepath.Join(s.dir, fileSafe(profile)+".*"+sideExt))
	legacy, _ := filepath.Glob(filepath.Join(s.dir, fileSafe(profile)+".*.kube")) // before side files
	for _, m := range append(matches, legacy...) {
		if keep == "" || !strings.HasPrefix(filepath.Base(m), keep+".") {
			os.Remove(m)
		}
	}
}

// nameKey reads the store's name key. When there is none yet it returns
// nil, or with create a new one, made so that concurrent authx processes
// all end up with the same key.
func (s *Store) nameKey(create bool) ([]byte, error) {
	if nk := s.nk.Load(); nk != nil {
		return *nk, nil
	}
	if err := s.checkDir(); err != nil {
		return nil, err
	}
	path := filepath.Join(s.dir, nameKeyFile)
	nk, err := readFile(path, 32)
	// Where there are no hard links the key is written in place: give a
	// concurrent writer a moment before calling a short key damaged.
	for i := 0; i < 10 && err == nil && len(nk) < 32; i++ {
		time.Sleep(10 * time.Millisecond)
		nk, err = readFile(path, 32)
	}
	switch {
	case err == nil && len(nk) == 32:
		s.nk.Store(&nk)
		return nk, nil
	case err == nil:
		return nil, core.Errorf(core.KindCache, "the credential cache's %s is damaged (%d bytes, want 32): delete it and log in again", path, len(nk))
	case isDamaged(err):
		return nil, core.Errorf(core.KindCache, "the credential cache's %s is damaged (%v): delete it and log in again", path, err)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, core.Wrap(core.KindCache, err, "reading the credential cache's key")
	case !create:
		return nil, nil
	}
	nk = make([]byte, 32)
	rand.Read(nk)
	tmp, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return nil, core.Wrap(core.KindCache, err, "creating the credential cache's key")
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(nk)
	if err == nil {
		err = fsync(tmp)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, core.Wrap(core.KindCache, err, "writing the credential cache's key")
	}
	// link(2) fails when the key exists: the first process to link wins
	// and every other one reads its key, written in full.
	if err := link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		// A file system without hard links: create the key in place.
		if err := writeExclusive(path, nk); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, core.Wrap(core.KindCache, err, "creating the credential cache's key")
		}
	}
	return s.nameKey(false)
}

// writeExclusive creates path (0600) with data, failing when it exists.
func writeExclusive(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = fsync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Get returns k's entry. A missing, damaged (see readFile), corrupt or
// other-version entry is a miss: (nil, nil), which the next Put replaces, and
// so is one whose credential fails core.Credential.Validate (a hand-edited
// entry with a line break). Only an unexpected I/O error, or a directory that
// belongs to another user, is returned as an error.
func (s *Store) Get(k Key) (*Entry, error) {
	nk, err := s.nameKey(false)
	if err != nil || nk == nil {
		return nil, err
	}
	v, leftover := s.vault(), false
	if v != nil {
		e, fellBack, left, err := s.getVault(v, k, nk)
		if !fellBack {
			return e, err
		}
		leftover = left
	}
	data, err := readFile(s.path(k, nk), maxEntrySize)
	if errors.Is(err, fs.ErrNotExist) || isDamaged(err) {
		return nil, nil
	}
	if err != nil {
		return nil, core.Wrap(core.KindCache, err, "reading the credential cache")
	}
	e := decodeEntry(data, k.Profile)
	if leftover && e != nil {
		s.migrate(v, k, nk, e)
	}
	return e, nil
}

// decodeEntry decodes an entry file of profile; nil when it is not a
// well-formed entry of this version for that profile holding a valid
// credential.
func decodeEntry(data []byte, profile string) *Entry {
	var e Entry
	if json.Unmarshal(data, &e) != nil || e.Version != Version || e.Profile != profile || e.Credential.Validate() != nil {
		return nil
	}
	return &e
}

// damaged says why a file of the store must not be read.
type damaged string

func (d damaged) Error() string { return string(d) }

func isDamaged(err error) bool {
	var d damaged
	return errors.As(err, &d)
}

// kindOfFile names a file type for messages.
func kindOfFile(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m.IsDir():
		return "a directory"
	case m&(fs.ModeDevice|fs.ModeCharDevice) != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file"
}

// readFile reads a file of the store, at most limit bytes. It never waits:
// the file is opened without blocking (a FIFO would block a plain open) and
// checked with fstat before any read. A file that is not a regular file,
// belongs to another user or is larger than limit is damaged.
func readFile(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openNonBlock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch uid, known := owner(fi); {
	case !fi.Mode().IsRegular():
		return nil, damaged(kindOfFile(fi.Mode()))
	case known && uid != euid():
		return nil, damaged(fmt.Sprintf("it belongs to uid %d", uid))
	case fi.Mode().Perm()&0o022 != 0:
		return nil, damaged("other users may write it")
	case fi.Size() > limit:
		return nil, damaged(fmt.Sprintf("larger than %d bytes", limit))
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && int64(len(data)) > limit {
		return nil, damaged(fmt.Sprintf("larger than %d bytes", limit))
	}
	return data, err
}

// ReadPrivate reads a file that authx or a plugin keeps in a private cache
// directory of its own (an OIDC discovery document, a JWKS), at most limit
// bytes, by the rules of the credential cache: the directory and the file
// belong to the user running authx and no one else may write them, and the
// file is a regular file (opened without blocking: a FIFO is refused, not
// waited on). Anything else is an error, which the caller takes for a miss:
// another user must not be able to plant what a plugin then trusts.
func ReadPrivate(path string, limit int64) ([]byte, error) {
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	uid, known := owner(fi)
	switch {
	case known && uid != euid():
		return nil, damaged(fmt.Sprintf("its directory belongs to uid %d", uid))
	case fi.Mode().Perm()&0o022 != 0 || fi.Mode()&fs.ModeSticky != 0:
		return nil, damaged("other users may write its directory")
	}
	return readFile(path, limit)
}

// euid is a seam for tests that emulate another user.
var euid = os.Geteuid

// checkDir refuses a cache directory that belongs to another user: that
// user's credentials are not ours to read, and root must not leave files
// the owner cannot replace. A missing directory is fine.
func (s *Store) checkDir() error {
	fi, err := os.Stat(s.dir)
	if err != nil {
		return nil // missing: created (by us) on the first write; other errors surface there
	}
	if uid, known := owner(fi); known && uid != euid() {
		return core.Errorf(core.KindCache, "the credential cache %s belongs to uid %d, and authx runs as uid %d: refusing to use it (set cache_dir or AUTHX_CACHE_DIR to a directory of your own)", s.dir, uid, euid())
	}
	return nil
}

// IsReadOnly reports whether err is a write the cache directory refused
// (permission denied, a read-only file system): authx then works without
// caching.
func IsReadOnly(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, errReadOnlyFS)
}

// Put stores e under k atomically and removes the profile's entries for
// older identities.
//
// With a Shared store, e is written there first (see Shared).
func (s *Store) Put(k Key, e *Entry) error {
	name, err := s.put(k, e, true)
	if err != nil {
		return err
	}
	s.removeStale(name, k.Profile)
	if s.vault() != nil {
		s.deleteVault(k.Profile, name) // the items of older identities
	}
	return nil
}

// UpdateState stores e under k atomically like Put, without fsync: it is
// for the caller that holds k's lock and rewrites the entry it just read
// with only Credential.State changed, once per signed request (a Digest
// nonce count). A crash of the machine, not of the process, may then
// leave the previous state (a nonce count the server sees twice, which
// costs a refusal and a renewal, never a secret) or, on a file system
// that does not order a rename after its data, a damaged entry, which is
// a miss: a new login. The fsyncs cost milliseconds on every request.
//
// With a Shared store only the local copy is written: a signed request's
// state (a Digest nonce count) stays on the machine.
func (s *Store) UpdateState(k Key, e *Entry) error {
	_, err := s.put(k, e, false)
	return err
}

// put writes e under k and returns the entry's base name.
func (s *Store) put(k Key, e *Entry, durable bool) (string, error) {
	if err := s.mkdir(); err != nil {
		return "", err
	}
	nk, err := s.nameKey(true)
	if err != nil {
		return "", err
	}
	data, err := marshalEntry(k, e)
	if err != nil {
		return "", err
	}
	if sh := s.shared(); sh != nil && durable {
		if err := s.putShared(sh, k, e, data); err != nil {
			return "", err
		}
	}
	if v := s.vault(); v != nil {
		if fellBack, err := s.putVault(v, k, nk, e, data, durable); !fellBack {
			return k.name(nk), err
		}
	}
	if err := writeAtomic(s.path(k, nk), data, durable); err != nil {
		return "", core.Wrap(core.KindCache, err, "writing the credential cache "+s.dir)
	}
	return k.name(nk), nil
}

// marshalEntry encodes e as k's entry.
func marshalEntry(k Key, e *Entry) ([]byte, error) {
	e.Version = Version
	e.Profile = k.Profile
	data, err := json.Marshal(e)
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "encoding a cache entry")
	}
	return data, nil
}

// mkdir creates the directory (0700), or checks an existing one: it must be
// ours and writable by no one else (a shared directory such as /tmp, where
// another user could plant or swap entries, is refused, not rewritten). An
// existing directory's mode is never changed: a cache the user made
// read-only stays so, and a directory others may read exposes no secret
// (every file is 0600).
func (s *Store) mkdir() error {
	fi, err := os.Stat(s.dir)
	if err == nil {
		if err := s.checkDir(); err != nil {
			return err
		}
		if fi.Mode().Perm()&0o022 != 0 || fi.Mode()&fs.ModeSticky != 0 {
			return core.Errorf(core.KindCache, "the credential cache %s is a directory other users may write (mode %s); set cache_dir to a directory of your own", s.dir, fi.Mode().String())
		}
		return nil
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return core.Wrap(core.KindCache, err, "creating the credential cache")
	}
	// MkdirAll applies the umask; tighten ours.
	if err := os.Chmod(s.dir, 0o700); err != nil {
		return core.Wrap(core.KindCache, err, "securing the credential cache")
	}
	return nil
}

// fsync is a seam for tests that emulate a full disk.
var fsync = (*os.File).Sync

// link is a seam for tests that emulate a file system without hard links.
var link = os.Link

// writeAtomic writes data to path through a 0600 temporary file in the same
// directory, fsyncs it when durable and renames it into place, so that a
// reader sees the old entry or the new one, never a part, and a full disk
// leaves the old one.
func writeAtomic(path string, data []byte, durable bool) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if durable {
		if err = fsync(f); err != nil {
			return err
		}
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	if !durable {
		return nil
	}
	if d, derr := os.Open(filepath.Dir(path)); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// entries returns the base names (without extension) of the profile's entries.
func (s *Store) entries(profile string) []string {
	matches, _ := filepath.Glob(filepath.Join(s.dir, fileSafe(profile)+".*.json"))
	names := make([]string, 0, len(matches))
	for _, m := range matches {
		names = append(names, strings.TrimSuffix(filepath.Base(m), ".json"))
	}
	return names
}

// removeStale removes the profile's entries other than the one named keep.
func (s *Store) removeStale(keep, profile string) {
	for _, n := range s.entries(profile) {
		if n != keep {
			os.Remove(filepath.Join(s.dir, n+".json"))
			os.Remove(filepath.Join(s.dir, n+".lock"))
		}
	}
	s.removeSides(profile, keep)
}

// Delete removes every entry of profile and reports how many it removed.
func (s *Store) Delete(profile string) (int, error) {
	if err := s.checkDir(); err != nil {
		return 0, err
	}
	n := 0
	for _, name := range s.entries(profile) {
		if err := os.Remove(filepath.Join(s.dir, name+".json")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, core.Wrap(core.KindCache, err, "deleting a cache entry")
		}
		os.Remove(filepath.Join(s.dir, name+".lock"))
		n++
	}
	m, err := s.deleteVault(profile, "")
	if err == nil {
		s.removeSides(profile, "")
	}
	if err == nil {
		var shared int
		shared, err = s.deleteShared(profile) // the same credentials as the local copies
		n = max(n, shared)
	}
	return n + m, err
}

// Profiles lists the profiles that have entries, sorted.
func (s *Store) Profiles() []string {
	if s.checkDir() != nil {
		return nil
	}
	matches, _ := filepath.Glob(filepath.Join(s.dir, "*.json"))
	stubs, _ := filepath.Glob(filepath.Join(s.dir, "*"+stubExt))
	matches = append(matches, stubs...)
	seen := map[string]bool{}
	for _, m := range matches {
		data, err := readFile(m, maxEntrySize)
		if err != nil {
			continue
		}
		var e struct {
			Profile string `json:"profile"`
		}
		if json.Unmarshal(data, &e) == nil && e.Profile != "" {
			seen[e.Profile] = true
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Lock takes the exclusive lock of k's entry, waiting until it is free, ctx
// ends or LockTimeout passes (a KindTimeout error naming the profile). The
// lock is held by an open file, so it is released when the process dies.
// Callers must re-read the entry after taking the lock: another process may
// have just refreshed it.
func (s *Store) Lock(ctx context.Context, k Key) (unlock func(), err error) {
	if err := s.mkdir(); err != nil {
		return nil, err
	}
	nk, err := s.nameKey(true)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(s.dir, k.name(nk)+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|openNonBlock, 0o600)
	if err != nil {
		return nil, core.Wrap(core.KindCache, err, "opening the cache lock")
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, core.Errorf(core.KindCache, "the credential cache's lock %s is not a regular file: delete it", path)
	}
	timeout := s.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, core.Wrap(core.KindCache, err, "locking the credential cache")
		}
		if ok {
			return func() { unlockFile(f); f.Close() }, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, core.Wrap(core.KindTimeout, ctx.Err(), fmt.Sprintf("waiting for another authx to finish logging in to profile %q", k.Profile))
		case <-deadline.C:
			f.Close()
			return nil, core.Errorf(core.KindTimeout, "gave up after %s (lock_timeout) waiting for another authx to finish logging in to profile %q", timeout, k.Profile)
		case <-time.After(delay):
		}
	}
}
