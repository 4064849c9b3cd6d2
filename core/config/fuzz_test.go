package config

import (
	"github.com/authx/authx/core/urlscope"
	"net/url"
	"strings"
	"testing"

	"github.com/authx/authx/core"
)

// FuzzLoadConfig parses YAML or TOML bytes into profiles as Load does.
// Properties: no panic; an error is one line of kind config naming the
// file; a loaded profile has a valid name, a scheme, match/url prefixes
// that normalize, a known store and store_fallback (memory whenever its
// credential only re-encodes a secret kept elsewhere) and no negative
// cache_ttl.
func FuzzLoadConfig(f *testing.F) {
	f.Add([]byte("profiles:\n  work:\n    scheme: basic\n    match: https://api.example.com/v1\n    config: {username: alice, password: env:PW}\n"), false)
	f.Add([]byte("profiles:\n  p:\n    scheme: basic\n    match: [\"http://h/api/\", \"http://h/api/..;/x\"]\n    config:\n      password: \"cmd:yes\"\n"), false)
	f.Add([]byte("profiles:\n  - a\n  - b\n"), false)
	f.Add([]byte("a: &a [*a, *a]\nb: *a\n"), false)
	f.Add([]byte("profiles: {p: {scheme: basic, env: {1X: token}, plugin: {sha256: zz}}}\n"), false)
	f.Add([]byte("[profiles.p]\nscheme = \"basic\"\nmatch = \"http://h/api/%2e%2e/echo\"\n[profiles.p.config]\npassword = \"file:/dev/zero\"\n"), true)
	f.Add([]byte("call_timeout = 12x3\n"), true)
	f.Add([]byte("log_level = [1, 2]\n[plugins.basic]\npath = 3\n"), true)
	f.Add([]byte("store: keyring\ncache_ttl: 1h\nprofiles:\n  b: {scheme: basic, store_fallback: fail, config: {password: \"keyring:s/a\"}}\n  j: {scheme: jenkins, cache: true, config: {api_token: \"prompt:\"}}\n  m: {scheme: basic, store: file, cache: false}\n"), false)
	f.Add([]byte("store = \"keychain\"\n[profiles.p]\nscheme = \"basic\"\ncache = \"yes\"\ncache_ttl = \"-1s\"\n"), true)
	f.Add([]byte("stores:\n  fleet: {type: redis, url: \"rediss://u:p@h:6380/1\", key: env:K, keys_old: [\"file:/k\"]}\nstore: fleet\nprofiles:\n  ci: {scheme: jwt}\n"), false)
	f.Add([]byte("[stores.fleet]\ntype = \"redis\"\nurl = \"redis://[::1]:0/x\"\nkey = \"bWFkZQ==\"\n[profiles.p]\nscheme = \"basic\"\nstore = \"fleet\"\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, isTOML bool) {
		name := "/fuzz/config.yaml"
		if isTOML {
			name = "/fuzz/config.toml"
		}
		file, err := parseFile(name, data)
		if err != nil {
			msg := err.Error()
			if core.KindOf(err) != core.KindConfig || strings.ContainsAny(msg, "\r\n") || !strings.HasPrefix(msg, "config "+name+": ") {
				t.Fatalf("error %q (kind %v): want one line of kind config naming the file", msg, core.KindOf(err))
			}
			return
		}
		for n, st := range file.Stores {
			if !validProfileName(n) || n == StoreFile || n == StoreKeyring || n == StoreMemory || st.Type != StoreTypeRedis || redisURLProblem(st.URL) != "" ||
				!strings.HasPrefix(st.Key, "env:") && !strings.HasPrefix(st.Key, "file:") && !strings.HasPrefix(st.Key, "cmd:") && !strings.HasPrefix(st.Key, "prompt:") && !strings.HasPrefix(st.Key, "profile:") && !strings.HasPrefix(st.Key, "keyring:") {
				t.Fatalf("stores.%s = %+v", n, st)
			}
		}
		for n, p := range file.Profiles {
			if !validProfileName(n) || p.Name != n || p.Scheme == "" || p.Config == nil {
				t.Fatalf("profile %q = %+v", n, p)
			}
			_, named := file.Stores[p.Store]
			if p.Store != StoreFile && p.Store != StoreKeyring && p.Store != StoreMemory && !named || p.StoreFallback != FallbackFile && p.StoreFallback != FallbackFail ||
				p.Reencodes != "" && p.Store != StoreMemory || p.CacheTTL < 0 {
				t.Fatalf("profile %q: store %q, store_fallback %q, reencodes %q, cache_ttl %v", n, p.Store, p.StoreFallback, p.Reencodes, p.CacheTTL)
			}
			for _, m := range append(p.Match, p.URL) {
				if m == "" {
					continue
				}
				u, err := url.Parse(m)
				if err != nil {
					t.Fatalf("profile %q: prefix %q does not parse: %v", n, m, err)
				}
				if _, err := urlscope.Normalize(u); err != nil {
					t.Fatalf("profile %q: prefix %q does not normalize: %v", n, m, err)
				}
			}
		}
	})
}
