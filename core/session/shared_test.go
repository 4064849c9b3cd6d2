package session

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/config"
)

// A profile of a shared store (stores: NAME) whose Redis cannot be
// reached is not served from the file store as if nothing were
// configured: the local cache alone with a warning, or exit 17 with
// store_fallback: fail.
func TestUnreachableSharedStoreIsNotSilentlyTheFileStore(t *testing.T) {
	t.Setenv("AUTHX_STORE_KEY", strings.Repeat("ab", 32))
	for _, fallback := range []string{"file", "fail"} {
		cacheDir := filepath.Join(t.TempDir(), "cache")
		yaml := "cache_dir: " + cacheDir + "\nstores:\n  fleet: {type: redis, url: \"redis://127.0.0.1:1\", key: env:AUTHX_STORE_KEY}\n" +
			"profiles:\n  ci:\n    scheme: testkit\n    store: fleet\n    store_fallback: " + fallback + "\n"
		cfgPath := filepath.Join(t.TempDir(), "config.yaml")
		os.WriteFile(cfgPath, []byte(yaml), 0o600)
		f, err := config.Load(config.LoadOptions{Path: cfgPath, Getenv: func(string) string { return "" }})
		if err != nil {
			t.Fatal(err)
		}
		p, _ := f.Profile("ci")
		s := New(f, p, nil)
		var warnings []string
		s.Warn = func(msg string) { warnings = append(warnings, msg) }
		defer s.Close()
		if s.Store == nil || s.Store.Shared == nil {
			t.Fatalf("%s: a store: fleet profile has a plain file store", fallback)
		}
		err = s.Store.Put(s.Key(), &cache.Entry{Scheme: "testkit", Credential: core.Credential{Token: "tok"}})
		switch fallback {
		case "file":
			if err != nil || len(warnings) != 1 {
				t.Errorf("fallback file: %v, warnings %q; want the file store and one warning", err, warnings)
			}
		case "fail":
			if err == nil || core.KindOf(err) != core.KindKeyring || !strings.Contains(err.Error(), "fleet") {
				t.Errorf("fallback fail: %v; want exit 17 naming the store", err)
			}
		}
	}
}
