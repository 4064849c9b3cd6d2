package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authx/authx/core/config/profiles"
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
		named := ", or the name of a store under stores: (there is none)"
		if len(d.stores) > 0 {
			named = ", or " + strings.Join(sortedKeys(d.stores), ", ") + " (stores:)"
		}
		d.fail(key, "%q: expected file (the credential cache, the default), keyring (the OS keyring) or memory (held by the agent, never written to disk)%s", s, named)
		return StoreFile
	}
}

var (
	sharedStoreKeys = []string{"type", "url", "key", "keys_old", "username", "password", "tls", "sentinel", "cluster", "timeout", "prefix"}
	storeTLSKeys    = []string{"ca_file", "cert_file", "key_file", "server_name"}
	sentinelKeys    = []string{"master", "addrs", "username", "password"}
	clusterKeys     = []string{"addrs"}
)

// The bounds of a shared store's timeout:.
const (
	MinStoreTimeout = 100 * time.Millisecond
	MaxStoreTimeout = 30 * time.Second
)

// The parts of a shared store's configuration, re-exported.
type (
	StoreTLS      = profiles.StoreTLS
	StoreSentinel = profiles.StoreSentinel
	StoreCluster  = profiles.StoreCluster
)

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
		d.redisConnection(key, sm, &st)
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

// redisConnection reads how a shared store reaches Redis: url, or
// sentinel: or cluster:, and username, password, tls and timeout.
func (d *decoder) redisConnection(key string, sm map[string]any, st *SharedStore) {
	if v, ok := sm["sentinel"]; ok && v != nil {
		sen := d.mapAt(key+".sentinel", v)
		d.checkKeys(key+".sentinel", sen, sentinelKeys)
		st.Sentinel = &StoreSentinel{
			Master:   d.str(key+".sentinel.master", sen["master"]),
			Addrs:    d.addrs(key+".sentinel.addrs", sen["addrs"]),
			Username: d.str(key+".sentinel.username", sen["username"]),
			Password: d.str(key+".sentinel.password", sen["password"]),
		}
		if st.Sentinel.Master == "" {
			d.fail(key+".sentinel.master", "required: the name of the master the sentinels monitor (sentinel monitor NAME ...)")
		}
		d.password(key+".sentinel.password", st.Sentinel.Password)
	}
	if v, ok := sm["cluster"]; ok && v != nil {
		cl := d.mapAt(key+".cluster", v)
		d.checkKeys(key+".cluster", cl, clusterKeys)
		st.Cluster = &StoreCluster{Addrs: d.addrs(key+".cluster.addrs", cl["addrs"])}
		if st.Sentinel != nil {
			d.fail(key+".cluster", "with sentinel: a store is either behind Redis Sentinel or on a Redis Cluster; keep one")
		}
	}
	var u *url.URL
	switch {
	case st.Sentinel != nil && st.URL != "":
		d.fail(key+".url", "not with sentinel: (sentinel.addrs names where to connect, tls: turns TLS on); leave url out")
	case st.Cluster != nil && st.URL != "":
		d.fail(key+".url", "not with cluster: (cluster.addrs names where to connect, tls: turns TLS on); leave url out")
	case st.Sentinel != nil || st.Cluster != nil:
	case st.URL == "":
		d.fail(key+".url", "required: redis://HOST:PORT, or rediss://HOST:PORT for TLS (or sentinel: or cluster:)")
	default:
		if msg := redisURLProblem(st.URL); msg != "" {
			d.fail(key+".url", "%s", msg)
		} else {
			u, _ = url.Parse(st.URL)
		}
	}
	st.Username = d.str(key+".username", sm["username"])
	st.Password = d.str(key+".password", sm["password"])
	d.password(key+".password", st.Password)
	if u != nil && u.User != nil {
		if _, has := u.User.Password(); has && st.Password != "" {
			d.fail(key+".password", "the url holds a password too; keep it out of the url")
		}
		if u.User.Username() != "" && st.Username != "" {
			d.fail(key+".username", "the url names a user too; give it once")
		}
	}
	if v, ok := sm["tls"]; ok && v != nil {
		tm := d.mapAt(key+".tls", v)
		d.checkKeys(key+".tls", tm, storeTLSKeys)
		st.TLS = &StoreTLS{
			CAFile:     expandHome(d.str(key+".tls.ca_file", tm["ca_file"])),
			CertFile:   expandHome(d.str(key+".tls.cert_file", tm["cert_file"])),
			KeyFile:    expandHome(d.str(key+".tls.key_file", tm["key_file"])),
			ServerName: d.str(key+".tls.server_name", tm["server_name"]),
		}
		switch {
		case u != nil && u.Scheme != "rediss":
			d.fail(key+".tls", "needs a rediss:// url (redis:// is without TLS)")
		case st.TLS.CertFile != "" && st.TLS.KeyFile == "":
			d.fail(key+".tls.key_file", "cert_file and key_file go together: the client certificate and its private key (PEM files)")
		case st.TLS.CertFile == "" && st.TLS.KeyFile != "":
			d.fail(key+".tls.cert_file", "cert_file and key_file go together: the client certificate and its private key (PEM files)")
		case strings.ContainsAny(st.TLS.ServerName, " /:@\t\r\n"):
			d.fail(key+".tls.server_name", "expected a host name (the name the server's certificate holds)")
		}
	}
	if v, ok := sm["prefix"]; ok {
		st.Prefix = d.str(key+".prefix", v)
		if !validStorePrefix(st.Prefix) {
			d.fail(key+".prefix", "expected 1 to 64 letters, digits, '-', '_', '.' and ':', ending in ':' (default authx:)")
		}
	}
	if _, ok := sm["timeout"]; ok {
		st.Timeout = d.duration(key+".timeout", sm["timeout"])
		if st.Timeout < MinStoreTimeout || st.Timeout > MaxStoreTimeout {
			d.fail(key+".timeout", "expected a duration from %v to %v (default 2s)", MinStoreTimeout, MaxStoreTimeout)
		}
	}
}

