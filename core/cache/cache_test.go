package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/authx/authx/core"
)

func entry(token string) *Entry {
	return &Entry{Scheme: "basic", Credential: core.Credential{Token: token,
		Headers: []core.Header{{Name: "Authorization", Value: "Bearer " + token}}, State: []byte("refresh-1")}}
}

func TestPutGetPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "authx")
	s := New(dir)
	k := KeyFor("work", []byte(`{"scheme":"basic"}`))
	if e, err := s.Get(k); e != nil || err != nil {
		t.Fatalf("empty cache: Get = %v, %v; want miss", e, err)
	}
	if err := s.Put(k, entry("t1")); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(k)
	if err != nil || got == nil || got.Credential.Token != "t1" || string(got.Credential.State) != "refresh-1" {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, s.Path(k): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
	if containsAny(s.Path(k), "t1", "refresh-1") {
		t.Errorf("cache path %q leaks the secret", s.Path(k))
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func TestMissCases(t *testing.T) {
	tests := []struct {
		name    string
		content string
	}{
		{"corrupt", "{not json"},
		{"newer version", `{"version":99,"profile":"work","credential":{"token":"x"}}`},
		{"older version", `{"version":0,"profile":"work","credential":{"token":"x"}}`},
		{"other profile", `{"version":1,"profile":"other","credential":{"token":"x"}}`},
		{"empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t.TempDir())
			k := KeyFor("work", []byte("id"))
			if err := s.Put(k, entry("t1")); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(s.Path(k), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			e, err := s.Get(k)
			if e != nil || err != nil {
				t.Fatalf("Get = %+v, %v; want a miss", e, err)
			}
		})
	}
}

func TestChangedIdentityReplacesOldEntry(t *testing.T) {
	s := New(t.TempDir())
	old := KeyFor("work", []byte("user=alice"))
	neu := KeyFor("work", []byte("user=bob"))
	other := KeyFor("work2", []byte("user=alice"))
	for k, tok := range map[Key]string{old: "a", other: "c"} {
		if err := s.Put(k, entry(tok)); err != nil {
			t.Fatal(err)
		}
	}
	if e, _ := s.Get(neu); e != nil {
		t.Fatal("a changed profile reused the old credential")
	}
	if err := s.Put(neu, entry("b")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path(old)); !os.IsNotExist(err) {
		t.Errorf("stale entry for the old identity was kept: %v", err)
	}
	if e, _ := s.Get(other); e == nil || e.Credential.Token != "c" {
		t.Errorf("another profile's entry was touched: %+v", e)
	}
	if got := s.Profiles(); len(got) != 2 || got[0] != "work" || got[1] != "work2" {
		t.Errorf("Profiles = %v", got)
	}
	n, err := s.Delete("work")
	if err != nil || n != 1 {
		t.Fatalf("Delete = %d, %v", n, err)
	}
	if e, _ := s.Get(neu); e != nil {
		t.Error("entry survived Delete")
	}
}

func TestFileSafeIsInjective(t *testing.T) {
	names := []string{"a.b", "a_b", "a_2eb", "a/b", "", "_", "work"}
	seen := map[string]string{}
	for _, n := range names {
		f := fileSafe(n)
		if prev, ok := seen[f]; ok {
			t.Errorf("fileSafe(%q) = fileSafe(%q) = %q", n, prev, f)
		}
		seen[f] = n
	}
}

func TestFullDiskKeepsOldEntry(t *testing.T) {
	dir := t.TempDir()
	s := New(dir)
	k := KeyFor("work", []byte("id"))
	if err := s.Put(k, entry("old")); err != nil {
		t.Fatal(err)
	}
	fsync = func(*os.File) error { return syscall.ENOSPC }
	defer func() { fsync = (*os.File).Sync }()
	err := s.Put(k, entry("new"))
	if core.KindOf(err) != core.KindCache || !strings.Contains(err.Error(), "no space left on device") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Put on a full disk: %v (kind %v), want a one-line cache error", err, core.KindOf(err))
	}
	if e, _ := s.Get(k); e == nil || e.Credential.Token != "old" {
		t.Fatalf("old entry lost: %+v", e)
	}
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		if strings.HasPrefix(f.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", f.Name())
		}
	}
}

