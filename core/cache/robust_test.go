//go:build unix

package cache

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authx/authx/core"
)

// withTimeout fails the test when f has not returned within d: the
// failures these tests guard against are hangs.
func withTimeout(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("still blocked after %s", d)
	}
}

// An entry that is not a regular file, or is too large, is damaged: a miss,
// at once, and the next Put replaces it.
func TestNonRegularOrHugeEntryIsAMiss(t *testing.T) {
	tests := []struct {
		name string
		make func(path string) error
	}{
		{"FIFO", func(p string) error { return syscall.Mkfifo(p, 0o600) }},
		{"directory", func(p string) error { return os.Mkdir(p, 0o700) }},
		{"symlink to /dev/zero", func(p string) error { return os.Symlink("/dev/zero", p) }},
		{"larger than the bound", func(p string) error {
			return os.WriteFile(p, []byte(`{"version":1,"profile":"work","credential":{"token":"`+strings.Repeat("x", maxEntrySize)+`"}}`), 0o600)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t.TempDir())
			k := KeyFor("work", []byte("id"))
			if err := s.Put(k, entry("t1")); err != nil {
				t.Fatal(err)
			}
			os.Remove(s.Path(k))
			if err := tt.make(s.Path(k)); err != nil {
				t.Fatal(err)
			}
			withTimeout(t, 3*time.Second, func() {
				if e, err := s.Get(k); e != nil || err != nil {
					t.Errorf("Get = %v, %v; want a miss", e, err)
				}
				if got := s.Profiles(); len(got) != 0 {
					t.Errorf("Profiles = %v", got)
				}
			})
			if tt.name == "directory" {
				return
			}
			if err := s.Put(k, entry("t2")); err != nil {
				t.Fatal(err)
			}
			if e, err := s.Get(k); err != nil || e == nil || e.Credential.Token != "t2" {
				t.Errorf("after Put: %v, %v", e, err)
			}
		})
	}
}

// A FIFO in place of the name key is damaged, not a hang.
func TestFIFONameKey(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, nameKeyFile), 0o600); err != nil {
		t.Fatal(err)
	}
	withTimeout(t, 3*time.Second, func() {
		_, err := New(dir).Get(KeyFor("work", []byte("id")))
		if core.KindOf(err) != core.KindCache || !strings.Contains(err.Error(), "is damaged (a named pipe): delete it") {
			t.Errorf("Get = %v, want a damaged-cache error", err)
		}
	})
}

