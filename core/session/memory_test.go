package session

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core/config"
)

// TestMemoryStoreWritesNothing: a store: memory profile's credential is
// kept by the session (one login for its repeated use) and never written
// to the cache directory; a new session, like a new authx process without
// an agent, logs in again.
func TestMemoryStoreWritesNothing(t *testing.T) {
	dir := testkitDir(t)
	srv := newServer(t)
	cacheDir := filepath.Join(t.TempDir(), "cache")
	yaml := "cache_dir: " + cacheDir + "\nprofiles:\n  tk:\n    scheme: testkit\n    store: memory\n    config: {server: " + srv.URL + ", user: u, secret: env:TK}\n"
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(cfgPath, []byte(yaml), 0o600)
	f, err := config.Load(config.LoadOptions{Path: cfgPath, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i, want := range []int64{1, 2} {
		s := newSession(t, srv, dir, func() time.Time { return now })
		fresh := New(f, f.Profiles["tk"], s.Host)
		fresh.Secrets, fresh.Now = s.Secrets, s.Now
		for range 3 {
			res, err := fresh.Get(context.Background())
			if err != nil || res.Credential.Token != "login" {
				t.Fatalf("session %d: %v %+v", i, err, res)
			}
		}
		fresh.Close()
		if got := srv.logins.Load(); got != want {
			t.Errorf("after session %d: %d logins, want %d", i, got, want)
		}
	}
	filepath.WalkDir(filepath.Dir(cacheDir), func(path string, d os.DirEntry, err error) error {
		if b, _ := os.ReadFile(path); strings.Contains(string(b), "login") {
			t.Errorf("%s holds the credential", path)
		}
		return nil
	})
}
