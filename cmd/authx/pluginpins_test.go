package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// markerPlugin writes a plugin script into dir that creates marker when
// run, and returns the marker's path.
func markerPlugin(t *testing.T, dir, scheme string) string {
	t.Helper()
	marker := filepath.Join(dir, scheme+".ran")
	script := "#!/bin/sh\ntouch " + marker + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(dir, "authx-plugin-"+scheme), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return marker
}

// TestPinMismatchIsNotRun: `plugins list` and `plugins describe` check a
// plugin's pin before running it, and say so.
func TestPinMismatchIsNotRun(t *testing.T) {
	plugins := t.TempDir()
	marker := markerPlugin(t, plugins, "marked")
	byProfile := markerPlugin(t, plugins, "byprofile") // pinned by a profile only
	e := newEnv(t).set("AUTHX_PLUGIN_PATH=" + plugins)
	e.config("plugins:\n  marked: {sha256: " + strings.Repeat("ab", 32) + "}\n" +
		"profiles:\n  q: {scheme: byprofile, plugin: {sha256: " + strings.Repeat("cd", 32) + "}}\n")
	tests := []struct {
		args []string
		code int
		want string // in stdout for list, stderr for describe
	}{
		{[]string{"plugins", "list"}, 0, "pin mismatch: plugin " + filepath.Join(plugins, "authx-plugin-marked") + " has sha256 "},
		{[]string{"plugins", "list", "--json"}, 0, `"status": "pin mismatch"`},
		{[]string{"plugins", "list"}, 0, "pin mismatch: plugin " + filepath.Join(plugins, "authx-plugin-byprofile") + " has sha256 "},
		{[]string{"plugins", "describe", "marked"}, 9, "but the pin (plugins.marked.sha256 in "},
		{[]string{"plugins", "describe", "byprofile"}, 9, "but the pin (profiles.q.plugin.sha256 in "},
	}
	for _, tt := range tests {
		r := e.run(tt.args...)
		out := r.stdout
		if tt.code != 0 {
			out = r.stderr
			if strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("%v: stderr %q, want one line", tt.args, r.stderr)
			}
		}
		if r.code != tt.code || !strings.Contains(out, tt.want) {
			t.Errorf("%v: %+v, want exit %d and %q", tt.args, r, tt.code, tt.want)
		}
		for _, m := range []string{marker, byProfile} {
			if _, err := os.Stat(m); err == nil {
				t.Fatalf("%v ran a plugin whose pin does not match", tt.args)
			}
		}
	}
	// The other plugins are still listed as usual.
	if r := e.run("plugins", "list"); !strings.Contains(r.stdout, "basic") {
		t.Errorf("list: %+v", r)
	}
}

// TestListShowsPluginsConfiguredByPath: a plugin the config names by path
// outside the plugin directories runs too, so plugins list shows it, its
// pin checked first (not run when it does not match), and a matching one
// described.
func TestListShowsPluginsConfiguredByPath(t *testing.T) {
	elsewhere := t.TempDir()
	marker := markerPlugin(t, elsewhere, "far")
	e := newEnv(t)
	e.config("plugins:\n  far: {path: " + filepath.Join(elsewhere, "authx-plugin-far") + ", sha256: " + strings.Repeat("ab", 32) + "}\n")
	r := e.run("plugins", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "pin mismatch: plugin "+filepath.Join(elsewhere, "authx-plugin-far")) {
		t.Errorf("list: %+v; want the configured plugin with its pin mismatch", r)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("plugins list ran a plugin whose pin does not match")
	}
	basic, err := filepath.Abs(filepath.Join(binDir, "authx-plugin-basic"))
	if err != nil {
		t.Fatal(err)
	}
	copy := filepath.Join(elsewhere, "authx-plugin-basic")
	data, _ := os.ReadFile(basic)
	os.WriteFile(copy, data, 0o755)
	e.config("plugins:\n  basic: {path: " + copy + "}\n")
	if r := e.run("plugins", "list"); r.code != 0 || !strings.Contains(r.stdout, copy) {
		t.Errorf("list: %+v; want the configured copy of basic listed", r)
	}
}

// TestPluginDiesBeforeHandshake: its exit status and last stderr line are
// in the one-line error, exit 6.
func TestPluginDiesBeforeHandshake(t *testing.T) {
	e := newEnv(t).set("AUTHX_PLUGIN_PATH=" + filepath.Join("..", "..", "core", "host", "testdata"))
	e.config("profiles:\n  p: {scheme: dies}\n")
	r := e.run("token", "p")
	want := "authx-plugin-dies exited before the plugin handshake (exit status 3): fatal: missing module foo\n"
	if r.code != 6 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, want) {
		t.Errorf("%+v, want exit 6 and one line ending in %q", r, want)
	}
}

