package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The front links none of the plugin machinery, and no HTTP or TLS code: every
// `authx token` would pay for initialising it (docs/benchmarks.md). A
// package that the front links and that imports core (whose scheme
// contract holds net/http types) instead of core/base brings net/http back.
func TestFrontLinksNoNetworkCode(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	banned := []string{"net/http", "crypto/tls", "crypto/x509", "github.com/authx/authx/core",
		"google.golang.org/grpc", "google.golang.org/protobuf", "github.com/hashicorp/go-plugin"}
	// Nor any config parser: it reads authx-cli's snapshot of the config
	// (core/config/snapshot), and its packages (core/config/profiles)
	// compile no regular expression. Package net came with koanf.
	only := []string{"github.com/authx/authx/core/config", "net", "regexp"}
	banned = append(banned, "github.com/knadh/koanf", "go.yaml.in/yaml", "gopkg.in/yaml.v3", "github.com/pelletier/go-toml",
		"github.com/go-viper/mapstructure")
	// Nor a shared store's client: it serves a shared store's profile from
	// its local copy and leaves the store to authx-cli.
	banned = append(banned, "github.com/redis/go-redis", "github.com/authx/authx/core/cache/redisvault", "github.com/authx/authx/core/sealed")
	for _, dep := range strings.Fields(string(out)) {
		for _, b := range banned {
			if dep == b || strings.HasPrefix(dep, b+"/") && b != "github.com/authx/authx/core" {
				t.Errorf("the front links %s", dep)
			}
		}
		if slices.Contains(only, dep) {
			t.Errorf("the front links %s", dep)
		}
	}
}
