package config_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/authx/authx/core/config"
	"github.com/authx/authx/core/config/snapshot"
)

// The front trusts a snapshot of the config for the values of
// snapshot.EnvInputs: every variable Load reads but those that pick the
// file (whose path the snapshot's key holds) must be among them.
func TestLoadReadsOnlySnapshotInputs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "authx", "config.yaml")
	os.MkdirAll(filepath.Dir(path), 0o700)
	os.WriteFile(path, []byte("profiles:\n  a:\n    scheme: basic\n    plugin: {path: ~/p}\n"), 0o600)
	read := map[string]bool{}
	getenv := func(k string) string {
		read[k] = true
		if k == "XDG_CONFIG_HOME" {
			return dir
		}
		return ""
	}
	if _, err := config.Load(config.LoadOptions{Getenv: getenv}); err != nil {
		t.Fatal(err)
	}
	for k := range read {
		if k != "AUTHX_CONFIG" && k != "XDG_CONFIG_HOME" && !slices.Contains(snapshot.EnvInputs, k) {
			t.Errorf("Load reads $%s, which snapshot.EnvInputs lacks: a snapshot would outlive a change of it", k)
		}
	}
}
