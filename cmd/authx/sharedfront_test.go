package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core/config/snapshot"
)

// A profile of a shared store (stores: fleet, Redis) keeps a local copy of
// its credential, a plain file entry (issue #15, "local first"): the front
// serves it while it is fresh, with no authx-cli, no plugin and no Redis
// (the store's URL is unreachable on purpose), as it serves a store: file
// profile; and a profile that names a shared store no longer costs the
// other profiles of the config their fast path.
func TestFrontServesSharedStoreLocalCopy(t *testing.T) {
	pluginDir := t.TempDir()
	copyFile(t, filepath.Join(binDir, "authx-plugin-basic"), filepath.Join(pluginDir, "authx-plugin-basic"))
	authxDir := t.TempDir()
	authx, cli := filepath.Join(authxDir, "authx"), filepath.Join(authxDir, "authx-cli")
	copyFile(t, filepath.Join(binDir, "authx"), authx)
	copyFile(t, filepath.Join(binDir, "authx-cli"), cli)
	e := newEnv(t).set("PW=Pw-Secret-1", "AUTHX_PLUGIN_PATH="+pluginDir,
		"AUTHX_STORE_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	e.config(`
stores:
  fleet: {type: redis, url: "redis://127.0.0.1:1", key: env:AUTHX_STORE_KEY}
profiles:
  shared:
    scheme: basic
    store: fleet
    config: {username: carol, password: env:PW}
  local:
    scheme: basic
    config: {username: dave, password: env:PW}
`)
	time.Sleep(2 * snapshot.Racy) // a snapshot is taken of a file that changed at least Racy ago
	want := map[string]result{}
	for _, name := range []string{"shared", "local"} {
		// authx-cli logs in (Redis unreachable: locally) and leaves the
		// local entry and the snapshot.
		r := e.runBin(cli, "token", name)
		if r.code != 0 || r.stdout == "" {
			t.Fatalf("authx-cli token %s: %+v", name, r)
		}
		want[name] = result{stdout: r.stdout}
	}
	entries, _ := filepath.Glob(filepath.Join(e.home, "cache", "authx", "shared.*.json"))
	if len(entries) != 1 {
		t.Fatalf("local entries of the shared-store profile: %q", entries)
	}
	var rows []profileStatus
	if st := e.runBin(cli, "status", "--json"); st.code != 0 || json.Unmarshal([]byte(st.stdout), &rows) != nil || len(rows) != 2 {
		t.Fatalf("status: %+v", st)
	}
	for _, r := range rows {
		wantStore, wantPath := "file", "local."
		if r.Profile == "shared" {
			wantStore, wantPath = "fleet", "shared."
		}
		if r.Store != wantStore || !r.Fresh || filepath.Dir(r.CachePath) != filepath.Join(e.home, "cache", "authx") || !strings.HasPrefix(filepath.Base(r.CachePath), wantPath) {
			t.Errorf("status row %+v; want store %s, fresh, its local entry", r, wantStore)
		}
	}
	// What the front serves now, it serves alone: no authx-cli to exec, no
	// plugin to start.
	os.Rename(cli, cli+".away")
	os.Remove(filepath.Join(pluginDir, "authx-plugin-basic"))
	for _, name := range []string{"shared", "local"} {
		if r := e.runBin(authx, "token", name); r != want[name] {
			t.Errorf("front alone, token %s: %+v, want %+v", name, r, want[name])
		}
	}
	// A due local copy is authx-cli's (which consults the shared store).
	for _, p := range entries {
		os.Remove(p)
	}
	if r := e.runBin(authx, "token", "shared"); r.code != 8 || r.stdout != "" {
		t.Errorf("front alone without the local copy: %+v; want a hand-off (exit 8: authx-cli missing)", r)
	}
}
