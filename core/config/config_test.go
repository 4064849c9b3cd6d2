package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core"
)

func noEnv(string) string { return "" }

func TestLoadGood(t *testing.T) {
	f, err := Load(LoadOptions{Path: "testdata/good.yaml", Getenv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	if got := ProfileNames(f); !reflect.DeepEqual(got, []string{"api-root", "ci.prod", "work"}) {
		t.Errorf("profiles = %v", got)
	}
	w := f.Profiles["work"]
	if w.Scheme != "basic" || w.Config["password"] != "env:PW" || w.BaseURL() != "https://api.example.com/v1" {
		t.Errorf("work = %+v", w)
	}
	a := f.Profiles["api-root"]
	if a.Config["token_path"] != "data.token" || a.BaseURL() != "https://api.example.com/base/" {
		t.Errorf("api-root = %+v", a)
	}
	if body, ok := a.Config["body"].(map[string]any); !ok || body["password"] != "file:~/pw" {
		t.Errorf("nested body lost: %#v", a.Config["body"])
	}
	if f.Plugins["basic"].SHA256 != "3f1c"+strings.Repeat("0", 60) || f.Profiles["ci.prod"].Plugin.Path != "/opt/authx-plugin-jenkins" {
		t.Errorf("plugins = %+v / %+v", f.Plugins, f.Profiles["ci.prod"].Plugin)
	}
	s := f.Settings
	if s.RefreshSkew != 30*time.Second || s.LogLevel != "debug" || s.PluginStartTimeout != DefaultPluginStartTimeout || s.CallTimeout != DefaultCallTimeout ||
		s.CmdTimeout != DefaultCmdTimeout {
		t.Errorf("settings = %+v", s)
	}
}

func TestLoadTOML(t *testing.T) {
	f, err := Load(LoadOptions{Path: "testdata/good.toml", Getenv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	w := f.Profiles["work"]
	if w.Config["username"] != "alice" || w.Match[0] != "https://api.example.com/v1" || f.Settings.RefreshSkew != 30*time.Second {
		t.Errorf("work = %+v, settings %+v", w, f.Settings)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"typo top-level", "profile: {}\n", `profile: unknown key; did you mean "profiles"?`},
		{"typo profile key", "profiles:\n  w: {shceme: basic}\n", `profiles.w.shceme: unknown key; did you mean "scheme"?`},
		{"unknown far key", "profiles:\n  w: {scheme: basic, zzzzzz: 1}\n", `profiles.w.zzzzzz: unknown key (expected one of: scheme, match, url, config, plugin, env, store, store_fallback, cache, cache_ttl)`},
		{"unknown store", "profiles:\n  w: {scheme: basic, store: keychain}\n", `profiles.w.store: "keychain": expected file (the credential cache, the default), keyring (the OS keyring) or memory`},
		{"unknown fallback", "profiles:\n  w: {scheme: basic, store: keyring, store_fallback: retry}\n", `profiles.w.store_fallback: "retry": expected file`},
		{"unknown fallback of a shared store", "stores:\n  fleet: {type: redis, url: redis://127.0.0.1:6379, key: env:K}\nprofiles:\n  w: {scheme: basic, store: fleet, store_fallback: retry}\n", `profiles.w.store_fallback: "retry": expected file (this machine's file store when the keyring or a shared store cannot be used, the default) or fail (exit 17)`},
		{"cache not a bool", "profiles:\n  w: {scheme: basic, cache: yes please}\n", `profiles.w.cache: expected true or false`},
		{"bad cache_ttl", "cache_ttl: 10\nprofiles:\n  w: {scheme: basic}\n", `cache_ttl: expected a duration`},
		{"store not a string", "profiles:\n  w: {scheme: basic, store: [memory]}\n", `profiles.w.store: expected a string`},
		{"missing scheme", "profiles:\n  w: {match: https://a.example/}\n", `profiles.w.scheme: required`},
		{"scheme not a string", "profiles:\n  w: {scheme: [a]}\n", `profiles.w.scheme: expected a string`},
		{"bad duration", "refresh_skew: soon\n", `refresh_skew: "soon" is not a duration`},
		{"bad log level", "log_level: verbose\n", `log_level: "verbose" is not a log level (one of off, error, warn, info, debug, trace)`},
		{"bad match URL", "profiles:\n  w: {scheme: basic, match: ftp://x/}\n", `profiles.w.match[0]: expected an http:// or https:// URL`},
		{"match without host", "profiles:\n  w: {scheme: basic, match: [\"https:///x\"]}\n", `profiles.w.match[0]: the URL has no host`},
		{"bad url", "profiles:\n  w: {scheme: basic, url: nope}\n", `profiles.w.url: expected an http:// or https:// URL`},
		{"bad sha256", "profiles:\n  w: {scheme: basic, plugin: {sha256: abc}}\n", `profiles.w.plugin.sha256: expected 64 hex digits`},
		{"typo plugin key", "plugins:\n  basic: {pth: /x}\n", `plugins.basic.pth: unknown key; did you mean "path"?`},
		{"bad profile name", "profiles:\n  'a b': {scheme: basic}\n", `profiles.a b: a profile name is`},
		{"config not a map", "profiles:\n  w: {scheme: basic, config: 3}\n", `profiles.w.config: expected a map`},
		{"yaml syntax", "profiles:\n  w: {scheme: basic\n", `: line 1: did not find expected ',' or '}'`},
		{"a list, not a map", "- profiles\n- x\n", `: line 1: expected a map of settings (such as profiles:), found a list`},
		{"a duplicate key", "profiles: {}\nprofiles: {}\n", `: line 2: mapping key "profiles" already defined at line 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "config.yaml")
			os.WriteFile(p, []byte(tt.yaml), 0o600)
			_, err := Load(LoadOptions{Path: p, Getenv: noEnv})
			if err == nil {
				t.Fatal("no error")
			}
			if core.KindOf(err) != core.KindConfig || !strings.HasPrefix(err.Error(), "config "+p+": ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want a config error naming %s and containing %q", err, p, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error has several lines: %q", err)
			}
		})
	}
}

func TestLookupOrder(t *testing.T) {
	home := t.TempDir()
	env := map[string]string{"HOME": home}
	getenv := func(k string) string { return env[k] }
	// No file anywhere: an empty config, not an error.
	f, err := Load(LoadOptions{Getenv: getenv})
	if err != nil || f.Path != "" || len(f.Profiles) != 0 {
		t.Fatalf("no file: %+v, %v", f, err)
	}
	if f.Settings.CacheDir != filepath.Join(home, ".cache", "authx") {
		t.Errorf("cache dir = %s", f.Settings.CacheDir)
	}
	dir := filepath.Join(home, ".config", "authx")
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "config.toml"), []byte("[profiles.t]\nscheme = \"basic\"\n"), 0o600)
	if f, err := Load(LoadOptions{Getenv: getenv}); err != nil || f.Profiles["t"] == nil {
		t.Fatalf("toml fallback: %+v, %v", f, err)
	}
	os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("profiles: {y: {scheme: basic}}\n"), 0o600)
	if f, err := Load(LoadOptions{Getenv: getenv}); err != nil || f.Profiles["y"] == nil {
		t.Fatalf("yaml first: %+v, %v", f, err)
	}
	// AUTHX_CONFIG names a file that must exist.
	env["AUTHX_CONFIG"] = filepath.Join(home, "missing.yaml")
	if _, err := Load(LoadOptions{Getenv: getenv}); err == nil || !strings.Contains(err.Error(), "missing.yaml: no such file") {
		t.Errorf("missing AUTHX_CONFIG: %v", err)
	}
}

func TestSettingsPrecedence(t *testing.T) {
	env := map[string]string{"AUTHX_REFRESH_SKEW": "10s", "AUTHX_LOG": "info", "AUTHX_CACHE_DIR": "/c", "AUTHX_CMD_TIMEOUT": "5s"}
	f, err := Load(LoadOptions{Path: "testdata/good.yaml", Getenv: func(k string) string { return env[k] },
		Settings: map[string]string{"log_level": "trace"}})
	if err != nil {
		t.Fatal(err)
	}
	if f.Settings.RefreshSkew != 10*time.Second || f.Settings.LogLevel != "trace" || f.Settings.CacheDir != "/c" || f.Settings.CmdTimeout != 5*time.Second {
		t.Errorf("settings = %+v", f.Settings)
	}
	env["AUTHX_CALL_TIMEOUT"] = "forever"
	if _, err := Load(LoadOptions{Path: "testdata/good.yaml", Getenv: func(k string) string { return env[k] }}); err == nil ||
		!strings.Contains(err.Error(), `AUTHX_CALL_TIMEOUT: "forever" is not a duration`) {
		t.Errorf("bad env duration: %v", err)
	}
	delete(env, "AUTHX_CALL_TIMEOUT")
	if _, err := Load(LoadOptions{Path: "testdata/good.yaml", Getenv: func(k string) string { return env[k] },
		Settings: map[string]string{"log_level": "verbose"}}); core.KindOf(err) != core.KindConfig ||
		!strings.Contains(err.Error(), `--log-level: "verbose" is not a log level`) {
		t.Errorf("bad --log-level: %v", err)
	}
	env["AUTHX_LOG"] = "DEBUG" // any case
	if f, err := Load(LoadOptions{Path: "testdata/good.yaml", Getenv: func(k string) string { return env[k] }}); err != nil || f.Settings.LogLevel != "DEBUG" {
		t.Errorf("AUTHX_LOG=DEBUG: %v", err)
	}
}

func TestProfileForURL(t *testing.T) {
	f, err := Load(LoadOptions{Path: "testdata/good.yaml", Getenv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ url, want string }{
		{"https://api.example.com/v1/items", "work"},
		{"https://api.example.com/v1", "work"},
		{"https://api.example.com/v1?x=1", "work"},
		{"https://api.example.com/v10", "api-root"}, // boundary: /v1 does not match /v10
		{"https://api.example.com/", "api-root"},
		{"https://api.example.com", "api-root"},
		{"HTTPS://Api.Example.COM:443/other", "api-root"},
		{"https://api.example.com:8443/x", "work"},
		{"http://ci.example.com:8080/jenkins/job/x", "ci.prod"},
		{"http://ci.example.com:8080/jenkinsx", ""},
		{"http://api.example.com/v1", ""},            // scheme differs
		{"https://api.example.com.evil.test/v1", ""}, // host differs
		{"https://api.example.com:444/v1", ""},       // port differs
	}
	for _, tt := range tests {
		p, err := f.ProfileForURL(tt.url)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("%s matched %q, want no match", tt.url, p.Name)
		case tt.want != "" && (err != nil || p.Name != tt.want):
			t.Errorf("%s: %v, %v; want %q", tt.url, p, err, tt.want)
		}
	}
	_, err = f.ProfileForURL("https://user:hunter2@nomatch.example/?token=abc")
	if err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "abc") {
		t.Errorf("no-match error leaks URL secrets: %v", err)
	}
}

func TestSelect(t *testing.T) {
	f, err := Load(LoadOptions{Path: "testdata/good.yaml", Getenv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, url, env string
		want           string // the profile, or "" for none
		err            string // a part of the error, or "" for none
	}{
		{"work", "", "", "work", ""},
		{"", "https://api.example.com/v1/items", "", "work", ""},
		{"", "", "ci.prod", "ci.prod", ""},
		{"", "https://api.example.com/v1", "ci.prod", "work", ""}, // a URL beats the environment
		{"api-root", "https://api.example.com/v1/items", "", "api-root", ""},
		{"ci.prod", "http://ci.example.com:8080/jenkins/job/x/build", "", "ci.prod", ""},
		// A named profile must cover the URL the credential is for.
		{"work", "https://evil.example.com/v1?token=s3cret", "", "",
			`--url https://evil.example.com/v1 is outside profile "work"'s match prefixes (`},
		{"ci.prod", "http://ci.example.com:8080/jenkinsx", "", "", `outside profile "ci.prod"`},
		{"work", "https://user:s3cret@api.example.com:8443/%zz", "", "", "--url (invalid URL): expected an absolute http(s) URL"},
		{"work", "/v1/items", "", "", "expected an absolute http(s) URL"},
		{"", "", "", "", ""},
	}
	for _, tt := range tests {
		p, ok, err := f.Select(tt.name, tt.url, tt.env)
		got := ""
		if p != nil && err == nil {
			got = p.Name
		}
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if got != tt.want || ok != (tt.name+tt.url+tt.env != "") || (tt.err == "") != (err == nil) || !strings.Contains(msg, tt.err) ||
			strings.Contains(msg, "s3cret") || err != nil && core.KindOf(err) != core.KindConfig {
			t.Errorf("Select(%q, %q, %q) = %q, %v, %v; want %q, error %q", tt.name, tt.url, tt.env, got, ok, err, tt.want, tt.err)
		}
	}
}

func TestProfileLookupErrors(t *testing.T) {
	f, _ := Load(LoadOptions{Path: "testdata/good.yaml", Getenv: noEnv})
	if _, err := f.Profile("wrok"); err == nil || !strings.Contains(err.Error(), `did you mean "work"?`) {
		t.Errorf("typo: %v", err)
	}
	if _, err := f.Profile("zzzzzzz"); err == nil || !strings.Contains(err.Error(), "profiles: api-root, ci.prod, work") {
		t.Errorf("unknown: %v", err)
	}
}

func TestIdentity(t *testing.T) {
	f, _ := Load(LoadOptions{Path: "testdata/good.yaml", Getenv: noEnv})
	w := f.Profiles["work"]
	id := w.Identity()
	if string(id) != string(w.Identity()) {
		t.Fatal("identity is not deterministic")
	}
	if !strings.Contains(string(id), "env:PW") {
		t.Errorf("identity should hold the reference text: %s", id)
	}
	changed := *w
	changed.Config = map[string]any{"username": "alice", "password": "env:OTHER"}
	if string(changed.Identity()) == string(id) {
		t.Error("a changed reference kept the same identity")
	}
}

func TestAdHoc(t *testing.T) {
	p, err := AdHoc("jwt", []string{"username=alice", "body.password=env:PW", "body.remember=true", "eq=a=b"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"username": "alice", "eq": "a=b", "body": map[string]any{"password": "env:PW", "remember": true}}
	if p.Scheme != "jwt" || !reflect.DeepEqual(p.Config, want) {
		t.Errorf("AdHoc = %+v", p.Config)
	}
	if _, err := AdHoc("basic", []string{"novalue"}); err == nil || !strings.Contains(err.Error(), `--set "novalue": expected key=value`) {
		t.Errorf("malformed --set: %v", err)
	}
}

func TestTOMLErrorHasItsPosition(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(p, []byte("log_level = \"info\"\ncall_timeout = 12x3\n"), 0o600)
	_, err := Load(LoadOptions{Path: p, Getenv: noEnv})
	if core.KindOf(err) != core.KindConfig || err.Error() != "config "+p+": line 2, column 18: expected newline but got U+0078 'x'" {
		t.Errorf("error %v", err)
	}
}

// lock_timeout: default, file, environment.
func TestLockTimeoutSetting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	tests := []struct {
		file, env string
		want      time.Duration
	}{
		{"", "", DefaultLockTimeout},
		{"lock_timeout: 5s\n", "", 5 * time.Second},
		{"lock_timeout: 5s\n", "300ms", 300 * time.Millisecond},
	}
	for _, tt := range tests {
		os.WriteFile(path, []byte(tt.file), 0o600)
		f, err := Load(LoadOptions{Path: path, Getenv: func(k string) string {
			if k == "AUTHX_LOCK_TIMEOUT" {
				return tt.env
			}
			return ""
		}})
		if err != nil || f.Settings.LockTimeout != tt.want {
			t.Errorf("file %q env %q: %v, %v; want %v", tt.file, tt.env, f.Settings.LockTimeout, err, tt.want)
		}
	}
}

func TestStore(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"profiles:\n  w: {scheme: basic}\n", StoreFile},
		{"profiles:\n  w: {scheme: basic, store: file}\n", StoreFile},
		{"profiles:\n  w: {scheme: basic, store: memory}\n", StoreMemory},
	}
	for _, tt := range tests {
		p := filepath.Join(t.TempDir(), "config.yaml")
		os.WriteFile(p, []byte(tt.yaml), 0o600)
		f, err := Load(LoadOptions{Path: p, Getenv: noEnv})
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Profiles["w"].Store; got != tt.want {
			t.Errorf("%q: store %q, want %q", tt.yaml, got, tt.want)
		}
	}
}
