package config

import (
	"fmt"
	"slices"
	"strings"
)

// storeDefaults reads the top-level store:, store_fallback: and cache_ttl:.
func (d *decoder) storeDefaults(s *Settings, raw map[string]any) {
	s.Store = d.storeName("store", raw["store"], StoreFile)
	s.StoreFallback = d.fallback("store_fallback", raw["store_fallback"], FallbackFile)
	s.CacheTTL = d.duration("cache_ttl", raw["cache_ttl"])
}

// profileStore reads a profile's store:, store_fallback:, cache: and
// cache_ttl:, the top-level ones as defaults, and keeps a credential that
// only re-encodes a secret kept elsewhere out of the file store unless the
// profile says cache: true.
func (d *decoder) profileStore(key string, m map[string]any, p *Profile, def *Settings) {
	p.Store = d.storeName(key+".store", m["store"], def.Store)
	p.StoreFallback = d.fallback(key+".store_fallback", m["store_fallback"], def.StoreFallback)
	p.CacheTTL = def.CacheTTL
	if _, ok := m["cache_ttl"]; ok {
		p.CacheTTL = d.duration(key+".cache_ttl", m["cache_ttl"])
	}
	cache, set := true, false
	if v, ok := m["cache"]; ok && v != nil {
		b, ok := v.(bool)
		if !ok {
			d.fail(key+".cache", "expected true or false")
		}
		cache, set = b, true
	}
	switch {
	case !cache:
		p.Store = StoreMemory
	case !set && p.Store != StoreMemory: // a keyring store falls back to files
		if why := reencodes(p); why != "" {
			p.Store, p.Reencodes = StoreMemory, why
		}
	}
}

func (d *decoder) storeName(key string, v any, def string) string {
	switch s := d.str(key, v); s {
	case "":
		return def
	case StoreFile, StoreMemory, StoreKeyring:
		return s
	default:
		d.fail(key, "%q: expected file (the credential cache, the default), keyring (the OS keyring) or memory (held by the agent, never written to disk)", s)
		return StoreFile
	}
}

func (d *decoder) fallback(key string, v any, def string) string {
	switch s := d.str(key, v); s {
	case "":
		return def
	case FallbackFile, FallbackFail:
		return s
	default:
		d.fail(key, "%q: expected file (use the file store when the keyring cannot be used, the default) or fail (exit 17)", s)
		return FallbackFile
	}
}

// reencoding lists, per scheme, the config fields whose secret the
// credential merely re-encodes (Basic's base64 of user:password): caching
// the credential would write that secret to a file.
var reencoding = map[string][]string{
	"basic":   {"password"},
	"jenkins": {"api_token", "password"},
}

// keptElsewhere are the references to a secret the user keeps outside
// authx: a password manager's command, their memory, the OS keyring.
var keptElsewhere = []string{"cmd:", "prompt:", "keyring:"}

// reencodes says which secret field of p holds a reference to a secret
// kept elsewhere that p's credential only re-encodes, or "".
func reencodes(p *Profile) string {
	for _, field := range reencoding[p.Scheme] {
		v, _ := p.Config[field].(string)
		if i := slices.IndexFunc(keptElsewhere, func(pre string) bool { return strings.HasPrefix(v, pre) }); i >= 0 {
			return fmt.Sprintf("config.%s is a %s reference", field, keptElsewhere[i])
		}
	}
	return ""
}
