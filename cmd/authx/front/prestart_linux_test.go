package main

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/authx/authx/core/pluginproc"
)

// On a miss the front starts the profile's plugin before exec'ing
// authx-cli, and when that exec fails it kills and reaps the plugin and
// removes its socket directory: nothing is left behind. Nothing is started
// when authx-cli would not start that very plugin unchecked.
func TestPrestart(t *testing.T) {
	dir := t.TempDir()
	plugin := filepath.Join(dir, "authx-plugin-basic")
	if out, err := exec.Command("go", "build", "-o", plugin, "../../../plugins/basic/cmd/authx-plugin-basic").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	script := filepath.Join(dir, "authx-plugin-script")
	os.WriteFile(script, []byte("#!/bin/sh\nexec "+plugin+"\n"), 0o755)
	elsewhere := filepath.Join(t.TempDir(), "authx-plugin-basic")
	topPinned := filepath.Join(dir, "authx-plugin-pinnedbytop") // on the search path, but pinned by plugins:
	for _, copy := range []string{elsewhere, topPinned} {
		if data, err := os.ReadFile(plugin); err != nil || os.WriteFile(copy, data, 0o755) != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(`profiles:
  work: {scheme: basic, config: {username: a, password: env:PW}}
  pinned: {scheme: basic, plugin: {sha256: "0000000000000000000000000000000000000000000000000000000000000000"}, config: {username: a}}
  script: {scheme: script, config: {}}
  mine: {scheme: basic, plugin: {path: `+elsewhere+`}, config: {username: a}}
  shared: {scheme: pinnedbytop, config: {}}
  fleet: {scheme: basic, store: fleet, config: {username: a, password: env:PW}}
stores:
  fleet: {type: redis, url: "redis://127.0.0.1:1", key: env:K}
plugins:
  pinnedbytop: {sha256: "1111111111111111111111111111111111111111111111111111111111111111"}
`), 0o600)
	t.Setenv("AUTHX_PLUGIN_PATH", dir)
	t.Setenv("AUTHX_CACHE_DIR", filepath.Join(dir, "cache"))
	saveSnapshot(t, cfg, os.Getenv) // the front reads authx-cli's snapshot, not the config
	tests := []struct {
		name  string
		args  []string
		env   []string
		start bool
	}{
		{"cold token", []string{"--config", cfg, "token", "work"}, nil, true},
		{"cold header", []string{"--config", cfg, "header", "work", "-f", "json"}, nil, true},
		{"pinned plugin", []string{"--config", cfg, "token", "pinned"}, nil, false},
		{"pinned by the top-level plugins: entry", []string{"--config", cfg, "token", "shared"}, nil, false},
		{"the profile's own plugin path", []string{"--config", cfg, "token", "mine"}, nil, true},
		{"a shared store's profile", []string{"--config", cfg, "token", "fleet"}, nil, false},
		{"script plugin", []string{"--config", cfg, "token", "script"}, nil, false},
		{"another command", []string{"--config", cfg, "login", "work"}, nil, false},
		{"renew", []string{"--config", cfg, "token", "work", "--renew"}, nil, false},
		{"logging", []string{"--config", cfg, "token", "work"}, []string{"AUTHX_LOG=debug"}, false},
		{"an agent", []string{"--config", cfg, "token", "work"}, []string{"AUTHX_AGENT_SOCK=/nonexistent"}, false},
	}
	stale := pluginproc.HandoverEnv + "=1 2 3 4 0 0 0 0 0 \"/tmp/plugin-dir1\" \"/p\"" // inherited: never passed on
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, kv := range tt.env {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			env, abort := prestart(filepath.Join(dir, "no-authx-cli"), tt.args, []string{"X=1", stale})
			var h pluginproc.Handover
			var err error
			if len(env) == 2 {
				if h, err = pluginproc.ParseHandover(strings.TrimPrefix(env[1], pluginproc.HandoverEnv+"=")); err != nil {
					t.Fatal(err)
				}
			}
			if slices.Contains(env, stale) {
				t.Errorf("an inherited %s is passed on", pluginproc.HandoverEnv)
			}
			if started := h.PID != 0; started != tt.start {
				t.Fatalf("plugin started %v, want %v (env %q)", started, tt.start, env)
			}
			if !tt.start {
				return
			}
			want := plugin
			if tt.name == "the profile's own plugin path" {
				want = elsewhere
			}
			if exe, err := os.Readlink("/proc/" + itoa(h.PID) + "/exe"); err != nil || exe != want {
				t.Errorf("process %d runs %q, %v; want %s", h.PID, exe, err, want)
			}
			if code := execCLI(filepath.Join(dir, "no-authx-cli"), tt.args, env); code != 8 {
				t.Errorf("exec of a missing authx-cli: %d", code)
			}
			abort()
			if err := syscall.Kill(h.PID, 0); !errors.Is(err, syscall.ESRCH) { // a zombie would answer
				t.Errorf("plugin %d still there after a failed exec: %v", h.PID, err)
			}
			if _, err := os.Stat(h.SocketDir); !os.IsNotExist(err) {
				t.Errorf("socket directory %s left: %v", h.SocketDir, err)
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// The front starts a plugin only where authx-cli will look for it (beside
// authx-cli's real file, not the front's or a symlink's), never one named
// by a relative path, and not while SIGINT or SIGHUP is ignored (the
// plugin would inherit that): each would be a process authx-cli does not
// adopt (found by the hostile review).
func TestPrestartOnlyWhatTheCLIWouldStart(t *testing.T) {
	dir := t.TempDir()
	plugin := filepath.Join(dir, "build", "authx-plugin-basic")
	if out, err := exec.Command("go", "build", "-o", plugin, "../../../plugins/basic/cmd/authx-plugin-basic").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data, err := os.ReadFile(plugin)
	if err != nil {
		t.Fatal(err)
	}
	real, link := filepath.Join(dir, "real"), filepath.Join(dir, "link")
	for _, p := range []string{real, link} {
		os.Mkdir(p, 0o755)
		if err := os.WriteFile(filepath.Join(p, "authx-plugin-besidecli"), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(real, "authx-cli"), []byte("#!/bin/sh\n"), 0o755)
	if err := os.Symlink(filepath.Join(real, "authx-cli"), filepath.Join(link, "authx-cli")); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(`profiles:
  beside: {scheme: besidecli, config: {}}
  relative: {scheme: basic, plugin: {path: build/authx-plugin-basic}, config: {}}
`), 0o600)
	t.Setenv("AUTHX_PLUGIN_PATH", "")
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	t.Setenv("AUTHX_CACHE_DIR", filepath.Join(dir, "cache"))
	t.Chdir(dir)
	saveSnapshot(t, cfg, os.Getenv)
	cli := filepath.Join(link, "authx-cli")
	start := func(profile string) int {
		env, abort := prestart(cli, []string{"--config", cfg, "token", profile}, nil)
		defer abort()
		if len(env) == 0 {
			return 0
		}
		h, err := pluginproc.ParseHandover(strings.TrimPrefix(env[0], pluginproc.HandoverEnv+"="))
		if err != nil {
			t.Fatal(err)
		}
		exe, _ := os.Readlink("/proc/" + itoa(h.PID) + "/exe")
		if want := filepath.Join(real, "authx-plugin-besidecli"); exe != want {
			t.Errorf("the front started %s, authx-cli would start %s", exe, want)
		}
		return h.PID
	}
	if start("beside") == 0 {
		t.Error("the plugin beside authx-cli's real file was not started")
	}
	if pid := start("relative"); pid != 0 {
		t.Error("a plugin named by a relative path was started")
	}
	signal.Ignore(syscall.SIGHUP)
	defer signal.Reset(syscall.SIGHUP)
	if pid := start("beside"); pid != 0 {
		t.Error("a plugin was started while SIGHUP is ignored")
	}
}