// Waiting for the lock is bounded by LockTimeout: exit 15, one line naming
// the profile and the setting.
func TestLockTimeout(t *testing.T) {
	s := New(t.TempDir())
	k := KeyFor("work", []byte("id"))
	unlock, err := s.Lock(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	other := New(s.Dir())
	other.LockTimeout = 100 * time.Millisecond
	withTimeout(t, 3*time.Second, func() {
		_, err := other.Lock(context.Background(), k)
		if core.KindOf(err) != core.KindTimeout || core.KindTimeout.ExitCode() != 15 ||
			!strings.Contains(err.Error(), `profile "work"`) || !strings.Contains(err.Error(), "lock_timeout") || strings.Contains(err.Error(), "\n") {
			t.Errorf("Lock = %v (kind %v), want a one-line timeout naming the profile and lock_timeout", err, core.KindOf(err))
		}
	})
}

// A cache directory owned by another user is refused, for root too: root
// would otherwise read that user's credentials and leave root-owned files
// in their cache.
func TestForeignCacheDirIsRefused(t *testing.T) {
	dir := t.TempDir()
	s := New(dir)
	k := KeyFor("work", []byte("id"))
	if err := s.Put(k, entry("t1")); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(dir)
	other := os.Geteuid() + 1
	euid = func() int { return other } // as if another user (or root) ran authx on this directory
	defer func() { euid = os.Geteuid }()
	s = New(dir)
	_, lockErr := s.Lock(context.Background(), k)
	_, getErr := s.Get(k)
	_, delErr := s.Delete("work")
	for name, err := range map[string]error{"Get": getErr, "Put": s.Put(k, entry("t2")), "Lock": lockErr, "Delete": delErr} {
		if core.KindOf(err) != core.KindCache || !strings.Contains(err.Error(), "belongs to uid") || IsReadOnly(err) {
			t.Errorf("%s: %v, want a cache error saying the directory belongs to another user", name, err)
		}
	}
	euid = os.Geteuid
	if e, err := New(dir).Get(k); err != nil || e == nil || e.Credential.Token != "t1" {
		t.Errorf("the owner's entry was touched: %v, %v", e, err)
	}
	if fi, _ := os.Stat(dir); fi.Mode() != before.Mode() {
		t.Errorf("mode %v, was %v", fi.Mode(), before.Mode())
	}
}

// An existing directory's mode is never changed: a cache the user made
// read-only stays read-only, and one others may read stays readable (its
// files are 0600). One that others may write (a shared /tmp, a 1777
// directory) is refused and left alone.
func TestMkdirNeverChangesAnExistingDirectory(t *testing.T) {
	tests := []struct {
		mode    os.FileMode
		refused bool
	}{
		{0o555, false},
		{0o755, false},
		{0o700, false},
		{0o775, true},
		{0o777, true},
		{0o777 | os.ModeSticky, true},
		{0o700 | os.ModeSticky, true},
	}
	for _, tt := range tests {
		dir := filepath.Join(t.TempDir(), "c")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		os.Chmod(dir, tt.mode)
		err := New(dir).Put(KeyFor("work", []byte("id")), entry("t"))
		if refused := err != nil && strings.Contains(err.Error(), "other users may write"); refused != tt.refused {
			t.Errorf("mode %v: %v, want refused %v", tt.mode, err, tt.refused)
		}
		if tt.refused && core.KindOf(err) != core.KindCache {
			t.Errorf("mode %v: kind %v, want a cache error", tt.mode, core.KindOf(err))
		}
		if fi, _ := os.Stat(dir); fi.Mode()&(os.ModePerm|os.ModeSticky) != tt.mode {
			t.Errorf("mode %v became %v", tt.mode, fi.Mode())
		}
		os.Chmod(dir, 0o700)
	}
}

func TestIsReadOnly(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{core.Wrap(core.KindCache, &os.PathError{Op: "open", Path: "/c/x", Err: syscall.EACCES}, "writing the credential cache"), true},
		{core.Wrap(core.KindCache, &os.PathError{Op: "open", Path: "/c/x", Err: syscall.EROFS}, "writing"), true},
		{core.Wrap(core.KindCache, &os.PathError{Op: "mkdir", Path: "/c", Err: syscall.EPERM}, "creating"), true},
		{core.Wrap(core.KindCache, &os.PathError{Op: "write", Path: "/c/x", Err: syscall.ENOSPC}, "writing"), false},
		{core.Errorf(core.KindCache, "the credential cache /c belongs to uid 1000"), false},
		{errors.New("x"), false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := IsReadOnly(tt.err); got != tt.want {
			t.Errorf("IsReadOnly(%v) = %v", tt.err, got)
		}
	}
}

// ReadPrivate reads a plugin's cache file only when no one else can have
// planted it: the directory and file ours and writable by us alone, a
// regular file, within the limit; a FIFO is refused at once.
func TestReadPrivate(t *testing.T) {
	tests := []struct {
		name    string
		dirMode os.FileMode
		setup   func(p string) error
		ok      bool
	}{
		{"private", 0o700, func(p string) error { return os.WriteFile(p, []byte("{}"), 0o600) }, true},
		{"readable by others", 0o755, func(p string) error { return os.WriteFile(p, []byte("{}"), 0o644) }, true},
		{"directory writable by others", 0o777, func(p string) error { return os.WriteFile(p, []byte("{}"), 0o600) }, false},
		{"sticky shared directory", 0o777 | os.ModeSticky, func(p string) error { return os.WriteFile(p, []byte("{}"), 0o600) }, false},
		{"file writable by others", 0o700, func(p string) error {
			if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
				return err
			}
			return os.Chmod(p, 0o666)
		}, false},
		{"a FIFO", 0o700, func(p string) error { return syscall.Mkfifo(p, 0o600) }, false},
		{"too large", 0o700, func(p string) error { return os.WriteFile(p, make([]byte, 2048), 0o600) }, false},
	}
	for _, tt := range tests {
		dir := filepath.Join(t.TempDir(), "oidc")
		os.Mkdir(dir, 0o700)
		p := filepath.Join(dir, "doc.json")
		if err := tt.setup(p); err != nil {
			t.Fatal(err)
		}
		os.Chmod(dir, tt.dirMode)
		withTimeout(t, 3*time.Second, func() {
			_, err := ReadPrivate(p, 1024)
			if (err == nil) != tt.ok {
				t.Errorf("%s: %v, want ok %v", tt.name, err, tt.ok)
			}
		})
		os.Chmod(dir, 0o700)
	}
}
