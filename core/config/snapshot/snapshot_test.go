package snapshot_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/config"
	"github.com/authx/authx/core/config/snapshot"
)

// fixture is a config file, its environment and a cache with a names.key.
type fixture struct {
	t    *testing.T
	dir  string
	path string
	env  map[string]string
}

func newFixture(t *testing.T, yaml string) *fixture {
	dir := t.TempDir()
	f := &fixture{t: t, dir: dir, path: filepath.Join(dir, "config.yaml"),
		env: map[string]string{"HOME": dir, "AUTHX_CACHE_DIR": filepath.Join(dir, "cache")}}
	f.write(yaml)
	// A names.key, as the first cached credential leaves.
	if err := cache.New(filepath.Join(dir, "cache")).Put(cache.KeyFor("x", nil), &cache.Entry{}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) getenv(k string) string { return f.env[k] }

func (f *fixture) write(yaml string) {
	if err := os.WriteFile(f.path, []byte(yaml), 0o600); err != nil {
		f.t.Fatal(err)
	}
}

// save does what authx-cli does after loading the config: taken a moment
// after the file's last change (see snapshot.Racy) unless now is given.
func (f *fixture) save(now ...time.Time) {
	f.t.Helper()
	at := time.Now().Add(2 * snapshot.Racy)
	if len(now) > 0 {
		at = now[0]
	}
	taking := snapshot.Begin(f.path, at)
	cfg, err := config.Load(config.LoadOptions{Path: f.path, Getenv: f.getenv})
	if err != nil {
		f.t.Fatal(err)
	}
	if err := taking.Save(cfg, f.getenv); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) load() (*snapshot.Snapshot, error) { return snapshot.Load(f.path, f.getenv) }

const base = `profiles:
  work:
    scheme: basic
    match: https://api.example.com/v1/
    config: {username: alice, password: env:PW}
`

// A snapshot holds what the front needs, and the profile's cache entry
// name and agent digest as authx-cli computes them.
func TestSaveLoad(t *testing.T) {
	f := newFixture(t, base)
	f.save()
	s, err := f.load()
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := config.Load(config.LoadOptions{Path: f.path, Getenv: f.getenv})
	p := cfg.Profiles["work"]
	want := filepath.Base(cache.New(cfg.Settings.CacheDir).Path(cache.KeyFor("work", p.Identity())))
	sp := s.Profile("work")
	if sp == nil || sp.Entry != want || sp.Scheme != "basic" || sp.Store != "file" || !reflect.DeepEqual(sp.ConfigKeys, []string{"password", "username"}) {
		t.Errorf("profile %+v, want entry %s", sp, want)
	}
	if s.Settings != cfg.Settings {
		t.Errorf("settings %+v, want %+v", s.Settings, cfg.Settings)
	}
	fi, err := os.Stat(snapshot.Path(f.env["AUTHX_CACHE_DIR"], f.path))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("snapshot file: %v %v", fi, err)
	}
}

