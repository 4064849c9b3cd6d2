// Package snapshot holds what the front (cmd/authx/front) needs of a
// loaded configuration, so that it serves a cached credential without
// parsing YAML or TOML and without hashing: the settings, each profile's
// name, scheme, match prefixes, url, store and exec env:, the names of
// its config keys (not their values), the file name of its cache entry
// and its agent identity digest; the shared stores' names and types (no
// URL, no key reference).
//
// authx-cli writes a snapshot (Save) after a command that loaded the
// config; the front reads it (Load) and trusts it only when its Key still
// holds: the same config file (path, device, inode, size, mtime, ctime,
// mode, owner: one stat), the same environment inputs of config.Load
// (EnvInputs), the same user, and the same names.key in the entries'
// cache directory. Anything else is a miss, and the front hands off to
// authx-cli, which writes a new snapshot.
//
// A snapshot never holds a secret: no config value but match, url, store
// and env: (a literal password is never copied; secret references are
// never resolved). It does hold each profile's agent digest, the SHA-256
// of its identity, which for a literal password in the config is a hash
// to test guesses against: it is as private as names.key. It lives in the cache directory the environment alone
// names (AUTHX_CACHE_DIR, else the default one: Dir), 0600 in a 0700
// directory, written atomically, read by the cache's rules
// (cache.ReadPrivate: a regular file of this user, in a directory nobody
// else may write, at most MaxSize bytes).
package snapshot

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/config/profiles"
)

// Version is the snapshot format this build reads and writes (3: the
// shared stores' names and types).
const Version = 3

// MaxSize bounds a snapshot file: a larger one is not written, nor read.
const MaxSize = 256 << 10

// Racy is how long after the config file's last change (its mtime or
// ctime) a snapshot must have been taken: a change within the same tick
// of the file system's clock could leave the stat unchanged (git's "racy
// clean" problem). File times on Linux come from the kernel's coarse
// clock, which lags by at most a jiffy (10 ms at HZ=100): twice that is
// enough for a local file system. (A network file system whose server's
// clock runs behind more than that, or a file system with seconds of
// granularity, could keep a change made within that window unseen.)
const Racy = 20 * time.Millisecond

// CoarseRacy is Racy for a file whose times are whole seconds: a file
// system that records no finer time.
const CoarseRacy = 2 * time.Second

// EnvInputs are the environment variables whose values change what
// config.Load returns for a given file (settings, the default cache
// directory, ~ in paths). A snapshot holds for their values only.
var EnvInputs = []string{
	"AUTHX_LOG", "AUTHX_LOG_LEVEL", "AUTHX_PLUGIN_START_TIMEOUT", "AUTHX_CALL_TIMEOUT",
	"AUTHX_REFRESH_SKEW", "AUTHX_LOCK_TIMEOUT", "AUTHX_CACHE_DIR", "AUTHX_CMD_TIMEOUT",
	"XDG_CACHE_HOME", "HOME", "TMPDIR",
}

// FileID identifies a file's state: what stat(2) says of it. The zero
// FileID is a missing file.
type FileID struct {
	Dev   uint64
	Ino   uint64
	Size  int64
	Mtime int64 // ns since the epoch
	Ctime int64
	Mode  uint32
	UID   uint32
}

// Key is what a snapshot was taken from.
type Key struct {
	UID int // the user authx ran as
	// Config is the config file's absolute path and its state when it
	// was read.
	Config   string
	ConfigID FileID
	// Taken is the time (ns since the epoch) just before the config's
	// first stat: the file last changed at least Racy before it.
	Taken int64
	// Env holds the values of EnvInputs, in that order.
	Env []string
	// NameKey is the state of names.key in the entries' cache
	// directory, whose key names the entries; zero while there is none.
	NameKey FileID
}

// Profile is what a snapshot keeps of a profile.
type Profile struct {
	Name   string
	Scheme string
	Match  []string
	URL    string
	Env    map[string]string
	Store  string
	// ConfigKeys are the names of the profile's top-level config keys,
	// sorted (the values are the CLI's to read).
	ConfigKeys []string
	// Entry is the base name of the profile's cache entry file; "" while
	// the cache has no names.key.
	Entry string
	// Agent is the profile's identity as agent requests name it
	// (agent.IdentityDigest).
	Agent string
	// Plugin is the plugin entry that runs the profile: its own plugin:
	// entry, else the file's top-level one for its scheme; zero for the
	// scheme's plugin found on the search path, unpinned.
	Plugin profiles.PluginEntry
}

// Snapshot is a configuration as the front sees it.
type Snapshot struct {
	Version  int
	Key      Key
	Settings profiles.Settings
	// Stores are the config's shared stores (top-level stores:), each
	// name → its type: no URL, no key reference (the front reaches no
	// shared store; it reads their profiles' local copies).
	Stores   map[string]string
	Profiles []Profile
}

