// Package profiles holds a loaded configuration's data (its settings and
// profiles) and the rules that pick the profile a command means (Select).
//
// It links no parser: core/config reads the file into these types (and
// re-exports them under its own names), and the front (cmd/authx/front)
// gets them from a snapshot (core/config/snapshot) without parsing YAML
// or TOML, so that both pick a profile by the same code.
package profiles

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	core "github.com/authx/authx/core/base" // core's credentials and errors, without net/http
)

// File is a loaded configuration.
type File struct {
	// Path is the file read, "" when there was none.
	Path string
	// Looked is where the file was looked for when there was none.
	Looked   string
	Profiles map[string]*Profile
	// Plugins holds the top-level `plugins:` entries by scheme name.
	Plugins  map[string]PluginEntry
	Settings Settings
	// Stores are the top-level stores:, shared stores by name, which a
	// store: key may name (docs/stores.md). A snapshot keeps their names
	// and types only: the front serves a profile of such a store from its
	// local copy, a plain file entry, and never reaches the store itself.
	Stores map[string]SharedStore
}

// Settings are the global knobs.
type Settings struct {
	LogLevel           string
	PluginStartTimeout time.Duration
	CallTimeout        time.Duration
	RefreshSkew        time.Duration
	// LockTimeout bounds the wait for another authx logging in to the
	// same profile.
	LockTimeout time.Duration
	CacheDir    string
	// CmdTimeout bounds each cmd: secret reference.
	CmdTimeout time.Duration
	// Store, StoreFallback and CacheTTL are the top-level store:,
	// store_fallback: and cache_ttl:, the defaults of every profile's.
	Store, StoreFallback string
	CacheTTL             time.Duration
}

// SharedStore is one entry of the top-level stores: a store shared by
// several machines (today Redis). Key, KeysOld and the passwords are
// secret references, not resolved here.
type SharedStore struct {
	// Type is StoreTypeRedis.
	Type string
	// URL is redis://HOST[:PORT][/DB] or rediss:// (TLS); empty with
	// Sentinel or Cluster, which name the addresses instead.
	URL string
	// Key names the sealing key entries are written with; KeysOld the
	// keys being rotated out, with which entries are still read.
	Key     string
	KeysOld []string
	// Username is the Redis ACL user (empty: the URL's, else default);
	// Password a secret reference to its password (empty: the URL's).
	Username, Password string
	// TLS, when not nil, sets up TLS: with a rediss:// URL it replaces the
	// defaults (the system roots); with Sentinel or Cluster it turns TLS on.
	TLS *StoreTLS
	// Sentinel, when not nil, finds the master through Redis Sentinel.
	Sentinel *StoreSentinel
	// Cluster, when not nil, talks to a Redis Cluster.
	Cluster *StoreCluster
	// Timeout bounds every Redis call; zero means the default (2s).
	Timeout time.Duration
	// Prefix starts every key and channel the store uses; empty means
	// the default (authx:). Two fleets share one Redis database under
	// two prefixes.
	Prefix string
}

// StoreTLS is a shared store's tls: paths already expanded (~/).
type StoreTLS struct {
	// CAFile is a PEM file of the authorities trusted instead of the
	// system's; empty: the system's.
	CAFile string
	// CertFile and KeyFile are a client certificate and its private key
	// (PEM files), for a Redis that asks for one.
	CertFile, KeyFile string
	// ServerName is the name the server's certificate must hold; empty:
	// the host connected to.
	ServerName string
}

// StoreSentinel is a shared store's sentinel: where Redis Sentinel runs
// and which master it names.
type StoreSentinel struct {
	Master string
	// Addrs are the sentinels, HOST:PORT.
	Addrs []string
	// Username and Password (a secret reference) authenticate to the
	// sentinels; empty: none.
	Username, Password string
}

// StoreCluster is a shared store's cluster: the seed nodes of a Redis
// Cluster.
type StoreCluster struct {
	// Addrs are some of the cluster's nodes, HOST:PORT.
	Addrs []string
}

// StoreTypeRedis is the type of a shared store on Redis.
const StoreTypeRedis = "redis"

// Profile is one named way of authenticating.
type Profile struct {
	Name   string
	Scheme string
	// Match lists URL prefixes the profile serves.
	Match []string
	// URL is the base URL; BaseURL falls back to Match[0].
	URL string
	// Config is the scheme's configuration as written: secret references
	// are not resolved.
	Config map[string]any
	Plugin PluginEntry
	// SharedPlugin is the file's top-level plugins: entry for Scheme,
	// which runs the profile's plugin when Plugin is empty: part of the
	// identity.
	SharedPlugin PluginEntry
	// Env names more variables for `authx exec`: variable name → "token",
	// "authorization", "cookie" or "header:NAME". It is not part of the
	// profile's identity: changing it keeps the cached credential.
	Env map[string]string
	// Store says where the credential is kept between commands: StoreFile
	// (the default), StoreKeyring, StoreMemory, or the name of one of
	// File.Stores. It is not part of the
	// identity. A profile whose credential only re-encodes a secret kept
	// elsewhere (see Reencodes) gets StoreMemory unless it sets cache: true.
	Store string
	// StoreFallback says what a store: keyring profile does when the
	// keyring cannot be used: FallbackFile (the default) or FallbackFail.
	StoreFallback string
	// CacheTTL bounds how long a credential without an expiry of its own
	// is served from the store; zero: as long as it is not refused.
	CacheTTL time.Duration
	// Reencodes names the secret reference the credential only re-encodes
	// ("config.password is a cmd: reference") when that kept it out of the
	// file store; "" otherwise.
	Reencodes string
}

