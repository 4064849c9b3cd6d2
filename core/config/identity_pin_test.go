package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIdentityHoldsTheSharedPin: the top-level plugins: entry that runs a
// profile's plugin is part of its identity; a profile's own entry wins.
func TestIdentityHoldsTheSharedPin(t *testing.T) {
	dir := t.TempDir()
	pin := func(c byte) string { return strings.Repeat(string(c), 64) }
	load := func(yaml string) *File {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := Load(LoadOptions{Path: p, Getenv: noEnv})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	const profiles = "profiles:\n  p: {scheme: basic}\n  own: {scheme: basic, plugin: {sha256: %s}}\n"
	none := load(fmt.Sprintf(profiles, pin('c')))
	a := load("plugins:\n  basic: {sha256: " + pin('a') + "}\n" + fmt.Sprintf(profiles, pin('c')))
	b := load("plugins:\n  basic: {sha256: " + pin('b') + "}\n" + fmt.Sprintf(profiles, pin('c')))
	id := func(f *File, name string) string { return string(f.Profiles[name].Identity()) }
	if id(a, "p") == id(b, "p") || id(a, "p") == id(none, "p") {
		t.Error("changing the top-level pin kept the identity")
	}
	if id(a, "own") != id(b, "own") || id(a, "own") != id(none, "own") {
		t.Error("the top-level pin changed the identity of a profile that pins its own plugin")
	}
}
