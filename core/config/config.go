// Package config loads authx's configuration: a YAML (or TOML) file, then
// AUTHX_* environment variables, then flag overrides.
//
// Every error is a *core.Error of kind core.KindConfig whose message names
// the file, the key path and what is expected, e.g.
//
//	config /home/a/.config/authx/config.yaml: profiles.work.shceme: unknown key; did you mean "scheme"?
package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	ktoml "github.com/knadh/koanf/parsers/toml/v2"
	kyaml "github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/v2"
	gotoml "github.com/pelletier/go-toml/v2"
	_ "go.yaml.in/yaml/v3"

	core "github.com/authx/authx/core/base" // core's credentials and errors, without net/http
	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/config/profiles"
	"github.com/authx/authx/core/redact"
)

// Defaults of the settings.
const (
	DefaultPluginStartTimeout = 10 * time.Second
	DefaultCallTimeout        = 60 * time.Second
	DefaultRefreshSkew        = core.DefaultRefreshSkew
	DefaultLockTimeout        = cache.DefaultLockTimeout
	// DefaultCmdTimeout bounds a cmd: secret reference (as
	// secret.DefaultCmdTimeout does).
	DefaultCmdTimeout = 30 * time.Second
)

// The configuration's data types and the profile selection live in
// core/config/profiles, which links no parser (the front uses it); they
// are re-exported here under their old names.
type (
	// File is a loaded configuration.
	File = profiles.File
	// Settings are the global knobs.
	Settings = profiles.Settings
	// Profile is one named way of authenticating.
	Profile = profiles.Profile
	// PluginEntry locates or pins a plugin binary.
	PluginEntry = profiles.PluginEntry
	// SharedStore is one entry of the top-level stores:.
	SharedStore = profiles.SharedStore
)

// The values of a profile's store: key.
const (
	// StoreFile keeps the credential in the cache directory (core/cache).
	StoreFile = profiles.StoreFile
	// StoreMemory never writes the credential to disk: a running agent
	// holds it (docs/agent.md); without one it is not kept at all and
	// every command logs in.
	StoreMemory = profiles.StoreMemory
	// StoreKeyring keeps the credential in the OS keyring (docs/stores.md);
	// the cache directory keeps its lock and a stub without secrets.
	StoreKeyring = profiles.StoreKeyring
	// StoreTypeRedis is the type of a shared store (stores:) on Redis.
	StoreTypeRedis = profiles.StoreTypeRedis
)

// The values of store_fallback:.
const (
	// FallbackFile uses the file store, with a notice, when the keyring
	// cannot be used.
	FallbackFile = profiles.FallbackFile
	// FallbackFail fails with exit code 17 instead.
	FallbackFail = profiles.FallbackFail
)

// LoadOptions says where to look.
type LoadOptions struct {
	// Path is an explicit file (--config); "" means the default lookup.
	Path string
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Settings are flag overrides, by file key (e.g. "log_level").
	Settings map[string]string
}

// DefaultPath returns the file authx reads when none is named, and whether
// it was named by $AUTHX_CONFIG (then it must exist).
func DefaultPath(getenv func(string) string) (string, bool) { return profiles.DefaultPath(getenv) }

// Load reads the configuration.
func Load(opts LoadOptions) (*File, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	path, must := opts.Path, opts.Path != ""
	if path == "" {
		path, must = DefaultPath(getenv)
	}
	var raw map[string]any
	read, looked := "", ""
	if path != "" {
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		data, owner, mode, err := readFile(path)
		switch {
		case err == nil:
			read = path
			if raw, err = parse(path, data); err != nil {
				return nil, err
			}
			if what := runs(raw); owner != noOwner && what != "" {
				if err := checkMode(path, what, mode); err != nil {
					return nil, err
				}
				if err := checkOwner(path, what, owner, uint32(os.Geteuid())); err != nil {
					return nil, err
				}
			}
		case errors.Is(err, fs.ErrNotExist) && !must:
			looked = path
		case errors.Is(err, fs.ErrNotExist):
			return nil, core.Errorf(core.KindConfig, "config %s: no such file", path)
		default:
			return nil, err
		}
	}
	f, err := decodeFile(read, raw)
	if err != nil {
		return nil, err
	}
	f.Looked = looked
	if err := applyEnv(&f.Settings, getenv, opts.Settings); err != nil {
		return nil, err
	}
	defaults(&f.Settings, getenv)
	return f, nil
}