// TestTopLevelPinIsPartOfTheCacheIdentity: a credential cached by a pinned
// plugin is not served once the pin changes: the new pin is checked first.
func TestTopLevelPinIsPartOfTheCacheIdentity(t *testing.T) {
	e := newEnv(t).set("PW=pw")
	config := "plugins:\n  basic: {sha256: %s}\nprofiles:\n  p:\n    scheme: basic\n    config: {username: alice, password: env:PW}\n"
	e.config(fmt.Sprintf(config, sha256File(t, filepath.Join(binDir, "authx-plugin-basic"))))
	if r := e.run("token", "p"); r.code != 0 || r.stdout != "YWxpY2U6cHc=\n" {
		t.Fatalf("pinned: %+v", r)
	}
	e.config(fmt.Sprintf(config, strings.Repeat("ab", 32)))
	if r := e.run("token", "p"); r.code != 9 || r.stdout != "" || !strings.Contains(r.stderr, "plugins.basic.sha256 in ") {
		t.Errorf("after the pin changed: %+v, want exit 9 (the cached credential was served)", r)
	}
}

// TestNoCoreFiles: authx runs, and starts everything, with a core size
// limit of 0, soft and hard; on Linux authx itself is not dumpable, and the
// command it runs is (the kernel resets the flag on exec), so it can still
// read its own /proc entries.
func TestNoCoreFiles(t *testing.T) {
	if _, err := os.Stat("/proc/self/limits"); err != nil {
		t.Skip("no /proc")
	}
	e := newEnv(t).set("PW=pw")
	e.config("profiles:\n  p:\n    scheme: basic\n    config: {username: alice, password: env:PW}\n")
	r := e.run("exec", "p", "--", "sh", "-c", "grep 'Max core file size' /proc/self/limits; cat /proc/self/fd/0 </dev/null")
	f := strings.Fields(r.stdout)
	if r.code != 0 || len(f) < 6 || f[4] != "0" || f[5] != "0" {
		t.Errorf("authx exec child: %+v, want a core size limit of 0 0", r)
	}
}

// TestDirectoryPin: `authx plugins pin --dir` pins every file beside a
// plugin; with `pin: dir` a changed file there is refused (exit 9).
func TestDirectoryPin(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "authx-plugin-basic")
	copyFile(t, filepath.Join(binDir, "authx-plugin-basic"), exe)
	os.Chmod(exe, 0o755)
	module := filepath.Join(dir, "module.py")
	os.WriteFile(module, []byte("X = 1\n"), 0o644)
	e := newEnv(t).set("PW=pw")

	r := e.run("plugins", "pin", exe)
	if r.code != 0 || r.stdout != sha256File(t, exe)+"\n" {
		t.Fatalf("plugins pin: %+v", r)
	}
	for _, args := range [][]string{{"plugins", "pin", dir}, {"plugins", "pin", "--dir", dir}} {
		if r := e.run(args...); r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "is a directory: give the plugin's executable") {
			t.Errorf("%v: %+v; want exit 2 asking for the executable", args, r)
		}
	}
	r = e.run("plugins", "pin", "--dir", exe)
	sum := strings.TrimSpace(r.stdout)
	if r.code != 0 || len(sum) != 64 || sum == sha256File(t, exe) || !strings.Contains(r.stderr, "covers 2 entries under "+dir) {
		t.Fatalf("plugins pin --dir: %+v", r)
	}
	config := "profiles:\n  p:\n    scheme: basic\n    plugin: {path: " + exe + ", sha256: " + sum + ", pin: %s}\n    config: {username: alice, password: env:PW}\n"
	e.config(fmt.Sprintf(config, "dir"))
	if r := e.run("token", "p"); r.code != 0 || r.stdout != "YWxpY2U6cHc=\n" {
		t.Fatalf("dir pin: %+v", r)
	}
	os.WriteFile(module, []byte("X = 2\n"), 0o644)
	e.run("logout", "p")
	if r := e.run("token", "p"); r.code != 9 || !strings.Contains(r.stderr, "plugin directory "+dir+" has sha256 ") {
		t.Errorf("changed module: %+v, want exit 9", r)
	}
	e.config(fmt.Sprintf(config, "tree"))
	if r := e.run("token", "p"); r.code != 2 || !strings.Contains(r.stderr, "profiles.p.plugin.pin") {
		t.Errorf("pin: tree: %+v, want exit 2", r)
	}
}

// TestKilledAuthxSocketDirIsRemoved: the plugin socket directory a killed
// authx leaves is removed by the next authx that starts a plugin.
func TestKilledAuthxSocketDirIsRemoved(t *testing.T) {
	tmp, err := os.MkdirTemp("/tmp", "ax") // short: it holds the sockets
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	srv := newTokenServer(t, 3600)
	e := newEnv(t).set("TK_SECRET=right", "TMPDIR="+tmp)
	e.config(testkitConfig(srv.URL, "      hang: 60s\n"))
	c := e.cmd("token", "tk")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	waitForPlugin(t, c)
	left, _ := filepath.Glob(filepath.Join(tmp, "plugin-dir*", "authx-host.pid"))
	c.Process.Kill() // SIGKILL: authx gets no chance to clean up
	c.Wait()
	if len(left) != 1 {
		t.Fatalf("socket dirs of the killed authx: %v", left)
	}
	e.config(testkitConfig(srv.URL, ""))
	if r := e.run("token", "tk"); r.code != 0 {
		t.Fatalf("token: %+v", r)
	}
	if _, err := os.Stat(filepath.Dir(left[0])); err == nil {
		t.Errorf("the killed authx's socket dir %s is still there", filepath.Dir(left[0]))
	}
	noOrphans(t)
}
