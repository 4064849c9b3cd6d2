package snapshot

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/authx/authx/core/agent"
	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/config/profiles"
)

// nameKeyFile is the cache's file of the key that names its entries
// (core/cache).
const nameKeyFile = "names.key"

// Taking is a snapshot being taken: Begin before the config is loaded,
// Save once it is. The two stats around the load tell that the bytes
// loaded are those of the state recorded.
type Taking struct {
	path  string
	id    FileID
	taken int64
	ok    bool
}

// Begin starts taking a snapshot of the config file at path, which must be
// the absolute path config.Load reads (see ConfigPath).
func Begin(path string, now time.Time) Taking {
	id, ok := Stat(path)
	return Taking{path: path, id: id, taken: now.UnixNano(), ok: ok && id.regular() && filepath.IsAbs(path)}
}

// ConfigPath returns the absolute path of the config file config.Load
// reads for an explicit path ("" for none) in the environment getenv
// reads; "" when there is none.
func ConfigPath(path string, getenv func(string) string) string {
	if path == "" {
		path, _ = profiles.DefaultPath(getenv)
	}
	if path == "" {
		return ""
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	return abs
}

// Save writes the snapshot of f, which config.Load returned for the path
// given to Begin in the environment getenv reads, with no flag overrides,
// unless a snapshot that still holds is there already. It writes nothing
// (and returns nil) when a snapshot could not hold: the file changed
// since Begin, or within Racy before it; the cache directory is relative;
// the snapshot would be larger than MaxSize. Errors are for logs: a
// snapshot is an optimisation, the front hands off without it.
func (t Taking) Save(f *profiles.File, getenv func(string) string) error {
	if !t.ok || f.Path != t.path || racy(t.id, t.taken) || !filepath.IsAbs(f.Settings.CacheDir) {
		return nil
	}
	if id, ok := Stat(t.path); !ok || id != t.id {
		return nil
	}
	dir := Dir(getenv)
	if dir == "" {
		return nil
	}
	if old, err := Load(t.path, getenv); err == nil && old.Settings == f.Settings {
		return nil // still holds
	}
	s, err := take(t, f, getenv)
	if s == nil || err != nil {
		return err
	}
	data, err := s.Encode()
	if err != nil || len(data) > MaxSize {
		return err
	}
	return write(dir, Path(dir, t.path), data)
}

// take builds the snapshot; nil when names.key changed meanwhile.
func take(t Taking, f *profiles.File, getenv func(string) string) (*Snapshot, error) {
	nk := filepath.Join(f.Settings.CacheDir, nameKeyFile)
	before, _ := Stat(nk)
	store := cache.New(f.Settings.CacheDir)
	s := &Snapshot{Version: Version, Settings: f.Settings, Profiles: []Profile{},
		Key: Key{UID: os.Geteuid(), Config: t.path, ConfigID: t.id, Taken: t.taken, Env: Inputs(getenv), NameKey: before}}
	for name, st := range f.Stores {
		if s.Stores == nil {
			s.Stores = make(map[string]string, len(f.Stores))
		}
		s.Stores[name] = st.Type // nor its URL nor its key: nothing the front uses
	}
	for _, name := range profiles.ProfileNames(f) {
		p := f.Profiles[name]
		identity := p.Identity()
		entry := ""
		if path := store.Path(cache.KeyFor(p.Name, identity)); path != "" {
			entry = filepath.Base(path)
		}
		s.Profiles = append(s.Profiles, Profile{Name: p.Name, Scheme: p.Scheme, Match: p.Match, URL: p.URL, Env: p.Env, Store: p.Store,
			ConfigKeys: slices.Sorted(maps.Keys(p.Config)), Entry: entry, Agent: agent.IdentityDigest(identity), Plugin: p.EffectivePlugin()})
	}
	if after, _ := Stat(nk); after != before {
		return nil, nil
	}
	if err := s.Validate(); err != nil {
		return nil, nil // e.g. an entry name the front would refuse: no snapshot
	}
	return s, nil
}

// write writes data to path in dir atomically (a 0600 temporary file
// renamed), creating dir 0700; it refuses a directory another user owns
// or may write.
func write(dir, path string, data []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	id, ok := Stat(dir)
	if !ok || int(id.UID) != os.Geteuid() || id.Mode&0o022 != 0 {
		return errors.New("snapshot: the cache directory " + dir + " is not private")
	}
	tmp, err := os.CreateTemp(dir, ".snapshot-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
