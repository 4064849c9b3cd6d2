package session

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/authx/authx/core/host"
)

// A session takes the plugin's description from the host's description
// cache (keyed by the executable's path, size, mtime and inode) instead of
// a Describe call at every start: one round trip less on every cold run.
// A changed executable is described again.
func TestSessionUsesCachedDescription(t *testing.T) {
	dir := testkitDir(t)
	srv := newServer(t)
	cacheFile := filepath.Join(t.TempDir(), "plugins.json")
	newHosted := func() *Session {
		s := newSession(t, srv, dir, nil)
		s.Host = host.New(host.Options{SearchPath: []string{dir}, DescribeCache: cacheFile})
		t.Cleanup(s.Host.Close)
		t.Cleanup(s.Close)
		return s
	}
	ctx := context.Background()
	if _, d, err := newHosted().Plugin(ctx); err != nil || d.Name != "testkit" {
		t.Fatalf("Plugin = %+v, %v", d, err)
	}
	// Mark the cached description, to tell it from a Describe answer.
	var c map[string]any
	data, err := os.ReadFile(cacheFile)
	if err != nil {
		t.Fatalf("no description cached: %v", err)
	}
	json.Unmarshal(data, &c)
	for _, e := range c["entries"].(map[string]any) {
		e.(map[string]any)["description"].(map[string]any)["summary"] = "from the cache"
	}
	data, _ = json.Marshal(c)
	os.WriteFile(cacheFile, data, 0o600)

	s := newHosted()
	if _, d, err := s.Plugin(ctx); err != nil || d.Summary != "from the cache" {
		t.Errorf("second start: %q, %v; want the cached description", d.Summary, err)
	}
	if res, err := s.Get(ctx); err != nil || res.Source != LoggedIn {
		t.Errorf("Get with the cached description = %+v, %v", res, err)
	}
	// The executable changed: Describe again.
	exe := filepath.Join(dir, "authx-plugin-testkit")
	later := time.Now().Add(time.Minute)
	os.Chtimes(exe, later, later)
	if _, d, err := newHosted().Plugin(ctx); err != nil || d.Summary == "from the cache" {
		t.Errorf("changed executable: %q, %v; want a fresh description", d.Summary, err)
	}
}