// The values of a profile's store: key.
const (
	// StoreFile keeps the credential in the cache directory (core/cache).
	StoreFile = "file"
	// StoreMemory never writes the credential to disk: a running agent
	// holds it (docs/agent.md); without one it is not kept at all and
	// every command logs in.
	StoreMemory = "memory"
	// StoreKeyring keeps the credential in the OS keyring (docs/stores.md);
	// the cache directory keeps its lock and a stub without secrets.
	StoreKeyring = "keyring"
)

// The values of store_fallback:.
const (
	// FallbackFile uses the file store, with a notice, when the keyring
	// cannot be used.
	FallbackFile = "file"
	// FallbackFail fails with exit code 17 instead.
	FallbackFail = "fail"
)

// PluginEntry locates or pins a plugin binary.
type PluginEntry struct {
	Path   string
	SHA256 string
	// Pin says what SHA256 covers: "" (or "file") the executable alone,
	// "dir" every file in its directory (see host.DirDigest).
	Pin string
}

// EffectivePlugin returns the plugin entry that runs the profile: its own
// plugin: entry, else the file's top-level plugins: entry for its scheme
// (zero for the scheme's plugin on the search path, unpinned).
func (p *Profile) EffectivePlugin() PluginEntry {
	if p.Plugin != (PluginEntry{}) {
		return p.Plugin
	}
	return p.SharedPlugin
}

// BaseURL returns the profile's base URL: url, else the first match prefix.
func (p *Profile) BaseURL() string {
	if p.URL != "" {
		return p.URL
	}
	if len(p.Match) > 0 {
		return p.Match[0]
	}
	return ""
}

// Identity returns deterministic bytes describing everything that decides
// which credential the profile yields. Secret references count by their text,
// never by their value; a literal secret in the file (which `authx config
// validate` warns about) is in it as written, so it is never shown: the
// cache names entries by a keyed hash of it.
//
// The plugin that runs counts by its path and pin: the profile's own
// plugin: entry, else the file's top-level plugins: entry for the scheme
// (changing a pin invalidates what the old plugin obtained).
func (p *Profile) Identity() []byte {
	var shared *PluginEntry
	if p.Plugin == (PluginEntry{}) && p.SharedPlugin != (PluginEntry{}) {
		shared = &p.SharedPlugin
	}
	b, _ := json.Marshal(struct {
		Name   string         `json:"name"`
		Scheme string         `json:"scheme"`
		URL    string         `json:"url"`
		Match  []string       `json:"match"`
		Config map[string]any `json:"config"`
		Plugin PluginEntry    `json:"plugin"`
		Shared *PluginEntry   `json:"shared_plugin,omitempty"` // omitted: identities without one are unchanged
	}{p.Name, p.Scheme, p.URL, p.Match, p.Config, p.Plugin, shared}) // json sorts map keys
	return b
}

// DefaultPath returns the file authx reads when none is named, and whether
// it was named by $AUTHX_CONFIG (then it must exist).
func DefaultPath(getenv func(string) string) (string, bool) {
	if p := getenv("AUTHX_CONFIG"); p != "" {
		return p, true
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			return "", false
		}
		dir = filepath.Join(home, ".config")
	}
	dir = filepath.Join(dir, "authx")
	for _, name := range []string{"config.yaml", "config.yml", "config.toml"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return filepath.Join(dir, name), false
		}
	}
	return filepath.Join(dir, "config.yaml"), false
}

// ProfileNames returns the names of f's profiles, sorted.
func ProfileNames(f *File) []string { return slices.Sorted(maps.Keys(f.Profiles)) }

// Profile returns the profile called name.
func (f *File) Profile(name string) (*Profile, error) {
	if p, ok := f.Profiles[name]; ok {
		return p, nil
	}
	if f.Path == "" {
		return nil, core.Errorf(core.KindConfig, "no profile %q: there is no config file (looked for %s); see docs/configuration.md", name, f.Looked)
	}
	where := f.Path
	names := ProfileNames(f)
	if s := core.Suggest(name, names); s != "" {
		return nil, core.Errorf(core.KindConfig, "no profile %q in %s; did you mean %q?", name, where, s)
	}
	if len(names) == 0 {
		return nil, core.Errorf(core.KindConfig, "no profile %q: %s defines no profiles (see docs/configuration.md)", name, where)
	}
	return nil, core.Errorf(core.KindConfig, "no profile %q in %s (profiles: %s)", name, where, strings.Join(names, ", "))
}
