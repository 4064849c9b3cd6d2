package config

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// storeDefaults reads the top-level store:, store_fallback: and
// cache_ttl:, after stores: (d.stores).
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
		if _, ok := d.stores[s]; ok {
			return s
		}
		named := ""
		if len(d.stores) > 0 {
			named = ", or " + strings.Join(sortedKeys(d.stores), ", ") + " (stores:)"
		}
		d.fail(key, "%q: expected file (the credential cache, the default), keyring (the OS keyring) or memory (held by the agent, never written to disk)%s", s, named)
		return StoreFile
	}
}

var sharedStoreKeys = []string{"type", "url", "key", "keys_old"}

// sharedStores reads the top-level stores: (name → SharedStore).
func (d *decoder) sharedStores(v any) map[string]SharedStore {
	if v == nil {
		return nil
	}
	m := d.mapAt("stores", v)
	out := make(map[string]SharedStore, len(m))
	for _, name := range sortedKeys(m) {
		key := "stores." + name
		switch {
		case name == StoreFile || name == StoreMemory || name == StoreKeyring:
			d.fail(key, "the name of a built-in store; name it otherwise")
		case !validProfileName(name):
			d.fail(key, "a store name is letters, digits, '.', '_' and '-'")
		}
		sm := d.mapAt(key, m[name])
		d.checkKeys(key, sm, sharedStoreKeys)
		st := SharedStore{Type: d.str(key+".type", sm["type"]), URL: d.str(key+".url", sm["url"]), Key: d.str(key+".key", sm["key"])}
		if st.Type != StoreTypeRedis {
			d.fail(key+".type", "%q: expected redis", st.Type)
		}
		if st.URL == "" {
			d.fail(key+".url", "required: redis://HOST:PORT, or rediss://HOST:PORT for TLS")
		} else if msg := redisURLProblem(st.URL); msg != "" {
			d.fail(key+".url", "%s", msg)
		}
		d.sealingKey(key+".key", st.Key)
		if v, ok := sm["keys_old"]; ok && v != nil {
			list, ok := v.([]any)
			if !ok {
				d.fail(key+".keys_old", "expected a list of secret references")
			}
			for i, item := range list {
				ref := d.str(fmt.Sprintf("%s.keys_old[%d]", key, i), item)
				d.sealingKey(fmt.Sprintf("%s.keys_old[%d]", key, i), ref)
				st.KeysOld = append(st.KeysOld, ref)
			}
		}
		out[name] = st
	}
	return out
}

// secretRefPrefixes are core/secret's reference kinds, which a sealing key
// must be given as (core/config does not link core/secret).
var secretRefPrefixes = []string{"env:", "file:", "cmd:", "prompt:", "profile:", "keyring:"}

// sealingKey checks a store's key: a secret reference, never the key
// itself (which the error does not repeat).
func (d *decoder) sealingKey(key, ref string) {
	switch {
	case ref == "":
		d.fail(key, "required: a secret reference to 32 random bytes in base64 or hex (env:NAME, file:PATH, keyring:SERVICE/ACCOUNT)")
	case !slices.ContainsFunc(secretRefPrefixes, func(p string) bool { return strings.HasPrefix(ref, p) }):
		d.fail(key, "a secret reference (env:NAME, file:PATH, keyring:SERVICE/ACCOUNT), never the key itself")
	}
}

// redisURLProblem says what is wrong with a store's Redis URL, without
// repeating its password, or "".
func redisURLProblem(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "not a URL (expected redis://HOST:PORT or rediss://HOST:PORT)"
	case u.Scheme != "redis" && u.Scheme != "rediss":
		return fmt.Sprintf("scheme %q: expected redis:// or rediss:// (TLS)", u.Scheme)
	case u.Hostname() == "":
		return "no host (expected redis://HOST:PORT)"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("port %q: expected a number from 1 to 65535", p)
		}
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		if _, err := strconv.Atoi(db); err != nil {
			return fmt.Sprintf("database %q: expected a number (redis://HOST:PORT/0)", db)
		}
	}
	return ""
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