// decodeFile builds a File from the raw tree of the file at path ("" when
// there is none), without the environment and flags.
func decodeFile(path string, raw map[string]any) (*File, error) {
	f := &File{Path: path, Profiles: map[string]*Profile{}, Plugins: map[string]PluginEntry{}}
	d := &decoder{file: path}
	d.decode(f, raw)
	return f, d.err
}

// parseFile parses and decodes the bytes of the file at path.
func parseFile(path string, data []byte) (*File, error) {
	raw, err := parse(path, data)
	if err != nil {
		return nil, err
	}
	return decodeFile(path, raw)
}

// maxFileSize bounds the config file.
const maxFileSize = 1 << 20

// readFile reads the config file, at most maxFileSize bytes and without
// waiting for a named pipe's writer, and returns its owner and mode as
// they were when it was read. A missing file's error is fs.ErrNotExist.
func readFile(path string) (data []byte, owner uint32, mode fs.FileMode, err error) {
	file, err := os.OpenFile(path, os.O_RDONLY|nonblock, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, 0, err
	}
	fail := func(err error) ([]byte, uint32, fs.FileMode, error) {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, 0, 0, core.Errorf(core.KindConfig, "config %s: %v", path, err)
	}
	if err != nil {
		return fail(err)
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return fail(err)
	}
	if fi.IsDir() {
		return fail(errors.New("is a directory"))
	}
	file.SetReadDeadline(time.Now().Add(readTimeout)) // a pipe; a regular file has no deadline
	data, err = io.ReadAll(io.LimitReader(file, maxFileSize+1))
	switch {
	case err != nil:
		return fail(err)
	case len(data) > maxFileSize:
		return fail(errors.New("larger than 1 MiB"))
	}
	return data, fileOwner(fi), fi.Mode(), nil
}

// readTimeout bounds reading a config file that is a pipe.
const readTimeout = 10 * time.Second

// bytesProvider hands koanf bytes already read.
type bytesProvider []byte

func (b bytesProvider) ReadBytes() ([]byte, error) { return b, nil }

func (b bytesProvider) Read() (map[string]any, error) {
	return nil, errors.New("bytesProvider: Read is not supported")
}

// parse parses the file's bytes, TOML when path ends in .toml and YAML
// otherwise, into its raw tree.
func parse(path string, data []byte) (map[string]any, error) {
	k := koanf.New("\x00") // keys may contain dots; we walk the raw tree ourselves
	var parser koanf.Parser = kyaml.Parser()
	if strings.EqualFold(filepath.Ext(path), ".toml") {
		parser = ktoml.Parser()
	}
	if err := k.Load(bytesProvider(data), parser); err != nil {
		return nil, core.Errorf(core.KindConfig, "config %s: %s", path, redact.OneLine(parseError(err)))
	}
	return k.Raw(), nil
}

// yamlType names the YAML tags a parse error quotes ("!!seq").
var (
	// yamlUnmarshal is compiled on the first parse error, not at every start.
	yamlUnmarshal = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile("cannot unmarshal !!(\\w+)(?: `[^`]*`)? into map\\[string\\]interface \\{\\}")
	})
	yamlTypes = map[string]string{"seq": "a list", "str": "a string", "int": "a number", "float": "a number", "bool": "true or false", "null": "nothing"}
)

// parseError turns a YAML or TOML parser's error into one line with its
// position, in the user's terms rather than Go's.
func parseError(err error) string {
	var de *gotoml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		return fmt.Sprintf("line %d, column %d: %s", row, col, strings.TrimPrefix(de.Error(), "toml: "))
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:")
	re := yamlUnmarshal()
	msg = re.ReplaceAllStringFunc(msg, func(m string) string {
		return "expected a map of settings (such as profiles:), found " + yamlTypes[re.FindStringSubmatch(m)[1]]
	})
	var lines []string
	for _, l := range strings.Split(msg, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, strings.TrimPrefix(l, "yaml: "))
		}
	}
	return strings.Join(lines, "; ")
}

