package cache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authx/authx/core"
)

// fakeShared is a Shared store in memory (a real one, Redis, is tested in
// core/cache/redisvault and cmd/authx): a fakeVault with a name key, a
// lock per account, a record of each call and of each entry's end.
type fakeShared struct {
	fakeVault
	nk        []byte
	nkErr     error
	until     map[string]time.Time
	locks     map[string]*sync.Mutex
	calls     []string
	callsMu   sync.Mutex
	unlockErr error // what every release returns
}

func newFakeShared() *fakeShared {
	return &fakeShared{fakeVault: fakeVault{items: map[string][]byte{}}, nk: []byte(strings.Repeat("n", 32)),
		until: map[string]time.Time{}, locks: map[string]*sync.Mutex{}}
}

func (f *fakeShared) record(call string) {
	f.callsMu.Lock()
	f.calls = append(f.calls, call)
	f.callsMu.Unlock()
}

func (f *fakeShared) Get(a string) ([]byte, error) { f.record("get"); return f.fakeVault.Get(a) }

func (f *fakeShared) SetUntil(a string, d []byte, until time.Time) error {
	f.record("set")
	return f.call(a, func() { f.items[a] = append([]byte(nil), d...); f.until[a] = until })
}

func (f *fakeShared) NameKey() ([]byte, error) {
	f.record("namekey")
	if f.down {
		return nil, fmt.Errorf("redis 127.0.0.1:6379: connection refused: %w", ErrVaultUnavailable)
	}
	return f.nk, f.nkErr
}

func (f *fakeShared) List(prefix string) (out []string, err error) {
	err = f.call(prefix, func() {
		for a := range f.items {
			if strings.HasPrefix(a, prefix) {
				out = append(out, a)
			}
		}
	})
	return out, err
}

func (f *fakeShared) LockEntry(ctx context.Context, a string, wait time.Duration) (func() error, error) {
	f.record("lock")
	var m *sync.Mutex
	if err := f.call(a, func() {
		if f.locks[a] == nil {
			f.locks[a] = &sync.Mutex{}
		}
		m = f.locks[a]
	}); err != nil {
		return nil, err
	}
	m.Lock()
	return func() error { f.record("unlock"); m.Unlock(); return f.unlockErr }, nil
}

// held reports whether a's lock is held.
func (f *fakeShared) held(a string) bool {
	m := f.locks[a]
	if m == nil || !m.TryLock() {
		return m != nil
	}
	m.Unlock()
	return false
}

// sharedName is k's entry's name in f.
func (f *fakeShared) sharedName(k Key) string { return k.name(f.nk) }

// tombScheme marks an Entry that stands for a logout's tombstone in
// fakeShared.put.
const tombScheme = "tombstone"

func (f *fakeShared) put(t *testing.T, k Key, e *Entry) {
	t.Helper()
	if e.Scheme == tombScheme {
		f.items[f.sharedName(k)], _ = json.Marshal(tombstone{Version: Version, Profile: k.Profile, LoggedOut: e.Created})
		return
	}
	data, err := marshalEntry(k, e)
	if err != nil {
		t.Fatal(err)
	}
	f.items[f.sharedName(k)] = data
}

