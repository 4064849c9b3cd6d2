package main

import (
	"os/exec"
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
	// Package net itself is linked through koanf (mapstructure's decode
	// hooks), which costs the front about 0.05 ms: measured, accepted.
	banned := []string{"net/http", "crypto/tls", "crypto/x509", "github.com/authx/authx/core",
		"google.golang.org/grpc", "google.golang.org/protobuf", "github.com/hashicorp/go-plugin"}
	for _, dep := range strings.Fields(string(out)) {
		for _, b := range banned {
			if dep == b || strings.HasPrefix(dep, b+"/") && b != "github.com/authx/authx/core" {
				t.Errorf("the front links %s", dep)
			}
		}
	}
}