// addrs reads a list of Redis addresses, HOST:PORT, at least one.
func (d *decoder) addrs(key string, v any) []string {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		d.fail(key, "required: a list of HOST:PORT")
		return nil
	}
	out := make([]string, 0, len(list))
	for i, item := range list {
		k := fmt.Sprintf("%s[%d]", key, i)
		a := d.str(k, item)
		host, port, err := net.SplitHostPort(a)
		n, perr := strconv.Atoi(port)
		switch {
		case err != nil || host == "":
			d.fail(k, "%q: expected HOST:PORT", a)
		case perr != nil || n < 1 || n > 65535:
			d.fail(k, "port %q: expected a number from 1 to 65535", port)
		}
		out = append(out, a)
	}
	return out
}

// password checks a Redis password: empty, or a secret reference, never
// the password itself (which the error does not repeat).
func (d *decoder) password(key, ref string) {
	if ref != "" && !isSecretRef(ref) {
		d.fail(key, "a secret reference (env:NAME, file:PATH, keyring:SERVICE/ACCOUNT, cmd:COMMAND), never the password itself")
	}
}

// secretRefPrefixes are core/secret's reference kinds, which a sealing key
// must be given as (core/config does not link core/secret).
var secretRefPrefixes = []string{"env:", "file:", "cmd:", "prompt:", "profile:", "keyring:"}

// sealingKey checks a store's key: a secret reference, never the key
// itself (which the error does not repeat).
func (d *decoder) sealingKey(key, ref string) {
	switch {
	case ref == "":
		d.fail(key, "required: a secret reference to 32 random bytes in base64 or hex (env:NAME, file:PATH, keyring:SERVICE/ACCOUNT, cmd:COMMAND)")
	case !isSecretRef(ref):
		d.fail(key, "a secret reference (env:NAME, file:PATH, keyring:SERVICE/ACCOUNT, cmd:COMMAND), never the key itself")
	}
}

func isSecretRef(s string) bool {
	return slices.ContainsFunc(secretRefPrefixes, func(p string) bool { return strings.HasPrefix(s, p) })
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
	case u.RawQuery != "" || u.ForceQuery:
		return "a query (?...) is not supported: the store's timeout: bounds every call, and tls: holds the TLS settings"
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
		d.fail(key, "%q: expected file (this machine's file store when the keyring or a shared store cannot be used, the default) or fail (exit 17)", s)
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

// validStorePrefix reports a usable prefix: of Redis keys, channels and
// the ACL patterns that reach them (so no glob character).
func validStorePrefix(p string) bool {
	if len(p) == 0 || len(p) > 64 || !strings.HasSuffix(p, ":") {
		return false
	}
	for _, c := range p {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.:", c)) {
			return false
		}
	}
	return true
}
