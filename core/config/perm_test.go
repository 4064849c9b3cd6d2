//go:build unix

package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authx/authx/core"
)

// TestCmdConfigMustNotBeWritableByOthers: like ssh's "Bad owner or
// permissions", a config file holding a cmd: reference that another user
// could edit (group- or world-writable) is refused with one line naming the
// file, its mode and the fix, and so is one naming a plugin's path (an
// executable of its choosing); without either it is read.
func TestCmdConfigMustNotBeWritableByOthers(t *testing.T) {
	const withCmd = "profiles:\n  p:\n    scheme: basic\n    config:\n      password: cmd:pass show p\n"
	const withoutCmd = "profiles:\n  p:\n    scheme: basic\n    config:\n      password: env:PW\n"
	const nestedCmd = "profiles = {p = {scheme = \"jwt\", config = {body = {list = [\"x\", \"cmd:id\"]}}}}\n"
	const pluginPath = "plugins:\n  basic: {path: /tmp/evil/authx-plugin-basic}\nprofiles:\n  p: {scheme: basic, config: {password: env:PW}}\n"
	const profilePluginPath = "profiles:\n  p: {scheme: basic, plugin: {path: /tmp/evil/x}, config: {password: env:PW}}\n"
	const pinOnly = "plugins:\n  basic: {sha256: " + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" + "}\nprofiles:\n  p: {scheme: basic, config: {password: env:PW}}\n"
	tests := []struct {
		name, content string
		mode          os.FileMode
		err           string // "" for none
		what          string // what the message says the file holds
	}{
		{"a.yaml", withCmd, 0o600, "", ""},
		{"b.yaml", withCmd, 0o644, "", ""},
		{"c.yaml", withCmd, 0o664, "mode 0664 lets other users edit it", ""},
		{"d.yaml", withCmd, 0o622, "mode 0622 lets other users edit it", ""},
		{"e.yaml", withCmd, 0o666, "mode 0666", ""},
		{"f.toml", nestedCmd, 0o606, "mode 0606", ""},
		{"g.yaml", withoutCmd, 0o666, "", ""},
		{"h.yaml", pluginPath, 0o666, "mode 0666", "plugin paths"},
		{"i.yaml", profilePluginPath, 0o664, "mode 0664", "plugin paths"},
		{"j.yaml", pluginPath, 0o644, "", ""},
		{"k.yaml", pinOnly, 0o666, "", ""},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		p := filepath.Join(dir, tt.name)
		os.WriteFile(p, []byte(tt.content), 0o600)
		os.Chmod(p, tt.mode)
		_, err := Load(LoadOptions{Path: p, Getenv: noEnv})
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if tt.err == "" {
			if err != nil {
				t.Errorf("%s (%04o): %v", tt.name, tt.mode, err)
			}
			continue
		}
		what := tt.what
		if what == "" {
			what = "cmd: references"
		}
		want := fmt.Sprintf("config %s: %s and it holds %s, which authx runs; fix it with: chmod go-w %s", p, tt.err, what, p)
		if core.KindOf(err) != core.KindConfig || strings.Contains(msg, "\n") || !strings.HasPrefix(want, "config "+p+": "+tt.err) ||
			!strings.Contains(msg, tt.err) || !strings.HasSuffix(msg, "chmod go-w "+p) || !strings.Contains(msg, "holds "+what) {
			t.Errorf("%s (%04o): %v; want like %q", tt.name, tt.mode, err, want)
		}
	}
}

// TestCmdConfigOwner: a config file holding cmd: references must be owned
// by the user running authx or by root.
func TestCmdConfigOwner(t *testing.T) {
	tests := []struct {
		owner, me uint32
		ok        bool
	}{
		{1000, 1000, true},
		{0, 1000, true},
		{0, 0, true},
		{1001, 1000, false},
		{1000, 0, false}, // root runs no command a user wrote in
	}
	for _, tt := range tests {
		err := checkOwner("/c.yaml", "cmd: references", tt.owner, tt.me)
		if (err == nil) != tt.ok {
			t.Errorf("owner %d, me %d: %v", tt.owner, tt.me, err)
		}
		if err != nil && (core.KindOf(err) != core.KindConfig ||
			err.Error() != fmt.Sprintf("config /c.yaml: owned by uid %d, not by you (uid %d) or root, and it holds cmd: references, which authx runs; use a copy of your own", tt.owner, tt.me)) {
			t.Errorf("owner %d, me %d: %v", tt.owner, tt.me, err)
		}
	}
	if os.Geteuid() != 0 {
		return
	}
	// As root, for real: a file another user owns.
	p := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(p, []byte("profiles: {p: {scheme: basic, config: {password: 'cmd:id'}}}\n"), 0o600)
	if err := os.Chown(p, 4242, 4242); err != nil {
		t.Skip(err)
	}
	if _, err := Load(LoadOptions{Path: p, Getenv: noEnv}); err == nil || !strings.Contains(err.Error(), "owned by uid 4242, not by you (uid 0)") {
		t.Errorf("a config owned by another user: %v", err)
	}
}

// TestConfigReadIsBounded: the config file is read up to 1 MiB, and a
// named pipe without a writer does not hang.
func TestConfigReadIsBounded(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.yaml")
	os.WriteFile(big, []byte("# "+strings.Repeat("x", 1<<20)+"\n"), 0o600)
	if _, err := Load(LoadOptions{Path: big, Getenv: noEnv}); core.KindOf(err) != core.KindConfig || !strings.Contains(err.Error(), "config "+big+": larger than 1 MiB") {
		t.Errorf("big config: %v", err)
	}
	if _, err := Load(LoadOptions{Path: "/dev/zero", Getenv: noEnv}); core.KindOf(err) != core.KindConfig || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("/dev/zero: %v", err)
	}
	fifo := filepath.Join(t.TempDir(), "config.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := Load(LoadOptions{Path: fifo, Getenv: noEnv}); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("a named pipe without a writer: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Load waits for a named pipe's writer")
	}
}
