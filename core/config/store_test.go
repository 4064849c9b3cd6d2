package config

import (
	"os"
	"path/filepath"
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