// Every change that could change what config.Load returns makes the
// snapshot a miss.
func TestStale(t *testing.T) {
	tests := []struct {
		name   string
		change func(f *fixture)
	}{
		{"config edited, same size", func(f *fixture) { f.write(strings.Replace(base, "alice", "bobby", 1)) }},
		{"config edited, mtime put back", func(f *fixture) {
			fi, _ := os.Stat(f.path)
			f.write(strings.Replace(base, "alice", "bobby", 1))
			os.Chtimes(f.path, fi.ModTime(), fi.ModTime())
		}},
		{"profile removed", func(f *fixture) { f.write("profiles: {}\n") }},
		{"store changed to memory", func(f *fixture) { f.write(base + "    store: memory\n") }},
		{"cache_dir changed in the file", func(f *fixture) { f.write("cache_dir: " + filepath.Join(f.dir, "other") + "\n" + base) }},
		{"config replaced by another file", func(f *fixture) {
			data, _ := os.ReadFile(f.path)
			os.WriteFile(f.path+".new", data, 0o600)
			os.Rename(f.path+".new", f.path)
		}},
		{"config made group-writable", func(f *fixture) { os.Chmod(f.path, 0o620) }},
		{"config removed", func(f *fixture) { os.Remove(f.path) }},
		{"AUTHX_REFRESH_SKEW set", func(f *fixture) { f.env["AUTHX_REFRESH_SKEW"] = "2h" }},
		{"AUTHX_LOG set", func(f *fixture) { f.env["AUTHX_LOG"] = "off" }},
		{"AUTHX_CALL_TIMEOUT invalid", func(f *fixture) { f.env["AUTHX_CALL_TIMEOUT"] = "soon" }},
		{"HOME changed", func(f *fixture) { f.env["HOME"] = "/elsewhere" }},
		{"TMPDIR changed", func(f *fixture) { f.env["TMPDIR"] = "/elsewhere" }},
		{"XDG_CACHE_HOME changed", func(f *fixture) { f.env["XDG_CACHE_HOME"] = "/elsewhere" }},
		{"AUTHX_CACHE_DIR changed", func(f *fixture) {
			old := f.env["AUTHX_CACHE_DIR"]
			f.env["AUTHX_CACHE_DIR"] = filepath.Join(f.dir, "other")
			os.MkdirAll(f.env["AUTHX_CACHE_DIR"], 0o700)
			data, _ := os.ReadFile(snapshot.Path(old, f.path)) // even with the old snapshot copied there
			os.WriteFile(snapshot.Path(f.env["AUTHX_CACHE_DIR"], f.path), data, 0o600)
		}},
		{"names.key replaced", func(f *fixture) {
			nk := filepath.Join(f.env["AUTHX_CACHE_DIR"], "names.key")
			os.Remove(nk)
			os.WriteFile(nk, bytes.Repeat([]byte{7}, 32), 0o600)
		}},
		{"names.key removed", func(f *fixture) { os.Remove(filepath.Join(f.env["AUTHX_CACHE_DIR"], "names.key")) }},
		{"snapshot group-writable", func(f *fixture) { os.Chmod(snapshot.Path(f.env["AUTHX_CACHE_DIR"], f.path), 0o620) }},
		{"snapshot of another config", func(f *fixture) {
			other := filepath.Join(f.dir, "other.yaml")
			os.Rename(snapshot.Path(f.env["AUTHX_CACHE_DIR"], f.path), snapshot.Path(f.env["AUTHX_CACHE_DIR"], other))
			f.path = other
			os.WriteFile(other, []byte(base), 0o600)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, base)
			f.save()
			if _, err := f.load(); err != nil {
				t.Fatalf("fresh snapshot: %v", err)
			}
			tt.change(f)
			if s, err := f.load(); err == nil {
				t.Errorf("still trusted after the change: %+v", s)
			}
		})
	}
}

// A snapshot taken within Racy of the file's last change is not trusted,
// and authx-cli does not write one.
func TestRacy(t *testing.T) {
	f := newFixture(t, base)
	fi, err := os.Stat(f.path)
	if err != nil {
		t.Fatal(err)
	}
	f.save(fi.ModTime().Add(snapshot.Racy / 2)) // taken a moment after the file was written
	if _, err := os.Stat(snapshot.Path(f.env["AUTHX_CACHE_DIR"], f.path)); err == nil {
		t.Error("a snapshot was written for a file changed within Racy")
	}
}

// A file that changed between Begin and Save gets no snapshot: what was
// loaded may not be the state recorded.
func TestChangedWhileLoading(t *testing.T) {
	f := newFixture(t, base)
	taking := snapshot.Begin(f.path, time.Now().Add(2*snapshot.Racy))
	cfg, err := config.Load(config.LoadOptions{Path: f.path, Getenv: f.getenv})
	if err != nil {
		t.Fatal(err)
	}
	f.write(strings.Replace(base, "alice", "bobby", 1))
	if err := taking.Save(cfg, f.getenv); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(snapshot.Path(f.env["AUTHX_CACHE_DIR"], f.path)); err == nil {
		t.Error("a snapshot was written for a file that changed while it was loaded")
	}
}

// A snapshot holds no secret: not a literal one written in the config,
// not the value of a reference.
func TestNoSecret(t *testing.T) {
	f := newFixture(t, `profiles:
  lit:
    scheme: basic
    config: {username: alice, password: Literal-S3cret-PW}
  ref:
    scheme: jwt
    config: {mode: static, token: env:TOKEN, ca_file: /etc/ca.pem}
    env: {GH_TOKEN: token}
`)
	f.env["TOKEN"] = "Env-T0ken-Value"
	f.save()
	data, err := os.ReadFile(snapshot.Path(f.env["AUTHX_CACHE_DIR"], f.path))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"Literal-S3cret-PW", "Env-T0ken-Value", "env:TOKEN", "/etc/ca.pem"} {
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("the snapshot holds %q:\n%s", secret, data)
		}
	}
	s, err := f.load()
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Profile("ref"); p == nil || !reflect.DeepEqual(p.ConfigKeys, []string{"ca_file", "mode", "token"}) || p.Env["GH_TOKEN"] != "token" {
		t.Errorf("ref: %+v", p)
	}
}