func TestClaim(t *testing.T) {
	now := time.Now().UTC()
	k := KeyFor("ci", []byte("identity"))
	entry := func(tok string, created time.Time, expires time.Duration) *Entry {
		return &Entry{Scheme: "jwt", Created: created, Credential: core.Credential{Token: tok, ExpiresAt: created.Add(expires), State: []byte(`{"r":"` + tok + `"}`)}}
	}
	fresh := func(e *Entry) bool { return e.Fresh(now, time.Minute) }
	tomb := func(at time.Time) *Entry { return &Entry{Created: at, Scheme: tombScheme} }
	tests := []struct {
		name          string
		local, remote *Entry
		down          bool
		fallback      bool
		wantTok       string // the entry Claim returns ("" none)
		wantLocked    bool   // Claim returns with the locks held
		wantLocalTok  string // what the directory holds after
		wantCalls     string
		wantErrKind   core.Kind
	}{
		{name: "local fresh: no network", local: entry("L", now, time.Hour), wantTok: "L", wantLocalTok: "L", wantCalls: ""},
		{name: "local missing, remote fresh: copied", remote: entry("R", now, time.Hour), wantTok: "R", wantLocalTok: "R", wantCalls: "namekey get"},
		{name: "local due, remote fresh: copied", local: entry("L", now.Add(-time.Hour), time.Hour), remote: entry("R", now, time.Hour), wantTok: "R", wantLocalTok: "R", wantCalls: "namekey get"},
		{name: "both due: remote's to renew, under both locks", local: entry("L", now.Add(-2*time.Hour), time.Hour), remote: entry("R", now.Add(-time.Hour), time.Hour), wantTok: "R", wantLocked: true, wantLocalTok: "L", wantCalls: "namekey get lock get"},
		{name: "both due, local newer (logged in while Redis was down): local's", local: entry("L", now.Add(-time.Hour), time.Hour), remote: entry("R", now.Add(-2*time.Hour), time.Hour), wantTok: "L", wantLocked: true, wantLocalTok: "L", wantCalls: "namekey get lock get"},
		{name: "none anywhere", wantTok: "", wantLocked: true, wantCalls: "namekey get lock get"},
		{name: "logged out since the local copy was made: nothing to renew, the copy removed", local: entry("L", now.Add(-2*time.Hour), time.Hour), remote: tomb(now.Add(-time.Hour)), wantTok: "", wantLocked: true, wantLocalTok: "", wantCalls: "namekey get lock get"},
		{name: "logged out, then logged in here (Redis down then): local's", local: entry("L", now.Add(-time.Hour), time.Hour), remote: tomb(now.Add(-2 * time.Hour)), wantTok: "L", wantLocked: true, wantLocalTok: "L", wantCalls: "namekey get lock get"},
		{name: "down, fallback: local alone", local: entry("L", now.Add(-2*time.Hour), time.Hour), down: true, fallback: true, wantTok: "L", wantLocked: true, wantLocalTok: "L", wantCalls: "namekey"},
		{name: "down, no fallback: exit 17", down: true, wantErrKind: core.KindKeyring, wantCalls: "namekey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sh := newFakeShared()
			s := New(filepath.Join(t.TempDir(), "authx"))
			s.Shared, s.VaultName, s.VaultFallback = sh, "fleet", tt.fallback
			var notices []string
			s.Notice = func(m string) { notices = append(notices, m) }
			if tt.local != nil {
				if err := s.UpdateState(k, tt.local); err != nil { // the directory only
					t.Fatal(err)
				}
			}
			if tt.remote != nil {
				sh.put(t, k, tt.remote)
			}
			sh.down = tt.down
			got, unlock, err := s.Claim(context.Background(), k, fresh)
			if core.KindOf(err) != tt.wantErrKind && (err != nil || tt.wantErrKind != 0) {
				t.Fatalf("err = %v, want kind %v", err, tt.wantErrKind)
			}
			if err != nil {
				if !strings.Contains(err.Error(), "fleet") {
					t.Errorf("error does not name the store: %v", err)
				}
				assertLockFree(t, s, k)
				return
			}
			if gotTok := tokOf(got); gotTok != tt.wantTok {
				t.Errorf("Claim returned %q, want %q", gotTok, tt.wantTok)
			}
			if (unlock != nil) != tt.wantLocked {
				t.Fatalf("locked = %v, want %v", unlock != nil, tt.wantLocked)
			}
			if tt.wantLocked && !tt.down && !sh.held(sh.sharedName(k)) {
				t.Error("Redis's lock is not held")
			}
			if unlock != nil {
				unlock()
			}
			assertLockFree(t, s, k)
			if tt.wantLocked && !tt.down && sh.held(sh.sharedName(k)) {
				t.Error("Redis's lock still held after unlock")
			}
			local, _ := s.Get(k)
			if tokOf(local) != tt.wantLocalTok {
				t.Errorf("the directory holds %q, want %q", tokOf(local), tt.wantLocalTok)
			}
			if calls := strings.Join(sh.calls, " "); calls != strings.TrimSpace(tt.wantCalls+map[bool]string{true: " unlock"}[tt.wantLocked && !tt.down]) {
				t.Errorf("calls to the shared store: %q, want %q", calls, tt.wantCalls)
			}
			if tt.down && len(notices) != 1 {
				t.Errorf("notices: %q, want one", notices)
			}
		})
	}
}