// The syntax of names and pins, as plain functions rather than regular
// expressions compiled at every start of the front.

// validProfileName: ^[A-Za-z0-9][A-Za-z0-9._-]*$.
func validProfileName(s string) bool {
	return s != "" && isAlnum(s[0]) && allBytes(s, func(b byte) bool { return isAlnum(b) || b == '.' || b == '_' || b == '-' })
}

// validHexSHA256: ^[0-9a-fA-F]{64}$.
func validHexSHA256(s string) bool {
	return len(s) == 64 && allBytes(s, func(b byte) bool { return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F' })
}

// validEnvName: ^[A-Za-z_][A-Za-z0-9_]*$.
func validEnvName(s string) bool {
	return s != "" && !('0' <= s[0] && s[0] <= '9') && allBytes(s, func(b byte) bool { return isAlnum(b) || b == '_' })
}

func isAlnum(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

var (
	topKeys     = []string{"profiles", "plugins", "log_level", "plugin_start_timeout", "call_timeout", "refresh_skew", "lock_timeout", "cache_dir", "cmd_timeout", "store", "store_fallback", "cache_ttl", "stores"}
	profileKeys = []string{"scheme", "match", "url", "config", "plugin", "env", "store", "store_fallback", "cache", "cache_ttl"}
	pluginKeys  = []string{"path", "sha256", "pin"}
)

// decoder turns the raw tree into a File, keeping the first error.
type decoder struct {
	file string
	err  error
	// stores are the top-level stores:, which a store: key may name.
	stores map[string]SharedStore
}

func (d *decoder) fail(key, format string, args ...any) {
	if d.err != nil {
		return
	}
	where := "config"
	if d.file != "" {
		where = "config " + d.file
	}
	d.err = core.Errorf(core.KindConfig, "%s: %s: %s", where, redact.OneLine(key), redact.OneLine(fmt.Sprintf(format, args...)))
}

func (d *decoder) checkKeys(path string, m map[string]any, known []string) {
	for _, k := range sortedKeys(m) {
		if slices.Contains(known, k) {
			continue
		}
		if s := core.Suggest(k, known); s != "" {
			d.fail(join(path, k), "unknown key; did you mean %q?", s)
		} else {
			d.fail(join(path, k), "unknown key (expected one of: %s)", strings.Join(known, ", "))
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// LogLevels are the values of log_level, --log-level and AUTHX_LOG, in any
// case.
var LogLevels = []string{"off", "error", "warn", "info", "debug", "trace"}

// CheckLogLevel returns nil when level is one of LogLevels (or empty), else
// a configuration error naming where it came from.
func CheckLogLevel(source, level string) error {
	if msg := logLevelProblem(level); msg != "" {
		return core.Errorf(core.KindConfig, "%s: %s", source, msg)
	}
	return nil
}

func logLevelProblem(level string) string {
	if level == "" || slices.Contains(LogLevels, strings.ToLower(level)) {
		return ""
	}
	return fmt.Sprintf("%q is not a log level (one of %s)", level, strings.Join(LogLevels, ", "))
}

func (d *decoder) decode(f *File, raw map[string]any) {
	d.checkKeys("", raw, topKeys)
	f.Settings.LogLevel = d.str("log_level", raw["log_level"])
	if msg := logLevelProblem(f.Settings.LogLevel); msg != "" {
		d.fail("log_level", "%s", msg)
	}
	f.Settings.PluginStartTimeout = d.duration("plugin_start_timeout", raw["plugin_start_timeout"])
	f.Settings.CallTimeout = d.duration("call_timeout", raw["call_timeout"])
	f.Settings.RefreshSkew = d.duration("refresh_skew", raw["refresh_skew"])
	f.Settings.LockTimeout = d.duration("lock_timeout", raw["lock_timeout"])
	f.Settings.CmdTimeout = d.duration("cmd_timeout", raw["cmd_timeout"])
	f.Settings.CacheDir = expandHome(d.str("cache_dir", raw["cache_dir"]))
	f.Stores = d.sharedStores(raw["stores"])
	d.stores = f.Stores
	d.storeDefaults(&f.Settings, raw)

	for name, v := range d.mapAt("plugins", raw["plugins"]) {
		f.Plugins[name] = d.plugin("plugins."+name, v)
	}
	for _, name := range sortedKeys(d.mapAt("profiles", raw["profiles"])) {
		key := "profiles." + name
		if !validProfileName(name) {
			d.fail(key, "a profile name is letters, digits, '.', '_' and '-'")
		}
		m := d.mapAt(key, raw["profiles"].(map[string]any)[name])
		d.checkKeys(key, m, profileKeys)
		p := &Profile{Name: name}
		p.Scheme = d.str(key+".scheme", m["scheme"])
		if p.Scheme == "" && d.err == nil {
			d.fail(key+".scheme", "required: the scheme this profile uses (e.g. scheme: basic)")
		}
		p.Match = d.urls(key+".match", m["match"])
		if u := d.str(key+".url", m["url"]); u != "" {
			if err := checkURL(u); err != "" {
				d.fail(key+".url", "%s", err)
			}
			p.URL = u
		}
		if c, ok := m["config"]; ok && c != nil {
			p.Config = d.mapAt(key+".config", c)
		}
		if p.Config == nil {
			p.Config = map[string]any{}
		}
		if v, ok := m["plugin"]; ok {
			p.Plugin = d.plugin(key+".plugin", v)
		}
		p.SharedPlugin = f.Plugins[p.Scheme]
		p.Env = d.env(key+".env", m["env"])
		d.profileStore(key, m, p, &f.Settings)
		f.Profiles[name] = p
	}
}

// env reads a profile's env: map (variable → what it holds).
func (d *decoder) env(key string, v any) map[string]string {
	m := d.mapAt(key, v)
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for _, name := range sortedKeys(m) {
		what := d.str(key+"."+name, m[name])
		switch {
		case !validEnvName(name):
			d.fail(key+"."+name, "not an environment variable name (letters, digits and '_', not starting with a digit)")
		case what != "token" && what != "authorization" && what != "cookie" && !strings.HasPrefix(what, "header:"):
			d.fail(key+"."+name, "%q: expected token, authorization, cookie or header:NAME", what)
		}
		out[name] = what
	}
	return out
}

func (d *decoder) mapAt(key string, v any) map[string]any {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		d.fail(key, "expected a map of keys to values")
	}
	return m
}

func (d *decoder) str(key string, v any) string {
	if v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		d.fail(key, "expected a string")
	}
	return s
}

func (d *decoder) duration(key string, v any) time.Duration {
	switch v.(type) {
	case nil, string:
	default:
		d.fail(key, "expected a duration with its unit, e.g. \"90s\" or \"15m\"")
		return 0
	}
	s := d.str(key, v)
	if s == "" {
		return 0
	}
	dur, err := time.ParseDuration(s)
	switch {
	case err != nil:
		d.fail(key, "%q is not a duration (e.g. \"90s\", \"15m\")", s)
	case dur < 0:
		d.fail(key, "%q is negative; give a positive duration (e.g. \"90s\")", s)
	}
	return dur
}

func (d *decoder) urls(key string, v any) []string {
	var list []string
	switch t := v.(type) {
	case nil:
		return nil
	case string:
		list = []string{t}
	case []any:
		for i, e := range t {
			s, ok := e.(string)
			if !ok {
				d.fail(fmt.Sprintf("%s[%d]", key, i), "expected a URL string")
				return nil
			}
			list = append(list, s)
		}
	default:
		d.fail(key, "expected a URL prefix or a list of them")
		return nil
	}
	for i, u := range list {
		if err := checkURL(u); err != "" {
			d.fail(fmt.Sprintf("%s[%d]", key, i), "%s", err)
		}
	}
	return list
}

func (d *decoder) plugin(key string, v any) PluginEntry {
	m := d.mapAt(key, v)
	d.checkKeys(key, m, pluginKeys)
	e := PluginEntry{Path: expandHome(d.str(key+".path", m["path"])), SHA256: strings.ToLower(d.str(key+".sha256", m["sha256"]))}
	if e.SHA256 != "" && !validHexSHA256(e.SHA256) {
		d.fail(key+".sha256", "expected 64 hex digits (the output of sha256sum)")
	}
	switch e.Pin = d.str(key+".pin", m["pin"]); e.Pin {
	case "", "file", "dir":
	default:
		d.fail(key+".pin", "%q: expected file (the sha256 covers the executable) or dir (every file in its directory)", e.Pin)
	}
	if e.Pin != "" && e.SHA256 == "" {
		d.fail(key+".pin", "pin: %s needs a sha256 (authx plugins pin)", e.Pin)
	}
	if e.Pin == "file" {
		e.Pin = "" // the default: the identity is the same either way
	}
	return e
}

func expandHome(p string) string {
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[2:])
		}
	}
	return p
}

// envSettings maps file keys to their environment variables.
var envSettings = []struct{ key, env string }{
	{"log_level", "AUTHX_LOG"},
	{"log_level", "AUTHX_LOG_LEVEL"},
	{"plugin_start_timeout", "AUTHX_PLUGIN_START_TIMEOUT"},
	{"call_timeout", "AUTHX_CALL_TIMEOUT"},
	{"refresh_skew", "AUTHX_REFRESH_SKEW"},
	{"lock_timeout", "AUTHX_LOCK_TIMEOUT"},
	{"cache_dir", "AUTHX_CACHE_DIR"},
	{"cmd_timeout", "AUTHX_CMD_TIMEOUT"},
}

// applyEnv overrides settings from the environment, then from flags.
func applyEnv(s *Settings, getenv func(string) string, flags map[string]string) error {
	set := func(source, key, val string) error {
		var err error
		dur := func() time.Duration {
			d, perr := time.ParseDuration(val)
			if perr != nil || d < 0 {
				err = core.Errorf(core.KindConfig, "%s: %q is not a duration (e.g. \"90s\", \"15m\")", source, val)
			}
			return d
		}
		switch key {
		case "log_level":
			err = CheckLogLevel(source, val)
			s.LogLevel = val
		case "plugin_start_timeout":
			s.PluginStartTimeout = dur()
		case "call_timeout":
			s.CallTimeout = dur()
		case "refresh_skew":
			s.RefreshSkew = dur()
		case "lock_timeout":
			s.LockTimeout = dur()
		case "cmd_timeout":
			s.CmdTimeout = dur()
		case "cache_dir":
			s.CacheDir = expandHome(val)
		default:
			return core.Errorf(core.KindConfig, "%s: unknown setting", source)
		}
		return err
	}
	for _, e := range envSettings {
		if v := getenv(e.env); v != "" {
			if err := set(e.env, e.key, v); err != nil {
				return err
			}
		}
	}
	for _, k := range sortedKeys(flags) {
		if err := set("--"+strings.ReplaceAll(k, "_", "-"), k, flags[k]); err != nil {
			return err
		}
	}
	return nil
}

func defaults(s *Settings, getenv func(string) string) {
	if s.LogLevel == "" {
		s.LogLevel = "off"
	}
	if s.PluginStartTimeout == 0 {
		s.PluginStartTimeout = DefaultPluginStartTimeout
	}
	if s.CallTimeout == 0 {
		s.CallTimeout = DefaultCallTimeout
	}
	if s.RefreshSkew == 0 {
		s.RefreshSkew = DefaultRefreshSkew
	}
	if s.LockTimeout == 0 {
		s.LockTimeout = DefaultLockTimeout
	}
	if s.CmdTimeout == 0 {
		s.CmdTimeout = DefaultCmdTimeout
	}
	if s.CacheDir == "" {
		dir := getenv("XDG_CACHE_HOME")
		if dir == "" {
			if home := getenv("HOME"); home != "" {
				dir = filepath.Join(home, ".cache")
			} else {
				dir = os.TempDir()
			}
		}
		s.CacheDir = filepath.Join(dir, "authx")
	}
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// ProfileNames returns the names of f's profiles, sorted.
func ProfileNames(f *File) []string { return profiles.ProfileNames(f) }