// Saving again over a snapshot that still holds writes nothing.
func TestSaveKeepsAHoldingSnapshot(t *testing.T) {
	f := newFixture(t, base)
	f.save()
	path := snapshot.Path(f.env["AUTHX_CACHE_DIR"], f.path)
	before, _ := os.Stat(path)
	f.save()
	after, _ := os.Stat(path)
	if !os.SameFile(before, after) {
		t.Error("a holding snapshot was rewritten")
	}
}

// The front picks the profile the full CLI picks: the snapshot's File and
// config.Load's give the same answer to Select for every input.
func TestSelectSameAsConfig(t *testing.T) {
	configs := []string{
		base,
		`profiles:
  a:
    scheme: basic
    match: [https://api.example.com/, https://other.example.org/x/]
    config: {username: a}
  b:
    scheme: jwt
    match: https://api.example.com/v1/
    config: {mode: static, token: env:T}
  c:
    scheme: jwt
    url: https://c.example.com/base/
    config: {mode: static, token: env:T}
  d:
    scheme: jwt
    config: {mode: static, token: env:T}
    store: memory
  e.f_g-1:
    scheme: basic
    match: http://127.0.0.1:8080/
`,
		"profiles: {}\n",
		"log_level: off\n",
	}
	inputs := []struct{ name, url, env string }{
		{}, {name: "work"}, {name: "a"}, {name: "b"}, {name: "c"}, {name: "d"}, {name: "nope"}, {name: "e.f_g-1"},
		{url: "https://api.example.com/v1/items"}, {url: "https://api.example.com/v2"}, {url: "HTTPS://API.example.com:443/v1/x"},
		{url: "https://other.example.org/x/y"}, {url: "https://other.example.org/y"}, {url: "https://api.example.com/v1/../admin"},
		{url: "https://api.example.com/v1%2F..%2Fadmin"}, {url: "http://127.0.0.1:8080/z"}, {url: "/relative"}, {url: "https://c.example.com/base/x"},
		{name: "b", url: "https://api.example.com/v2/x"}, {name: "b", url: "https://api.example.com/v1/x"}, {name: "c", url: "https://c.example.com/other"},
		{name: "d", url: "https://anything.example.net/"}, {env: "a"}, {env: "nope"}, {url: "https://api.example.com/v1/", env: "c"},
		{name: "c", env: "a"}, {url: "https://api.example.com/v1/\x7f"},
	}
	for _, yaml := range configs {
		f := newFixture(t, yaml)
		f.save()
		s, err := f.load()
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := config.Load(config.LoadOptions{Path: f.path, Getenv: f.getenv})
		front := s.File()
		for _, in := range inputs {
			p1, ok1, err1 := cfg.Select(in.name, in.url, in.env)
			p2, ok2, err2 := front.Select(in.name, in.url, in.env)
			if ok1 != ok2 || (err1 == nil) != (err2 == nil) || (p1 == nil) != (p2 == nil) || p1 != nil && p1.Name != p2.Name ||
				p1 != nil && (p1.Store != p2.Store || !reflect.DeepEqual(p1.Scope(), p2.Scope()) || !reflect.DeepEqual(p1.Env, p2.Env)) {
				t.Errorf("%q %+v: config %+v %v %v; snapshot %+v %v %v", yaml, in, p1, ok1, err1, p2, ok2, err2)
			}
		}
	}
}

// On a file system that keeps whole seconds, a change within the same
// second leaves the stat as it was: a snapshot taken less than
// CoarseRacy after such a file's last change is not trusted (the
// review reproduced a wrong credential on ext4 with 128-byte inodes).
func TestRacyCoarseTimes(t *testing.T) {
	sec := int64(time.Second)
	tests := []struct {
		name         string
		mtime, ctime int64
		taken        int64
		racy         bool
	}{
		{"fine times, taken 30 ms later", 100*sec + 123, 100*sec + 456, 100*sec + 30_000_000, false},
		{"fine times, taken 10 ms later", 100*sec + 123, 100*sec + 456, 100*sec + 10_000_000, true},
		{"whole seconds, taken 0.5 s later", 100 * sec, 100 * sec, 100*sec + sec/2, true},
		{"whole seconds, taken 1.5 s later", 100 * sec, 100 * sec, 101*sec + sec/2, true},
		{"whole seconds, taken 3 s later", 100 * sec, 100 * sec, 103 * sec, false},
		{"one time on a second by chance", 100 * sec, 100*sec + 7, 100*sec + 30_000_000, false},
	}
	for _, tt := range tests {
		if got := snapshot.IsRacy(snapshot.FileID{Mtime: tt.mtime, Ctime: tt.ctime}, tt.taken); got != tt.racy {
			t.Errorf("%s: racy %v, want %v", tt.name, got, tt.racy)
		}
	}
}