func TestLockIsExclusive(t *testing.T) {
	s := New(t.TempDir())
	k := KeyFor("work", []byte("id"))
	var inside, maxInside int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock, err := s.Lock(context.Background(), k)
			if err != nil {
				t.Error(err)
				return
			}
			n := atomic.AddInt32(&inside, 1)
			for {
				m := atomic.LoadInt32(&maxInside)
				if n <= m || atomic.CompareAndSwapInt32(&maxInside, m, n) {
					break
				}
			}
			time.Sleep(2 * time.Millisecond)
			atomic.AddInt32(&inside, -1)
			unlock()
		}()
	}
	wg.Wait()
	if maxInside != 1 {
		t.Fatalf("%d holders at once, want 1", maxInside)
	}
}

func TestLockHonoursContext(t *testing.T) {
	s := New(t.TempDir())
	k := KeyFor("work", []byte("id"))
	unlock, err := s.Lock(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := s.Lock(ctx, k); err == nil {
		t.Fatal("second Lock succeeded while the first is held")
	}
}

// Entry names are keyed: the same identity gets another name in another
// cache, so a name shown by authx status says nothing about the profile's
// literal values. Concurrent first writers agree on one key.
func TestEntryNamesAreKeyed(t *testing.T) {
	identity := []byte(`{"config":{"password":"hunter2"}}`)
	a, b := New(t.TempDir()), New(t.TempDir())
	k := KeyFor("work", identity)
	if a.Path(k) != "" {
		t.Errorf("an empty store names a path: %q", a.Path(k))
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.Put(KeyFor(fmt.Sprintf("p%d", i), identity), entry("t")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := range 16 {
		if e, err := a.Get(KeyFor(fmt.Sprintf("p%d", i), identity)); e == nil || err != nil {
			t.Errorf("p%d: written concurrently, then Get = %v, %v", i, e, err)
		}
	}
	if err := b.Put(k, entry("t")); err != nil {
		t.Fatal(err)
	}
	unkeyed := sha256.Sum256(identity)
	na, nb := filepath.Base(a.Path(KeyFor("p0", identity))), filepath.Base(b.Path(KeyFor("p0", identity)))
	if na == nb || strings.Contains(na, hex.EncodeToString(unkeyed[:16])) {
		t.Errorf("names %q and %q: want different, keyed names", na, nb)
	}
	fi, err := os.Stat(filepath.Join(a.Dir(), nameKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the name key: %v, %v; want a 0600 file", fi, err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(a.Dir(), ".tmp-*")); len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

// Without hard links the key is created in place, and concurrent first
// writers still agree on it.
func TestNameKeyWithoutHardLinks(t *testing.T) {
	link = func(string, string) error { return &os.LinkError{Op: "link", Err: syscall.EPERM} }
	defer func() { link = os.Link }()
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := New(dir).Put(KeyFor(fmt.Sprintf("p%d", i), []byte("id")), entry("t")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := range 8 {
		if e, err := New(dir).Get(KeyFor(fmt.Sprintf("p%d", i), []byte("id"))); e == nil || err != nil {
			t.Errorf("p%d: Get = %v, %v", i, e, err)
		}
	}
}

// A damaged name key is a cache error that says what to do, and nothing
// is written over it.
func TestDamagedNameKey(t *testing.T) {
	s := New(t.TempDir())
	k := KeyFor("work", []byte("id"))
	if err := s.Put(k, entry("t")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(s.Dir(), nameKeyFile), []byte("short"), 0o600)
	s = New(s.Dir()) // the next authx process
	for name, err := range map[string]error{"Get": second(s.Get(k)), "Put": s.Put(k, entry("u"))} {
		if core.KindOf(err) != core.KindCache || !strings.Contains(err.Error(), "delete it and log in again") {
			t.Errorf("%s with a damaged key: %v", name, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(s.Dir(), nameKeyFile)); string(b) != "short" {
		t.Errorf("the damaged key was overwritten")
	}
}

func second[T any](_ T, err error) error { return err }

// Issue 10, point 1: an entry whose credential would inject a header (a
// hand-edited CR/LF) is damaged: a miss, never served.
func TestGetRefusesAnInvalidCredential(t *testing.T) {
	s := New(t.TempDir())
	k := KeyFor("p", []byte("id"))
	for _, c := range []core.Credential{
		{Token: "abc\r\nX-Evil: 1"},
		{Headers: []core.Header{{Name: "Authorization", Value: "Bearer abc\nX-Evil: 1"}}},
		{Cookies: []core.Cookie{{Name: "a;b", Value: "v"}}},
	} {
		if err := s.Put(k, &Entry{Credential: c}); err != nil {
			t.Fatal(err)
		}
		if e, err := s.Get(k); e != nil || err != nil {
			t.Errorf("%+v served: %+v, %v", c, e, err)
		}
	}
	if err := s.Put(k, &Entry{Credential: core.Credential{Token: "abc"}}); err != nil {
		t.Fatal(err)
	}
	if e, err := s.Get(k); e == nil || err != nil || e.Credential.Token != "abc" {
		t.Errorf("a valid entry: %+v, %v", e, err)
	}
}

// UpdateState rewrites an entry atomically and 0600, without fsync (the
// seam fails every fsync: Put fails, UpdateState does not).
func TestUpdateStateSkipsFsync(t *testing.T) {
	s := New(filepath.Join(t.TempDir(), "authx"))
	k := KeyFor("work", []byte(`{"scheme":"digest"}`))
	if err := s.Put(k, entry("t")); err != nil {
		t.Fatal(err)
	}
	fsync = func(*os.File) error { return syscall.EIO }
	defer func() { fsync = (*os.File).Sync }()
	e, _ := s.Get(k)
	e.Credential.State = []byte("nc=2")
	if err := s.Put(k, e); err == nil {
		t.Fatal("Put succeeded although fsync fails")
	}
	if err := s.UpdateState(k, e); err != nil {
		t.Fatalf("UpdateState = %v", err)
	}
	got, err := s.Get(k)
	if err != nil || got == nil || string(got.Credential.State) != "nc=2" || got.Credential.Token != "t" {
		t.Fatalf("Get after UpdateState = %+v, %v", got, err)
	}
	if fi, err := os.Stat(s.Path(k)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("entry mode = %v, %v; want 0600", fi.Mode(), err)
	}
	if tmps, _ := filepath.Glob(filepath.Join(s.Dir(), ".tmp-*")); len(tmps) != 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}

// A side file goes with its entry: replaced by an entry of another
// identity, or deleted; another profile's stays. Digest is keyed: not the
// plain SHA-256, the same for the same value.
func TestSideFilesGoWithTheEntry(t *testing.T) {
	s := New(t.TempDir())
	if s.SidePath(KeyFor("work", nil), "kube") != "" || s.Digest("x") != "" {
		t.Fatal("a side file or a digest before the store has a key")
	}
	old := KeyFor("work", []byte("user=alice"))
	neu := KeyFor("work", []byte("user=bob"))
	other := KeyFor("work2", []byte("user=alice"))
	side := func(k Key) string {
		p := s.SidePath(k, "kube")
		if err := os.WriteFile(p, []byte(s.Digest("tok")), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, k := range []Key{old, other} {
		if err := s.Put(k, entry("a")); err != nil {
			t.Fatal(err)
		}
	}
	oldSide, otherSide := side(old), side(other)
	if err := s.Put(neu, entry("b")); err != nil {
		t.Fatal(err)
	}
	neuSide := side(neu)
	if _, err := os.Stat(oldSide); !os.IsNotExist(err) {
		t.Errorf("the old identity's side file was kept: %v", err)
	}
	if _, err := s.Delete("work"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(neuSide); !os.IsNotExist(err) {
		t.Errorf("a side file survived Delete: %v", err)
	}
	if _, err := os.Stat(otherSide); err != nil {
		t.Errorf("another profile's side file: %v", err)
	}
	sum := sha256.Sum256([]byte("tok"))
	if d := s.Digest("tok"); d == hex.EncodeToString(sum[:]) || d != s.Digest("tok") || d == s.Digest("tok2") {
		t.Errorf("Digest: %s", d)
	}
}
