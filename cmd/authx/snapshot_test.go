package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core/config/snapshot"
)

// authx-cli leaves the front a snapshot of the config it loaded (0600, no
// secret in it), from which the front alone serves the cached credential;
// once the config changes, the front serves nothing until authx-cli has
// loaded it again.
func TestCLILeavesSnapshotForFront(t *testing.T) {
	pluginDir := t.TempDir()
	copyFile(t, filepath.Join(binDir, "authx-plugin-basic"), filepath.Join(pluginDir, "authx-plugin-basic"))
	authxDir := t.TempDir()
	authx, cli := filepath.Join(authxDir, "authx"), filepath.Join(authxDir, "authx-cli")
	copyFile(t, filepath.Join(binDir, "authx"), authx)
	copyFile(t, filepath.Join(binDir, "authx-cli"), cli)
	e := newEnv(t).set("PW=Pw-Secret-1", "AUTHX_PLUGIN_PATH="+pluginDir)
	const yaml = `
profiles:
  work:
    scheme: basic
    match: https://api.example.com/
    config: {username: alice, password: env:PW}
  lit:
    scheme: basic
    config: {username: bob, password: Lit-Secret-2}
`
	cfg := e.config(yaml)
	time.Sleep(2 * snapshot.Racy) // a snapshot is taken of a file that changed at least Racy ago
	first := e.runBin(cli, "token", "work")
	if first.code != 0 {
		t.Fatalf("authx-cli token: %+v", first)
	}
	snaps, _ := filepath.Glob(filepath.Join(e.home, "cache", "authx", "front-*.snapshot"))
	if len(snaps) != 1 {
		t.Fatalf("snapshots in the cache directory: %q", snaps)
	}
	fi, err := os.Stat(snaps[0])
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("snapshot %v %v; want 0600", fi, err)
	}
	data, _ := os.ReadFile(snaps[0])
	for _, s := range []string{"Pw-Secret-1", "Lit-Secret-2", "env:PW"} {
		if strings.Contains(string(data), s) {
			t.Errorf("the snapshot holds %q", s)
		}
	}
	os.Rename(cli, cli+".away") // what the front serves now, it serves alone
	if r := e.runBin(authx, "token", "work"); r != first {
		t.Errorf("front alone: %+v, want %+v", r, first)
	}
	if r := e.runBin(authx, "header", "--url", "https://api.example.com/v1"); r.code != 0 || r.stdout != "Authorization: Basic "+strings.TrimSpace(first.stdout)+"\n" {
		t.Errorf("front alone, header --url: %+v", r)
	}
	os.WriteFile(cfg, []byte(strings.Replace(yaml, "api.example.com", "www.example.com", 1)), 0o600)
	if r := e.runBin(authx, "token", "work"); r.code != 8 || r.stdout != "" {
		t.Errorf("front alone after the config changed: %+v; want no credential and exit 8 (authx-cli missing)", r)
	}
	os.Rename(cli+".away", cli)
	time.Sleep(2 * snapshot.Racy)
	if r := e.runBin(authx, "token", "work"); r != first {
		t.Errorf("after the change, through authx-cli: %+v", r)
	}
	os.Rename(cli, cli+".away") // authx-cli has taken a new snapshot
	if r := e.runBin(authx, "token", "work"); r != first {
		t.Errorf("front alone with the new snapshot: %+v, want %+v", r, first)
	}
}