// A config that is not a regular file (a pipe, /dev/fd/N) gets no
// snapshot: its stat says nothing of what the next read gives.
func TestNoSnapshotOfAPipe(t *testing.T) {
	f := newFixture(t, base)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() { w.WriteString(base); w.Close() }()
	path := "/dev/fd/" + strconv.Itoa(int(r.Fd()))
	taking := snapshot.Begin(path, time.Now().Add(2*snapshot.CoarseRacy)) // past any racy window
	cfg, err := config.Load(config.LoadOptions{Path: path, Getenv: f.getenv})
	if err != nil {
		t.Skipf("this system reads no config from %s: %v", path, err)
	}
	if err := taking.Save(cfg, f.getenv); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(snapshot.Path(f.env["AUTHX_CACHE_DIR"], path)); err == nil {
		t.Error("a snapshot was written for a pipe")
	}
}

const sharedBase = `stores:
  fleet: {type: redis, url: "redis://:Url-Pa55@127.0.0.1:1/0", key: env:AUTHX_STORE_KEY}
profiles:
  shared:
    scheme: basic
    store: fleet
    config: {username: carol, password: env:PW}
  work:
    scheme: basic
    match: https://api.example.com/v1/
    config: {username: alice, password: env:PW}
`

// A config with a shared store (stores: fleet) has a snapshot: its
// profile keeps store "fleet" and the name of its local copy, the file
// entry a store: file profile of the same identity would have; the store
// is there by name and type only (no URL, no key reference); the other
// profiles are there as ever. A change of the stores: section makes the
// snapshot a miss, and the next save takes the new one.
func TestSharedStore(t *testing.T) {
	f := newFixture(t, sharedBase)
	f.save()
	s, err := f.load()
	if err != nil {
		t.Fatalf("no snapshot of a config with a shared store: %v", err)
	}
	cfg, _ := config.Load(config.LoadOptions{Path: f.path, Getenv: f.getenv})
	want := filepath.Base(cache.New(cfg.Settings.CacheDir).Path(cache.KeyFor("shared", cfg.Profiles["shared"].Identity())))
	if sp := s.Profile("shared"); sp == nil || sp.Store != "fleet" || sp.Entry != want || !s.LocalFile(sp.Store) {
		t.Errorf("shared: %+v, want store fleet and entry %s", sp, want)
	}
	if sp := s.Profile("work"); sp == nil || sp.Store != "file" || sp.Entry == "" {
		t.Errorf("work: %+v", sp)
	}
	if !reflect.DeepEqual(s.Stores, map[string]string{"fleet": "redis"}) {
		t.Errorf("stores %v", s.Stores)
	}
	if p, ok, err := s.File().Select("shared", "", ""); !ok || err != nil || p.Store != "fleet" {
		t.Errorf("Select: %+v %v %v", p, ok, err)
	}
	data, _ := os.ReadFile(snapshot.Path(f.env["AUTHX_CACHE_DIR"], f.path))
	for _, s := range []string{"Url-Pa55", "127.0.0.1", "env:AUTHX_STORE_KEY", "AUTHX_STORE_KEY"} {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("the snapshot holds %q:\n%s", s, data)
		}
	}
	fi, _ := os.Stat(f.path)
	f.write(strings.Replace(sharedBase, "127.0.0.1:1/0", "127.0.0.1:2/0", 1)) // same size, mtime put back
	os.Chtimes(f.path, fi.ModTime(), fi.ModTime())
	if s, err := f.load(); err == nil {
		t.Errorf("still trusted after stores: changed: %+v", s)
	}
	f.save()
	if _, err := f.load(); err != nil {
		t.Errorf("no new snapshot after stores: changed: %v", err)
	}
}

// Decode refuses a profile of a shared store the snapshot does not list,
// and a shared store named as a built-in one or without a type.
func TestSharedStoreInvalid(t *testing.T) {
	f := newFixture(t, sharedBase)
	f.save()
	data, err := os.ReadFile(snapshot.Path(f.env["AUTHX_CACHE_DIR"], f.path))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snapshot.Decode(data); err != nil {
		t.Fatalf("the snapshot as saved: %v", err)
	}
	for _, bad := range []string{
		strings.Replace(string(data), `shared-store "fleet" "redis"`+"\n", "", 1),
		strings.Replace(string(data), `shared-store "fleet" "redis"`, `shared-store "fleet" ""`, 1),
		strings.Replace(string(data), `"fleet"`, `"keyring"`, -1),
		strings.Replace(string(data), `store "fleet"`, `store "fleet2"`, 1),
	} {
		if bad == string(data) {
			t.Fatalf("no change made to:\n%s", data)
		}
		if s, err := snapshot.Decode([]byte(bad)); err == nil {
			t.Errorf("decoded %+v from:\n%s", s, bad)
		}
	}
}
