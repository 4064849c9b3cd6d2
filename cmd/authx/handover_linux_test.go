package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/config"
)

// On a miss the front starts the plugin while authx-cli starts (here it
// is seen running while authx-cli waits for the entry's lock), and a run
// that turns out to need no plugin kills and reaps it before exiting:
// when the credential became fresh under the lock, and when the lock is
// never had.
func TestHandedOverPluginNotNeeded(t *testing.T) {
	for _, tt := range []struct {
		name   string
		fresh  bool // another process stores a fresh credential while holding the lock
		code   int
		stdout string
	}{
		{name: "the credential became fresh under the lock", fresh: true, stdout: "YWxpY2U6cHc=\n"},
		{name: "the lock is never had", code: 15},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t).set("PW=pw")
			cacheDir := filepath.Join(e.home, "authx-cache")
			cfgPath := e.config("lock_timeout: 1500ms\ncache_dir: " + cacheDir + "\nprofiles:\n  work: {scheme: basic, config: {username: alice, password: env:PW}}\n")
			if r := e.run("token", "work"); r.code != 0 {
				t.Fatalf("first login: exit %d: %s", r.code, r.stderr)
			}
			cfg, err := config.Load(config.LoadOptions{Path: cfgPath})
			if err != nil {
				t.Fatal(err)
			}
			store, key := cache.New(cacheDir), cache.KeyFor("work", cfg.Profiles["work"].Identity())
			entry, err := store.Get(key)
			if err != nil {
				t.Fatal(err)
			}
			if r := e.run("logout", "work"); r.code != 0 {
				t.Fatalf("logout: exit %d: %s", r.code, r.stderr)
			}
			noOrphans(t)
			unlock, err := store.Lock(context.Background(), key)
			if err != nil {
				t.Fatal(err)
			}
			var out, errb strings.Builder
			c := e.cmd("token", "work")
			c.Stdout, c.Stderr = &out, &errb
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(5 * time.Second); len(pluginProcesses(t)) == 0; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					unlock()
					c.Wait()
					t.Fatal("no plugin ran while authx-cli waited for the lock: the front started none")
				}
			}
			if tt.fresh {
				if err := store.Put(key, entry); err != nil {
					t.Fatal(err)
				}
				unlock()
			}
			c.Wait()
			if !tt.fresh {
				unlock()
			}
			if got := c.ProcessState.ExitCode(); got != tt.code || out.String() != tt.stdout {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, %q", got, out.String(), errb.String(), tt.code, tt.stdout)
			}
			noOrphans(t)
		})
	}
}
