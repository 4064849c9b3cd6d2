package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestStoreDefaultsAndReencodedSecrets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(path, []byte(`store: keyring
cache_ttl: 1h
profiles:
  kr: {scheme: jwt}
  file: {scheme: jwt, store: file, store_fallback: fail, cache_ttl: 5m}
  pass: {scheme: basic, store: file, config: {username: u, password: "cmd:pass show api"}}
  passcached: {scheme: basic, store: file, cache: true, config: {username: u, password: "cmd:pass show api"}}
  passkeyring: {scheme: basic, config: {username: u, password: "prompt:"}}
  passenv: {scheme: basic, store: file, config: {username: u, password: "env:P"}}
  jenkins: {scheme: jenkins, store: file, config: {user: u, api_token: "keyring:jenkins/u"}}
  nocache: {scheme: jwt, cache: false}
`), 0o600)
	f, err := Load(LoadOptions{Path: path, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]struct {
		store, fallback string
		ttl             time.Duration
		reencodes       string
	}{
		"kr":          {StoreKeyring, FallbackFile, time.Hour, ""},
		"file":        {StoreFile, FallbackFail, 5 * time.Minute, ""},
		"pass":        {StoreMemory, FallbackFile, time.Hour, "config.password is a cmd: reference"},
		"passcached":  {StoreFile, FallbackFile, time.Hour, ""},
		"passkeyring": {StoreMemory, FallbackFile, time.Hour, "config.password is a prompt: reference"}, // a keyring store falls back to files
		"passenv":     {StoreFile, FallbackFile, time.Hour, ""},
		"jenkins":     {StoreMemory, FallbackFile, time.Hour, "config.api_token is a keyring: reference"},
		"nocache":     {StoreMemory, FallbackFile, time.Hour, ""},
	} {
		p := f.Profiles[name]
		if p.Store != want.store || p.StoreFallback != want.fallback || p.CacheTTL != want.ttl || p.Reencodes != want.reencodes {
			t.Errorf("%s: store %q fallback %q ttl %v reencodes %q; want %+v", name, p.Store, p.StoreFallback, p.CacheTTL, p.Reencodes, want)
		}
	}
}

func TestNamedRedisStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(path, []byte(`stores:
  fleet:
    type: redis
    url: "rediss://ci:env-not-here@redis.internal:6380/2"
    key: env:AUTHX_STORE_KEY
    keys_old: ["file:/run/secrets/authx-store-key.old"]
store: fleet
profiles:
  ci: {scheme: jwt}
  local: {scheme: jwt, store: file}
`), 0o600)
	f, err := Load(LoadOptions{Path: path, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	want := SharedStore{Type: "redis", URL: "rediss://ci:env-not-here@redis.internal:6380/2", Key: "env:AUTHX_STORE_KEY", KeysOld: []string{"file:/run/secrets/authx-store-key.old"}}
	if got := f.Stores["fleet"]; !reflect.DeepEqual(got, want) {
		t.Errorf("stores.fleet = %+v, want %+v", got, want)
	}
	if p := f.Profiles["ci"]; p.Store != "fleet" {
		t.Errorf("ci: store %q, want fleet (the default)", p.Store)
	}
	if p := f.Profiles["local"]; p.Store != StoreFile {
		t.Errorf("local: store %q, want file", p.Store)
	}
}

func TestNamedStoreErrors(t *testing.T) {
	const ok = `{type: redis, url: "redis://127.0.0.1:6379", key: "env:K"}`
	for _, c := range []struct{ config, want string }{
		{`stores: {fleet: {type: memcached, url: "redis://h", key: "env:K"}}`, `stores.fleet.type: "memcached": expected redis`},
		{`stores: {fleet: {type: redis, key: "env:K"}}`, `stores.fleet.url: required`},
		{`stores: {fleet: {type: redis, url: "http://h:6379", key: "env:K"}}`, `stores.fleet.url: scheme "http": expected redis:// or rediss://`},
		{`stores: {fleet: {type: redis, url: "redis://u:hunter2@h:port", key: "env:K"}}`, `stores.fleet.url: not a URL`},
		{`stores: {fleet: {type: redis, url: "redis://u:hunter2@h:6379/x", key: "env:K"}}`, `stores.fleet.url: database "x"`},
		{`stores: {fleet: {type: redis, url: "redis:///x"}}`, `stores.fleet.url: no host`},
		{`stores: {fleet: {type: redis, url: "redis://h"}}`, `stores.fleet.key: required`},
		{`stores: {fleet: {type: redis, url: "redis://h", key: "c2VjcmV0LWtleS1pbi10aGUtY29uZmln"}}`, `stores.fleet.key: a secret reference`},
		{`stores: {fleet: {type: redis, url: "redis://h", key: "env:K", keys_old: ["literal"]}}`, `stores.fleet.keys_old[0]: a secret reference`},
		{`stores: {fleet: {type: redis, url: "redis://h", key: "env:K", ttl: 5}}`, `stores.fleet.ttl: unknown key`},
		{`stores: {keyring: ` + ok + `}`, `stores.keyring: the name of a built-in store`},
		{`stores: {"a b": ` + ok + `}`, `stores.a b: a store name is letters`},
		{`stores: {fleet: ` + ok + "}\nprofiles: {ci: {scheme: jwt, store: flet}}", `profiles.ci.store: "flet": expected file`},
		{`stores: {fleet: ` + ok + "}\nprofiles: {ci: {scheme: jwt, store: flet}}", `or fleet (stores:)`},
	} {
		path := filepath.Join(t.TempDir(), "config.yaml")
		os.WriteFile(path, []byte(c.config+"\n"), 0o600)
		_, err := Load(LoadOptions{Path: path, Getenv: func(string) string { return "" }})
		if err == nil {
			t.Errorf("%s: accepted", c.config)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) {
			t.Errorf("%s:\n got %s\nwant %s", c.config, msg, c.want)
		}
		if strings.Contains(msg, "hunter2") || strings.Contains(msg, "c2VjcmV0") || strings.Contains(msg, "\n") {
			t.Errorf("%s: error %q holds a secret or is not one line", c.config, msg)
		}
	}
}
