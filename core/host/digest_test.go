package host

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authx/authx/core"
)

// pluginTree writes a small script plugin with a module beside it.
func pluginTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"authx-plugin-py":          "#!/bin/sh\nexit 1\n",
		"lib/mod.py":               "X = 1\n",
		"node_modules/a/index.js":  "module.exports = 1\n",
		"node_modules/.bin/placeh": "",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(dir, "authx-plugin-py"), 0o755)
	os.Symlink("../a/index.js", filepath.Join(dir, "node_modules/.bin/a")) // inside: allowed
	return dir
}

// TestDirDigest: every change to a plugin's directory changes its digest;
// what it could not cover is refused.
func TestDirDigest(t *testing.T) {
	base := pluginTree(t)
	want, n, err := DirDigest(base)
	if err != nil || n != 9 {
		t.Fatalf("DirDigest = %s, %d, %v", want, n, err)
	}
	if again, _, _ := DirDigest(base); again != want {
		t.Fatal("not deterministic")
	}
	changes := []struct {
		name   string
		change func(dir string) error
		kind   core.Kind // 0: a different digest
	}{
		{"module content", func(d string) error { return os.WriteFile(filepath.Join(d, "lib/mod.py"), []byte("X = 2\n"), 0o644) }, 0},
		{"module mode", func(d string) error { return os.Chmod(filepath.Join(d, "lib/mod.py"), 0o755) }, 0},
		{"new file", func(d string) error { return os.WriteFile(filepath.Join(d, "lib/evil.pth"), nil, 0o644) }, 0},
		{"new dir", func(d string) error { return os.Mkdir(filepath.Join(d, "__pycache__"), 0o755) }, 0},
		{"renamed", func(d string) error {
			return os.Rename(filepath.Join(d, "lib/mod.py"), filepath.Join(d, "lib/mod2.py"))
		}, 0},
		{"link retargeted", func(d string) error {
			os.Remove(filepath.Join(d, "node_modules/.bin/a"))
			return os.Symlink("../../lib/mod.py", filepath.Join(d, "node_modules/.bin/a"))
		}, 0},
		{"link outside", func(d string) error { return os.Symlink("/etc/passwd", filepath.Join(d, "lib/out")) }, core.KindPluginIntegrity},
		{"dangling link", func(d string) error { return os.Symlink("nowhere", filepath.Join(d, "lib/dangling")) }, core.KindPluginIntegrity},
		{"fifo", func(d string) error { return syscall.Mkfifo(filepath.Join(d, "lib/fifo"), 0o600) }, core.KindPluginIntegrity},
		{"control char", func(d string) error { return os.WriteFile(filepath.Join(d, "lib/a\nb"), nil, 0o644) }, core.KindPluginIntegrity},
	}
	for _, tt := range changes {
		dir := pluginTree(t)
		if got, _, _ := DirDigest(dir); got != want {
			t.Fatalf("%s: a fresh tree has another digest", tt.name)
		}
		if err := tt.change(dir); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got, _, err := DirDigest(dir)
		switch {
		case tt.kind == 0 && (err != nil || got == want):
			t.Errorf("%s: digest %s, %v; want another digest", tt.name, got, err)
		case tt.kind != 0 && (core.KindOf(err) != tt.kind || strings.Contains(err.Error(), "\n")):
			t.Errorf("%s: %v, want a one-line %v", tt.name, err, tt.kind)
		}
	}
}

// TestVerifyDirPin: a dir pin covers the modules beside the entry script
// (reached through a symbolic link), and a changed module is refused.
func TestVerifyDirPin(t *testing.T) {
	dir := pluginTree(t)
	links := t.TempDir()
	link := filepath.Join(links, "authx-plugin-py")
	if err := os.Symlink(filepath.Join(dir, "authx-plugin-py"), link); err != nil {
		t.Fatal(err)
	}
	sum, _, err := DirDigest(dir)
	if err != nil {
		t.Fatal(err)
	}
	file, _ := FileDigest(link)
	spec := Spec{Scheme: "py", SHA256: sum, PinDir: true}
	if _, err := verify(link, spec); err != nil {
		t.Fatalf("matching dir pin: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "lib/mod.py"), []byte("import os; os.system('evil')\n"), 0o644)
	if _, err := verify(link, spec); core.KindOf(err) != core.KindPluginIntegrity || !strings.Contains(err.Error(), "plugin directory "+dir) {
		t.Errorf("changed module: %v", err)
	}
	if _, err := verify(link, Spec{Scheme: "py", SHA256: file}); err != nil {
		t.Errorf("a file pin covers the entry script only: %v", err)
	}
}

// TestCheckStarted: a plugin file swapped or rewritten between its pin
// check and its start is refused; the very file hashed passes.
func TestCheckStarted(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	selfInfo, _ := os.Stat(self)
	dir := t.TempDir()
	script := filepath.Join(dir, "authx-plugin-s")
	os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755)
	native := filepath.Join(dir, "authx-plugin-n")
	copyTo := func(dst string) {
		data, err := os.ReadFile(self)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(dst, data, 0o755)
	}
	copyTo(native)
	stat := func(p string) os.FileInfo {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	tests := []struct {
		name   string
		path   string
		hashed func() os.FileInfo // stat at check time, then the change
		ok     bool
	}{
		{"unchanged script", script, func() os.FileInfo { return stat(script) }, true},
		{"the running binary", self, func() os.FileInfo { return selfInfo }, true},
		{"script swapped", script, func() os.FileInfo {
			fi := stat(script)
			os.WriteFile(script+".new", []byte("#!/bin/sh\nevil\n"), 0o755)
			os.Rename(script+".new", script)
			return fi
		}, false},
		{"script rewritten in place, same size", script, func() os.FileInfo {
			fi := stat(script)
			time.Sleep(10 * time.Millisecond)
			os.WriteFile(script, []byte("#!/bin/sh\nexit 1\n"), 0o755)
			return fi
		}, false},
		// The process runs another image than the binary hashed (this test
		// binary, not its copy): a swap and a swap back around the exec.
		{"native binary not the process's image", native, func() os.FileInfo { return stat(native) }, false},
	}
	_, noProc := os.Stat("/proc/self/exe")
	for _, tt := range tests {
		if tt.path == native && noProc != nil {
			continue // the process image is checked through /proc
		}
		err := checkStarted(tt.path, tt.hashed(), os.Getpid())
		if (err == nil) != tt.ok || err != nil && core.KindOf(err) != core.KindPluginIntegrity {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}
