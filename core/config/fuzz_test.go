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
// cache_ttl; a loaded shared store has a usable url or one of sentinel: and
// cluster: (with addresses), secret references for its key and passwords,
// a timeout within bounds, and tls: only with TLS.
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
	f.Add([]byte("stores:\n  s: {type: redis, key: env:K, password: env:P, timeout: 1s, tls: {ca_file: /ca}, sentinel: {master: m, addrs: [\"h:26379\"], password: \"file:/p\"}}\n  c: {type: redis, key: env:K, cluster: {addrs: [\"[::1]:7000\", \"h:7001\"]}}\n  u: {type: redis, url: \"rediss://u@h:6380\", key: env:K, password: hunter2, tls: {cert_file: /c}}\n"), false)
	f.Add([]byte("[stores.x]\ntype = \"redis\"\nkey = \"env:K\"\nurl = \"redis://h\"\ntimeout = \"31s\"\n[stores.x.cluster]\naddrs = [\"h\"]\n[stores.x.tls]\n"), true)
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
			addressed := st.Sentinel == nil && st.Cluster == nil && redisURLProblem(st.URL) == "" ||
				(st.Sentinel == nil) != (st.Cluster == nil) && st.URL == ""
			if !validProfileName(n) || n == StoreFile || n == StoreKeyring || n == StoreMemory || st.Type != StoreTypeRedis || !addressed ||
				!isSecretRef(st.Key) || st.Password != "" && !isSecretRef(st.Password) || st.Sentinel != nil && (st.Sentinel.Master == "" || len(st.Sentinel.Addrs) == 0 || st.Sentinel.Password != "" && !isSecretRef(st.Sentinel.Password)) ||
				st.Cluster != nil && len(st.Cluster.Addrs) == 0 || st.Timeout != 0 && (st.Timeout < MinStoreTimeout || st.Timeout > MaxStoreTimeout) ||
				st.TLS != nil && st.URL != "" && !strings.HasPrefix(st.URL, "rediss:") {
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
