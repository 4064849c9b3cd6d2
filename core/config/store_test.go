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
		{`stores: {fleet: {type: redis, url: "redis://h"}}`, `stores.fleet.key: required: a secret reference to 32 random bytes in base64 or hex (env:NAME, file:PATH, keyring:SERVICE/ACCOUNT, cmd:COMMAND)`},
		{`stores: {fleet: {type: redis, url: "redis://h", key: "c2VjcmV0LWtleS1pbi10aGUtY29uZmln"}}`, `stores.fleet.key: a secret reference (env:NAME, file:PATH, keyring:SERVICE/ACCOUNT, cmd:COMMAND), never the key itself`},
		{`stores: {fleet: {type: redis, url: "redis://h", key: "env:K", keys_old: ["literal"]}}`, `stores.fleet.keys_old[0]: a secret reference`},
		{`stores: {fleet: {type: redis, url: "redis://h", key: "env:K", ttl: 5}}`, `stores.fleet.ttl: unknown key`},
		{`stores: {keyring: ` + ok + `}`, `stores.keyring: the name of a built-in store`},
		{`stores: {"a b": ` + ok + `}`, `stores.a b: a store name is letters`},
		{`stores: {fleet: ` + ok + "}\nprofiles: {ci: {scheme: jwt, store: flet}}", `profiles.ci.store: "flet": expected file`},
		{`stores: {fleet: ` + ok + "}\nprofiles: {ci: {scheme: jwt, store: flet}}", `or fleet (stores:)`},
		{"profiles: {ci: {scheme: jwt, store: fleet}}", `profiles.ci.store: "fleet": expected file (the credential cache, the default), keyring (the OS keyring) or memory (held by the agent, never written to disk), or the name of a store under stores: (there is none)`},
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

