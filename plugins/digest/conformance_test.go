package digest_test

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/plugintest"
	"github.com/authx/authx/plugins/digest/digesttest"
)

// TestConformance runs authx's conformance kit on the built plugin, with
// a real Apache's first 401 as the login's challenge, and without one (the
// login must then fail as a plugin error, not guess).
func TestConformance(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "authx-plugin-digest")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/authx-plugin-digest").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	srv := digesttest.Apache(t, digesttest.Options{})
	url := srv.URL + "/private/"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("probe: HTTP %d", resp.StatusCode)
	}
	cfg := map[string]any{"username": srv.User, "password": srv.Password}
	t.Run("apache challenge", func(t *testing.T) {
		plugintest.Test(t, plugintest.Options{Path: bin, URL: url, Config: cfg, Timeout: 30 * time.Second,
			Challenge: http.Header{"Www-Authenticate": resp.Header.Values("WWW-Authenticate")}})
	})
	t.Run("no challenge", func(t *testing.T) {
		plugintest.Test(t, plugintest.Options{Path: bin, URL: url, Config: cfg, Timeout: 30 * time.Second, LoginError: core.KindPlugin})
	})
}