// File returns the configuration Select reads: the profiles' name,
// scheme, match, url, env and store, the shared stores' types (no config,
// no URL or key of a store).
func (s *Snapshot) File() *profiles.File {
	f := &profiles.File{Path: s.Key.Config, Settings: s.Settings, Profiles: make(map[string]*profiles.Profile, len(s.Profiles))}
	for _, p := range s.Profiles {
		f.Profiles[p.Name] = &profiles.Profile{Name: p.Name, Scheme: p.Scheme, Match: p.Match, URL: p.URL, Env: p.Env, Store: p.Store, Plugin: p.Plugin}
	}
	if len(s.Stores) > 0 {
		f.Stores = make(map[string]profiles.SharedStore, len(s.Stores))
		for name, typ := range s.Stores {
			f.Stores[name] = profiles.SharedStore{Type: typ}
		}
	}
	return f
}

// LocalFile reports whether a fresh credential of a profile of store
// (its store: value) is the file entry the snapshot names: store: file,
// and a shared store, which keeps a local copy in exactly that file
// (local first, docs/stores.md) and is consulted only when the copy is
// missing or due. Memory and keyring profiles are authx-cli's to read.
func (s *Snapshot) LocalFile(store string) bool {
	return store == profiles.StoreFile || s.Stores[store] == profiles.StoreTypeRedis
}

// Profile returns the snapshot's profile called name, nil when none.
func (s *Snapshot) Profile(name string) *Profile {
	for i := range s.Profiles {
		if s.Profiles[i].Name == name {
			return &s.Profiles[i]
		}
	}
	return nil
}

// Dir returns the directory snapshots live in for this environment:
// $AUTHX_CACHE_DIR, else the default cache directory (as config.Load
// finds it without a cache_dir:); "" when that is not an absolute path.
// The config's own cache_dir cannot count: finding it means parsing the
// config.
func Dir(getenv func(string) string) string {
	dir := getenv("AUTHX_CACHE_DIR")
	switch {
	case strings.HasPrefix(dir, "~/"):
		home := getenv("HOME")
		if home == "" {
			return ""
		}
		dir = filepath.Join(home, dir[2:])
	case dir != "":
	case getenv("XDG_CACHE_HOME") != "":
		dir = filepath.Join(getenv("XDG_CACHE_HOME"), "authx")
	case getenv("HOME") != "":
		dir = filepath.Join(getenv("HOME"), ".cache", "authx")
	default:
		dir = filepath.Join(os.TempDir(), "authx")
	}
	if !filepath.IsAbs(dir) {
		return ""
	}
	return filepath.Clean(dir)
}

// Path returns the snapshot file of the config at configPath (absolute)
// in dir: one per config file, named by a 64-bit FNV-1a of its path (not
// a secret, not a security boundary: the Key inside decides).
func Path(dir, configPath string) string {
	h := uint64(14695981039346656037)
	for i := 0; i < len(configPath); i++ {
		h ^= uint64(configPath[i])
		h *= 1099511628211
	}
	return filepath.Join(dir, "front-"+strconv.FormatUint(h, 16)+".snapshot")
}

// Inputs are the environment's part of a Key: the values of EnvInputs.
func Inputs(getenv func(string) string) []string {
	env := make([]string, len(EnvInputs))
	for i, name := range EnvInputs {
		env[i] = getenv(name)
	}
	return env
}

// errStale is any reason not to trust a snapshot.
var errStale = errors.New("snapshot: stale or invalid")

// Load returns the snapshot of the config at configPath (absolute) for
// the environment getenv reads, when there is one and it still holds (see
// Check); an error otherwise, which the caller takes for a miss.
func Load(configPath string, getenv func(string) string) (*Snapshot, error) {
	dir := Dir(getenv)
	if dir == "" || !filepath.IsAbs(configPath) {
		return nil, errStale
	}
	data, err := cache.ReadPrivate(Path(dir, configPath), MaxSize)
	if err != nil {
		return nil, err
	}
	s, err := Decode(data)
	if err != nil {
		return nil, err
	}
	if err := s.Check(configPath, getenv); err != nil {
		return nil, err
	}
	return s, nil
}

// Check returns nil when s still describes the config at configPath for
// the environment getenv reads: same user, same environment inputs, the
// config file unchanged since s was taken (and not changed within Racy
// before), names.key unchanged.
func (s *Snapshot) Check(configPath string, getenv func(string) string) error {
	k := &s.Key
	if k.UID != os.Geteuid() || k.Config != configPath || len(k.Env) != len(EnvInputs) {
		return errStale
	}
	for i, name := range EnvInputs {
		if getenv(name) != k.Env[i] {
			return errStale
		}
	}
	if id, ok := Stat(configPath); !ok || !id.regular() || id != k.ConfigID || racy(id, k.Taken) {
		return errStale
	}
	if id, _ := Stat(filepath.Join(s.Settings.CacheDir, nameKeyFile)); id != k.NameKey {
		return errStale
	}
	return nil
}