func TestRedisConnectionOptions(t *testing.T) {
	home, _ := os.UserHomeDir()
	path := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(path, []byte(`stores:
  tls:
    type: redis
    url: "rediss://redis.internal:6380/2"
    key: env:K
    username: authx
    password: "file:/run/secrets/redis-password"
    tls: {ca_file: "~/ca.pem", cert_file: /etc/authx/client.pem, key_file: /etc/authx/client.key, server_name: redis.example}
    timeout: 500ms
  sentinel:
    type: redis
    key: env:K
    password: env:REDIS_PASSWORD
    sentinel: {master: mymaster, addrs: ["10.0.0.1:26379", "[::1]:26380"], username: watcher, password: "keyring:redis/sentinel"}
  cluster:
    type: redis
    key: env:K
    cluster: {addrs: ["10.0.0.1:7000"]}
    tls: {}
    prefix: "ci-a:"
`), 0o600)
	f, err := Load(LoadOptions{Path: path, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]SharedStore{
		"tls": {Type: "redis", URL: "rediss://redis.internal:6380/2", Key: "env:K", Username: "authx", Password: "file:/run/secrets/redis-password",
			TLS:     &StoreTLS{CAFile: filepath.Join(home, "ca.pem"), CertFile: "/etc/authx/client.pem", KeyFile: "/etc/authx/client.key", ServerName: "redis.example"},
			Timeout: 500 * time.Millisecond},
		"sentinel": {Type: "redis", Key: "env:K", Password: "env:REDIS_PASSWORD",
			Sentinel: &StoreSentinel{Master: "mymaster", Addrs: []string{"10.0.0.1:26379", "[::1]:26380"}, Username: "watcher", Password: "keyring:redis/sentinel"}},
		"cluster": {Type: "redis", Key: "env:K", Cluster: &StoreCluster{Addrs: []string{"10.0.0.1:7000"}}, TLS: &StoreTLS{}, Prefix: "ci-a:"},
	} {
		if got := f.Stores[name]; !reflect.DeepEqual(got, want) {
			t.Errorf("stores.%s = %+v\nwant %+v", name, got, want)
		}
	}
}

func TestRedisConnectionErrors(t *testing.T) {
	const base = `stores: {fleet: {type: redis, key: "env:K", `
	for _, c := range []struct{ config, want string }{
		{`url: "redis://h", password: "hunter2"`, `stores.fleet.password: a secret reference`},
		{`url: "redis://u:hunter2@h", password: "env:P"`, `stores.fleet.password: the url holds a password too`},
		{`url: "redis://u@h", username: v`, `stores.fleet.username: the url names a user too`},
		{`url: "redis://h", username: [a]`, `stores.fleet.username: expected a string`},
		{`url: "redis://h", tls: {ca_file: /ca.pem}`, `stores.fleet.tls: needs a rediss:// url`},
		{`url: "rediss://h", tls: {cert_file: /c.pem}`, `stores.fleet.tls.key_file: cert_file and key_file go together`},
		{`url: "rediss://h", tls: {key_file: /c.key}`, `stores.fleet.tls.cert_file: cert_file and key_file go together`},
		{`url: "rediss://h", tls: {ca: /ca.pem}`, `stores.fleet.tls.ca: unknown key`},
		{`url: "rediss://h", tls: {server_name: "h:1"}`, `stores.fleet.tls.server_name: expected a host name`},
		{`url: "rediss://h", tls: "yes"`, `stores.fleet.tls: expected a map`},
		{`url: "redis://h", timeout: 1h`, `stores.fleet.timeout: expected a duration from 100ms to 30s`},
		{`url: "redis://h", timeout: 10ms`, `stores.fleet.timeout: expected a duration from 100ms to 30s`},
		{`url: "redis://h", timeout: 5`, `stores.fleet.timeout: expected a duration with its unit`},
		{`sentinel: {addrs: ["h:26379"]}`, `stores.fleet.sentinel.master: required`},
		{`sentinel: {master: m}`, `stores.fleet.sentinel.addrs: required: a list of HOST:PORT`},
		{`sentinel: {master: m, addrs: []}`, `stores.fleet.sentinel.addrs: required`},
		{`sentinel: {master: m, addrs: ["h"]}`, `stores.fleet.sentinel.addrs[0]: "h": expected HOST:PORT`},
		{`sentinel: {master: m, addrs: ["h:x"]}`, `stores.fleet.sentinel.addrs[0]: port "x"`},
		{`sentinel: {master: m, addrs: ["h:1"], password: hunter2}`, `stores.fleet.sentinel.password: a secret reference`},
		{`sentinel: {master: m, addrs: ["h:1"], url: "redis://h"}`, `stores.fleet.sentinel.url: unknown key`},
		{`url: "redis://h", sentinel: {master: m, addrs: ["h:1"]}`, `stores.fleet.url: not with sentinel:`},
		{`url: "redis://h", cluster: {addrs: ["h:1"]}`, `stores.fleet.url: not with cluster:`},
		{`cluster: {addrs: ["h:70000"]}`, `stores.fleet.cluster.addrs[0]: port "70000"`},
		{`cluster: {addrs: ["h:1"]}, sentinel: {master: m, addrs: ["h:1"]}`, `stores.fleet.cluster: with sentinel:`},
		{`username: u`, `stores.fleet.url: required`},
		{`url: "redis://h", prefix: "ci*"`, `stores.fleet.prefix: expected 1 to 64 letters`},
		{`url: "redis://h", prefix: "ci"`, `ending in ':'`},
		{`url: "redis://h", prefix: ""`, `stores.fleet.prefix: expected`},
	} {
		path := filepath.Join(t.TempDir(), "config.yaml")
		os.WriteFile(path, []byte(base+c.config+"}}\n"), 0o600)
		_, err := Load(LoadOptions{Path: path, Getenv: func(string) string { return "" }})
		if err == nil {
			t.Errorf("%s: accepted", c.config)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) {
			t.Errorf("%s:\n got %s\nwant %s", c.config, msg, c.want)
		}
		if strings.Contains(msg, "hunter2") || strings.Contains(msg, "\n") {
			t.Errorf("%s: error %q holds a secret or is not one line", c.config, msg)
		}
	}
}
