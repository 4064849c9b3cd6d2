package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/config"
	"github.com/authx/authx/core/config/snapshot"
)

// saveSnapshot loads the config at path and saves its snapshot, as
// authx-cli does, taken as if a moment after the file's last change
// (snapshot.Racy).
func saveSnapshot(t *testing.T, path string, getenv func(string) string) {
	t.Helper()
	taking := snapshot.Begin(path, time.Now().Add(2*snapshot.Racy))
	f, err := config.Load(config.LoadOptions{Path: path, Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	if err := taking.Save(f, getenv); err != nil {
		t.Fatal(err)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		args []string
		ok   bool
		want request
	}{
		{[]string{"token", "work"}, true, request{command: "token", profile: "work", format: "header"}},
		{[]string{"-q", "--config=/c.yaml", "header", "--url", "https://x/", "-f", "json"}, true, request{command: "header", url: "https://x/", format: "json", configPath: "/c.yaml"}},
		{[]string{"header", "work", "--format=env", "--no-input"}, true, request{command: "header", profile: "work", format: "env"}},
		{[]string{"token", "--format", "json"}, false, request{}},     // not token's flag
		{[]string{"token", "-f", "header", "work"}, false, request{}}, // not even with header's default
		{[]string{"token", "--quiet=nope", "work"}, false, request{}}, // a bool flag's value: the full CLI checks it
		{[]string{"header", "--no-input=true", "work"}, false, request{}},
		{[]string{"token", "--log-level", "debug"}, false, request{}}, // logging: the full CLI
		{[]string{"header", "--scheme", "basic"}, false, request{}},   // ad hoc: the full CLI
		{[]string{"token", "a", "b"}, false, request{}},               // a usage error to report
		{[]string{"token", "--url"}, false, request{}},                // a flag without its value
		{[]string{"token", "work", "--renew"}, false, request{}},      // a refused credential: the full CLI renews
		{[]string{"header", "--renew", "-f", "curl"}, false, request{}},
		{[]string{"token", "work", "--id-token"}, true, request{command: "token", profile: "work", format: "header", idToken: true}},
		{[]string{"token", "--id-token"}, true, request{command: "token", format: "header", idToken: true}},
		{[]string{"--id-token", "token"}, false, request{}},               // a command's flag before the command
		{[]string{"header", "work", "--id-token"}, false, request{}},      // token's flag only
		{[]string{"token", "--id-token=false", "work"}, false, request{}}, // a bool flag's value: the full CLI checks it
		{[]string{"request", "work", "GET", "/x"}, false, request{}},      // any other command
		{[]string{"--help"}, false, request{}},
		{[]string{}, false, request{}},
	}
	for _, tt := range tests {
		got, ok := parse(tt.args)
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("parse(%q) = %+v, %v; want %+v, %v", tt.args, got, ok, tt.want, tt.ok)
		}
	}
}

// serve prints a fresh cached credential and declines everything it should
// leave to the full CLI.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfgPath, []byte("cache_dir: "+filepath.Join(dir, "cache")+"\nprofiles:\n  work:\n    scheme: jwt\n    match: https://api.example.com/\n    config: {mode: static, token: env:T}\n"), 0o600)
	env := map[string]string{"AUTHX_CACHE_DIR": filepath.Join(dir, "cache")}
	getenv := func(k string) string { return env[k] }
	cfg, err := config.Load(config.LoadOptions{Path: cfgPath, Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := cfg.Profile("work")
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	store := cache.New(cfg.Settings.CacheDir)
	put := func(c core.Credential) {
		if err := store.Put(cache.KeyFor(p.Name, p.Identity()), &cache.Entry{Scheme: "jwt", Created: now.Add(-time.Hour), Credential: c}); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) (string, bool) {
		saveSnapshot(t, cfgPath, getenv) // as authx-cli does after loading the config
		var out bytes.Buffer
		ok := serve(append([]string{"--config", cfgPath}, args...), &out, getenv, now)
		return out.String(), ok
	}
	bearer := core.Credential{Token: "t0k", Headers: []core.Header{{Name: "Authorization", Value: "Bearer t0k"}}, ExpiresAt: now.Add(time.Hour)}

	if _, ok := run("token", "work"); ok {
		t.Error("served without a cache entry")
	}
	put(bearer)
	if out, ok := run("token", "work"); !ok || out != "t0k\n" {
		t.Errorf("token: %q %v", out, ok)
	}
	if out, ok := run("header", "--url", "https://api.example.com/v1"); !ok || out != "Authorization: Bearer t0k\n" {
		t.Errorf("header by URL: %q %v", out, ok)
	}
	env["AUTHX_PROFILE"] = "work"
	if out, ok := run("header", "-f", "wget"); !ok || out != "header = Authorization: Bearer t0k\n" {
		t.Errorf("header by AUTHX_PROFILE: %q %v", out, ok)
	}
	env["AUTHX_LOG"] = "debug"
	if _, ok := run("token"); ok {
		t.Error("served with logging asked for: the full CLI logs")
	}
	delete(env, "AUTHX_LOG")
	if _, ok := run("token", "nope"); ok {
		t.Error("served an unknown profile: the full CLI explains")
	}
	stale := bearer
	stale.ExpiresAt = now.Add(30 * time.Second) // inside the 60s skew
	put(stale)
	if _, ok := run("token", "work"); ok {
		t.Error("served a credential about to expire")
	}
	scoped := bearer
	scoped.Scope = []string{"https://api.example.com/v1/"}
	put(scoped)
	if out, ok := run("header", "work", "--url", "https://api.example.com/v1/items"); !ok || out != "Authorization: Bearer t0k\n" {
		t.Errorf("header --url within the credential's scope: %q %v", out, ok)
	}
	for _, u := range []string{"https://api.example.com/v2/items", "https://api.example.com/?rest_route=/v1/x"} {
		if _, ok := run("header", "work", "--url", u); ok {
			t.Errorf("served header --url %s, outside the credential's scope: the full CLI refuses", u)
		}
		if _, ok := run("token", "--url", u); ok {
			t.Errorf("served token --url %s, outside the credential's scope", u)
		}
	}
	if _, ok := run("token", "work", "--id-token"); ok {
		t.Error("served --id-token from a credential without one: the full CLI explains")
	}
	oidc := bearer
	oidc.IDToken = "eyJh.eyJz.c2ln"
	put(oidc)
	if out, ok := run("token", "work", "--id-token"); !ok || out != "eyJh.eyJz.c2ln\n" {
		t.Errorf("token --id-token: %q %v", out, ok)
	}
	if out, ok := run("token", "work"); !ok || out != "t0k\n" {
		t.Errorf("token beside an id token: %q %v", out, ok)
	}
	signing := bearer
	signing.PerRequest = true
	put(signing)
	if _, ok := run("header", "work"); ok {
		t.Error("served a per-request credential: it needs signing")
	}
}

// A snapshot that no longer describes the config (edited, its
// environment changed) never makes the front print a credential: it
// hands the command to the full CLI, which loads the config anew.
func TestServeStaleSnapshot(t *testing.T) {
	const yaml = "profiles:\n  work:\n    scheme: jwt\n    match: https://api.example.com/\n    config: {mode: static, token: env:T}\n"
	tests := []struct {
		name   string
		change func(cfgPath string, env map[string]string)
	}{
		{"config edited", func(p string, _ map[string]string) {
			os.WriteFile(p, []byte(strings.Replace(yaml, "api.", "www.", 1)), 0o600)
		}},
		{"profile removed", func(p string, _ map[string]string) { os.WriteFile(p, []byte("profiles: {}\n"), 0o600) }},
		{"store changed to memory", func(p string, _ map[string]string) { os.WriteFile(p, []byte(yaml+"    store: memory\n"), 0o600) }},
		{"cache_dir set in the config", func(p string, env map[string]string) {
			os.WriteFile(p, []byte("cache_dir: "+env["AUTHX_CACHE_DIR"]+"\n"+yaml), 0o600) // the same directory, even
		}},
		{"AUTHX_CACHE_DIR changed", func(_ string, env map[string]string) { env["AUTHX_CACHE_DIR"] += "2" }},
		{"AUTHX_REFRESH_SKEW makes it stale", func(_ string, env map[string]string) { env["AUTHX_REFRESH_SKEW"] = "2h" }},
		{"AUTHX_LOCK_TIMEOUT invalid", func(_ string, env map[string]string) { env["AUTHX_LOCK_TIMEOUT"] = "soon" }},
		{"HOME changed", func(_ string, env map[string]string) { env["HOME"] = "/elsewhere" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfgPath := filepath.Join(dir, "config.yaml")
			os.WriteFile(cfgPath, []byte(yaml), 0o600)
			env := map[string]string{"AUTHX_CACHE_DIR": filepath.Join(dir, "cache"), "HOME": dir}
			getenv := func(k string) string { return env[k] }
			cfg, err := config.Load(config.LoadOptions{Path: cfgPath, Getenv: getenv})
			if err != nil {
				t.Fatal(err)
			}
			p := cfg.Profiles["work"]
			now := time.Now()
			c := core.Credential{Token: "t0k", Headers: []core.Header{{Name: "Authorization", Value: "Bearer t0k"}}, ExpiresAt: now.Add(time.Hour)}
			if err := cache.New(cfg.Settings.CacheDir).Put(cache.KeyFor(p.Name, p.Identity()), &cache.Entry{Scheme: "jwt", Created: now, Credential: c}); err != nil {
				t.Fatal(err)
			}
			saveSnapshot(t, cfgPath, getenv)
			run := func() (string, bool) {
				var out bytes.Buffer
				ok := serve([]string{"--config", cfgPath, "token", "--url", "https://api.example.com/x"}, &out, getenv, now)
				return out.String(), ok
			}
			if out, ok := run(); !ok || out != "t0k\n" {
				t.Fatalf("before the change: %q %v", out, ok)
			}
			time.Sleep(2 * snapshot.Racy) // a change in a later tick of the file system's clock
			tt.change(cfgPath, env)
			if out, ok := run(); ok || out != "" {
				t.Errorf("served %q from a stale snapshot", out)
			}
		})
	}
}

// A profile of a shared store is served from its local copy, the file
// entry a store: file profile of the same identity has, while it is fresh;
// a due copy, or a shared store of a type the front does not know to keep
// a local copy, is the full CLI's.
func TestServeSharedStore(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfgPath, []byte(`stores:
  fleet: {type: redis, url: "redis://127.0.0.1:1", key: env:K}
profiles:
  ci:
    scheme: jwt
    store: fleet
    config: {mode: static, token: env:T}
`), 0o600)
	env := map[string]string{"AUTHX_CACHE_DIR": filepath.Join(dir, "cache")}
	getenv := func(k string) string { return env[k] }
	cfg, err := config.Load(config.LoadOptions{Path: cfgPath, Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := cfg.Profile("ci")
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	put := func(expires time.Time) {
		c := core.Credential{Token: "t0k", Headers: []core.Header{{Name: "Authorization", Value: "Bearer t0k"}}, ExpiresAt: expires}
		if err := cache.New(cfg.Settings.CacheDir).Put(cache.KeyFor(p.Name, p.Identity()), &cache.Entry{Scheme: "jwt", Created: now.Add(-time.Hour), Credential: c}); err != nil {
			t.Fatal(err)
		}
	}
	serveToken := func() (string, bool) {
		var out bytes.Buffer
		ok := serve([]string{"--config", cfgPath, "token", "ci"}, &out, getenv, now)
		return out.String(), ok
	}
	put(now.Add(time.Hour))
	saveSnapshot(t, cfgPath, getenv)
	if out, ok := serveToken(); !ok || out != "t0k\n" {
		t.Errorf("token of a store: fleet profile, fresh local copy: %q %v", out, ok)
	}
	put(now.Add(30 * time.Second)) // inside the 60 s skew: due
	if _, ok := serveToken(); ok {
		t.Error("served a due local copy: the full CLI consults the shared store")
	}
	put(now.Add(time.Hour))
	snapPath := snapshot.Path(env["AUTHX_CACHE_DIR"], cfgPath)
	data, _ := os.ReadFile(snapPath)
	other := strings.Replace(string(data), `shared-store "fleet" "redis"`, `shared-store "fleet" "etcd"`, 1)
	if other == string(data) {
		t.Fatalf("no shared-store line in:\n%s", data)
	}
	os.WriteFile(snapPath, []byte(other), 0o600)
	if _, ok := serveToken(); ok {
		t.Error("served a profile of a shared store of an unknown type from a file")
	}
}