// racy reports whether the file's state id may not have changed in a
// change made after taken (ns): see Racy. A file system that keeps whole
// seconds (ext4 with small inodes, ext3, HFS+, FAT's two seconds, some
// network mounts) shows both times on a second: there a change in the
// same two seconds may leave the stat as it was (git's racy-clean rule).
func racy(id FileID, taken int64) bool {
	window := int64(Racy)
	if id.Mtime%int64(time.Second) == 0 && id.Ctime%int64(time.Second) == 0 {
		window = int64(CoarseRacy)
	}
	limit := taken - window
	return id.Mtime >= limit || id.Ctime >= limit
}

// Decode parses and validates a snapshot's bytes (untrusted: any bytes
// give a snapshot that passes Validate, or an error).
func Decode(data []byte) (*Snapshot, error) {
	if len(data) > MaxSize {
		return nil, errStale
	}
	s, err := decode(data)
	if err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// Validate checks what the front relies on: this version; absolute
// paths; shared stores of a valid name (none a built-in store's) and a
// type; one profile per valid name, each with a scheme, a known store (a
// built-in one or a shared one of the snapshot),
// a plain entry file name, a valid env: map and a plugin entry whose
// path holds no NUL and whose pin is hex, if any; no negative duration.
func (s *Snapshot) Validate() error {
	st := &s.Settings
	ok := s.Version == Version && filepath.IsAbs(s.Key.Config) && filepath.IsAbs(st.CacheDir) &&
		len(s.Key.Env) == len(EnvInputs) && st.RefreshSkew >= 0 && st.CallTimeout >= 0 &&
		st.PluginStartTimeout >= 0 && st.LockTimeout >= 0 && st.CmdTimeout >= 0 && st.CacheTTL >= 0
	builtin := func(name string) bool {
		return name == profiles.StoreFile || name == profiles.StoreMemory || name == profiles.StoreKeyring
	}
	for name, typ := range s.Stores {
		ok = ok && validName(name) && !builtin(name) && typ != ""
	}
	for i, p := range s.Profiles {
		_, shared := s.Stores[p.Store]
		ok = ok && validName(p.Name) && p.Scheme != "" && (builtin(p.Store) || shared) &&
			(p.Entry == "" || validEntry(p.Entry)) && validEnv(p.Env) && validPlugin(p.Plugin) &&
			!slices.ContainsFunc(s.Profiles[:i], func(q Profile) bool { return q.Name == p.Name })
	}
	if !ok {
		return errStale
	}
	return nil
}

// validPlugin: no NUL in the path, a SHA-256 in lower-case hex or none
// (what config's decoder gives).
func validPlugin(e profiles.PluginEntry) bool {
	if strings.ContainsRune(e.Path, 0) || e.Pin != "" && e.Pin != "file" && e.Pin != "dir" {
		return false
	}
	if e.SHA256 == "" {
		return true
	}
	for i := 0; i < len(e.SHA256); i++ {
		if b := e.SHA256[i]; !('0' <= b && b <= '9' || 'a' <= b && b <= 'f') {
			return false
		}
	}
	return len(e.SHA256) == 64
}

// validName: ^[A-Za-z0-9][A-Za-z0-9._-]*$, as config's profile names.
func validName(s string) bool {
	if s == "" || s[0] == '.' || s[0] == '_' || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; !isAlnum(b) && b != '.' && b != '_' && b != '-' {
			return false
		}
	}
	return true
}

// validEntry: a cache entry's base name, NAME.HEX.json, no path.
func validEntry(s string) bool {
	name, ok := strings.CutSuffix(s, ".json")
	if !ok || name == "" || name[0] == '.' {
		return false
	}
	for i := 0; i < len(name); i++ {
		if b := name[i]; !isAlnum(b) && b != '.' && b != '_' && b != '-' {
			return false
		}
	}
	return true
}

// validEnv: variable names as config's env: checks them, and what each
// holds.
func validEnv(env map[string]string) bool {
	for name, what := range env {
		if name == "" || '0' <= name[0] && name[0] <= '9' {
			return false
		}
		for i := 0; i < len(name); i++ {
			if b := name[i]; !isAlnum(b) && b != '_' {
				return false
			}
		}
		if what != "token" && what != "authorization" && what != "cookie" && !strings.HasPrefix(what, "header:") {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

func isAlnum(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}