func tokOf(e *Entry) string {
	if e == nil {
		return ""
	}
	return e.Credential.Token
}

// assertLockFree checks that k's local lock can be taken at once.
func assertLockFree(t *testing.T, s *Store, k Key) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	unlock, err := s.Lock(ctx, k)
	if err != nil {
		t.Fatalf("the local lock is still held: %v", err)
	}
	unlock()
}

// Put writes the shared store first, under the shared name, with the
// credential's expiry as the entry's end (none with state); UpdateState
// writes the directory only; Delete removes the profile's shared entries
// of every identity and no other profile's.
func TestSharedPutUpdateDelete(t *testing.T) {
	sh := newFakeShared()
	s := New(filepath.Join(t.TempDir(), "authx"))
	s.Shared, s.VaultName = sh, "fleet"
	now := time.Now().UTC()
	k := KeyFor("ci", []byte("identity"))
	e := &Entry{Scheme: "jwt", Created: now, Credential: core.Credential{Token: "T", ExpiresAt: now.Add(time.Hour)}}
	if err := s.Put(k, e); err != nil {
		t.Fatal(err)
	}
	name := sh.sharedName(k)
	if _, ok := sh.items[name]; !ok || !sh.until[name].Equal(e.Credential.ExpiresAt) {
		t.Fatalf("shared entry %s: %v, until %v", name, ok, sh.until[name])
	}
	e.Credential.State = []byte("nc=2")
	if err := s.UpdateState(k, e); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sh.items[name]), "nc=2") || strings.Count(strings.Join(sh.calls, " "), "set") != 1 {
		t.Errorf("UpdateState reached the shared store: %q", sh.calls)
	}
	sh.put(t, KeyFor("ci", []byte("older identity")), e)
	sh.put(t, KeyFor("other", []byte("identity")), e)
	if _, err := s.Delete("ci"); err != nil {
		t.Fatal(err)
	}
	for name, data := range sh.items {
		isTomb := strings.Contains(string(data), `"logged_out"`)
		if strings.HasPrefix(name, "ci.") != isTomb {
			t.Errorf("after Delete(ci), %s holds %s; want a tombstone for each of ci's, other's entry intact", name, data)
		}
	}
	sh.down = true
	if _, err := s.Delete("other"); core.KindOf(err) != core.KindKeyring || !strings.Contains(err.Error(), "stays in store fleet") {
		t.Errorf("Delete with the shared store down: %v; want an error saying the credential stays there", err)
	}
}

// A shared store's settings error (its key does not resolve) is the
// user's to fix: not a fault the store works around, even with fallback.
func TestSharedConfigErrorIsNotFallenBackFrom(t *testing.T) {
	sh := newFakeShared()
	sh.nkErr = core.Errorf(core.KindConfig, "stores.fleet.key: AUTHX_STORE_KEY is not set")
	s := New(filepath.Join(t.TempDir(), "authx"))
	s.Shared, s.VaultName, s.VaultFallback = sh, "fleet", true
	k := KeyFor("ci", []byte("identity"))
	if _, _, err := s.Claim(context.Background(), k, func(*Entry) bool { return false }); core.KindOf(err) != core.KindConfig {
		t.Fatalf("Claim: %v, want the config error", err)
	}
	assertLockFree(t, s, k)
}

// A release of the shared lock that fails (an ACL without EVAL, a lock
// that expired while held) is told once, naming the store and the profile.
func TestSharedReleaseFailureIsTold(t *testing.T) {
	sh := newFakeShared()
	sh.unlockErr = errors.New("redis 127.0.0.1:6379: unlocking ci.x: NOPERM this user has no permissions to run the 'eval' command")
	s := New(filepath.Join(t.TempDir(), "authx"))
	s.Shared, s.VaultName = sh, "fleet"
	var notices []string
	s.Notice = func(m string) { notices = append(notices, m) }
	_, unlock, err := s.Claim(context.Background(), KeyFor("ci", []byte("identity")), func(*Entry) bool { return false })
	if err != nil || unlock == nil {
		t.Fatal(unlock != nil, err)
	}
	unlock()
	if len(notices) != 1 || !strings.Contains(notices[0], "store fleet") || !strings.Contains(notices[0], `"ci"`) || !strings.Contains(notices[0], "NOPERM") {
		t.Errorf("notices: %q", notices)
	}
}
