package host

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core"
)

func writeExe(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestLocate(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	writeExe(t, filepath.Join(b, "authx-plugin-basic"))
	writeExe(t, filepath.Join(a, "authx-plugin-jwt"))
	writeExe(t, filepath.Join(b, "authx-plugin-jwt"))
	os.WriteFile(filepath.Join(a, "authx-plugin-basic"), []byte("not executable"), 0o644)
	os.MkdirAll(filepath.Join(a, "authx-plugin-dir"), 0o755)
	h := New(Options{SearchPath: []string{a, b}})
	tests := []struct {
		spec Spec
		want string
		kind core.Kind
	}{
		{Spec{Scheme: "jwt"}, filepath.Join(a, "authx-plugin-jwt"), 0},
		{Spec{Scheme: "basic"}, filepath.Join(b, "authx-plugin-basic"), 0}, // a's is not executable
		{Spec{Scheme: "dir"}, "", core.KindPluginNotFound},
		{Spec{Scheme: "nosuch"}, "", core.KindPluginNotFound},
		{Spec{Scheme: "jwt", Path: filepath.Join(b, "authx-plugin-jwt")}, filepath.Join(b, "authx-plugin-jwt"), 0},
		{Spec{Scheme: "jwt", Path: filepath.Join(b, "missing")}, "", core.KindPluginNotFound},
		{Spec{Scheme: "../../bin/sh"}, "", core.KindConfig},
		{Spec{Scheme: "Basic"}, "", core.KindConfig},
		{Spec{Scheme: ""}, "", core.KindConfig},
	}
	for _, tt := range tests {
		got, err := h.Locate(tt.spec)
		if tt.kind == 0 && (err != nil || got != tt.want) {
			t.Errorf("Locate(%+v) = %q, %v; want %q", tt.spec, got, err, tt.want)
		}
		if tt.kind != 0 && core.KindOf(err) != tt.kind {
			t.Errorf("Locate(%+v) = %q, %v; want kind %v", tt.spec, got, err, tt.kind)
		}
	}
	_, err := h.Locate(Spec{Scheme: "nosuch"})
	if !strings.Contains(err.Error(), a+", "+b) || !strings.Contains(err.Error(), "AUTHX_PLUGIN_PATH") {
		t.Errorf("not-found message should list the search path and the fix: %v", err)
	}
	if got := h.Installed(); len(got) != 2 || got[0].Scheme != "jwt" || got[0].Path != filepath.Join(a, "authx-plugin-jwt") || got[1].Scheme != "basic" {
		t.Errorf("Installed = %+v", got)
	}
}

func TestDefaultSearchPath(t *testing.T) {
	env := map[string]string{"AUTHX_PLUGIN_PATH": "/p1" + string(os.PathListSeparator) + "/p2", "HOME": "/home/u"}
	got := DefaultSearchPath(func(k string) string { return env[k] })
	exe, _ := os.Executable()
	exe, _ = filepath.EvalSymlinks(exe)
	want := []string{"/p1", "/p2", "/home/u/.local/share/authx/plugins", filepath.Dir(exe)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("DefaultSearchPath = %v, want %v", got, want)
	}
	env["XDG_DATA_HOME"] = "/data"
	if got := DefaultSearchPath(func(k string) string { return env[k] }); got[2] != "/data/authx/plugins" {
		t.Errorf("XDG_DATA_HOME ignored: %v", got)
	}
}

func TestVerify(t *testing.T) {
	p := filepath.Join(t.TempDir(), "authx-plugin-x")
	writeExe(t, p)
	sum := fmt.Sprintf("%x", sha256.Sum256([]byte("#!/bin/sh\n")))
	if _, err := verify(p, Spec{SHA256: strings.ToUpper(sum)}); err != nil {
		t.Errorf("matching pin: %v", err)
	}
	_, err := verify(p, Spec{SHA256: strings.Repeat("0", 64), PinSource: "plugins.x.sha256 in /c.yaml"})
	if core.KindOf(err) != core.KindPluginIntegrity || !strings.Contains(err.Error(), sum) || !strings.Contains(err.Error(), "plugins.x.sha256 in /c.yaml") {
		t.Errorf("mismatch: %v", err)
	}
}

// buildPlugin builds a plugin main package for a test.
func buildPlugin(t *testing.T, pkg, name string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func TestProtocolMajorMismatch(t *testing.T) {
	path := buildPlugin(t, "./testdata/v2plugin", "authx-plugin-basic")
	h := New(Options{SearchPath: []string{filepath.Dir(path)}, StartTimeout: 10 * time.Second})
	defer h.Close()
	_, err := h.Start(context.Background(), Spec{Scheme: "basic"})
	want := "speaks plugin protocol v2 but this authx speaks v1"
	if core.KindOf(err) != core.KindPlugin || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("v2 plugin: %v, want one line containing %q", err, want)
	}
}

func TestStartAndDescribeCache(t *testing.T) {
	path := buildPlugin(t, "../../plugins/basic/cmd/authx-plugin-basic", "authx-plugin-basic")
	cacheFile := filepath.Join(t.TempDir(), "plugins.json")
	h := New(Options{SearchPath: []string{filepath.Dir(path)}, DescribeCache: cacheFile})
	defer h.Close()
	d, got, err := h.Describe(context.Background(), Spec{Scheme: "basic"})
	if err != nil || d.Name != "basic" || got != path {
		t.Fatalf("Describe = %+v, %s, %v", d, got, err)
	}
	// A cached description is served even when the binary cannot run...
	data, _ := os.ReadFile(cacheFile)
	if !strings.Contains(string(data), `"name": "basic"`) {
		t.Fatalf("description not cached: %s", data)
	}
	h2 := New(Options{SearchPath: []string{filepath.Dir(path)}, DescribeCache: cacheFile, StartTimeout: time.Nanosecond})
	if d, _, err := h2.Describe(context.Background(), Spec{Scheme: "basic"}); err != nil || d.Name != "basic" {
		t.Errorf("warm cache still started the plugin: %v", err)
	}
	// ...and not once the binary changed.
	os.WriteFile(path, []byte("#!/bin/sh\nexit 0\n"), 0o755)
	if _, _, err := h2.Describe(context.Background(), Spec{Scheme: "basic"}); core.KindOf(err) != core.KindPlugin {
		t.Errorf("changed binary served from cache: %v", err)
	}
}

// A $TMPDIR too deep for a Unix socket path must not keep plugins from
// starting.
func TestSocketTempDir(t *testing.T) {
	short := t.TempDir()
	deep := filepath.Join(short, strings.Repeat("d", 80))
	os.MkdirAll(deep, 0o700)
	if got := socketTempDir(short, ""); got != short && len(short) <= maxSocketBase {
		t.Errorf("short TMPDIR: %s", got)
	}
	if got := socketTempDir(deep, short); len(got) > maxSocketBase {
		t.Errorf("deep TMPDIR: sockets under %s (%d bytes)", got, len(got))
	}
	if got := socketTempDir(deep, ""); got != "/tmp" {
		t.Errorf("deep TMPDIR, no runtime dir: %s, want /tmp", got)
	}
}

// TestStartTimeoutKillsWhatThePluginStarted: a plugin that is a shell
// script starting its real program without exec never shakes hands; after
// the start timeout the host kills the script and its child, whose open
// stdout would otherwise keep go-plugin waiting until the child exits.
func TestStartTimeoutKillsWhatThePluginStarted(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	script := fmt.Sprintf("#!/bin/sh\nsleep 600 &\necho $! > %s\nwait\n", pidFile)
	if err := os.WriteFile(filepath.Join(dir, "authx-plugin-wrapped"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	h := New(Options{SearchPath: []string{dir}, StartTimeout: time.Second})
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // far beyond the start timeout, far below sleep 600
	defer cancel()
	_, err := h.Start(ctx, Spec{Scheme: "wrapped"})
	if core.KindOf(err) != core.KindPlugin || !strings.Contains(err.Error(), "did not start within 1s") {
		t.Fatalf("start: %v, want a plugin failure naming the start timeout", err)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil { // a very busy machine: killed before it wrote the pid; Start did return
		t.Logf("the script was killed before it recorded its child: %v", err)
		return
	}
	var pid int
	if _, err := fmt.Sscan(string(data), &pid); err != nil {
		t.Fatal(err)
	}
	// The child is gone (or a zombie awaiting init): never left sleeping.
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err == nil && !strings.Contains(string(stat), ") Z ") {
		t.Errorf("the plugin's child %d still runs: %s", pid, stat)
	}
}

// TestDescribeChecksPinFirst: a plugin that does not match its pin is
// neither run nor described from the cache.
func TestDescribeChecksPinFirst(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	script := "#!/bin/sh\ntouch " + marker + "\nexit 1\n"
	path := filepath.Join(dir, "authx-plugin-marked")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	good := fmt.Sprintf("%x", sha256.Sum256([]byte(script)))
	bad := strings.Repeat("0", 64)
	basic := buildPlugin(t, "../../plugins/basic/cmd/authx-plugin-basic", "authx-plugin-basic")
	cacheFile := filepath.Join(t.TempDir(), "plugins.json")
	h := New(Options{SearchPath: []string{dir, filepath.Dir(basic)}, DescribeCache: cacheFile})
	defer h.Close()
	if _, _, err := h.Describe(context.Background(), Spec{Scheme: "basic"}); err != nil {
		t.Fatal(err) // warms the cache
	}
	tests := []struct {
		name string
		spec Spec
	}{
		{"script, wrong pin", Spec{Scheme: "marked", SHA256: bad}},
		{"cached description, wrong pin", Spec{Scheme: "basic", SHA256: bad}},
	}
	for _, tt := range tests {
		_, got, err := h.Describe(context.Background(), tt.spec)
		if core.KindOf(err) != core.KindPluginIntegrity || got == "" {
			t.Errorf("%s: Describe = %q, %v; want a pin mismatch naming the path", tt.name, got, err)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a plugin whose pin does not match was run")
	}
	// The matching pin runs it (and the script fails, as it should).
	if _, _, err := h.Describe(context.Background(), Spec{Scheme: "marked", SHA256: good}); core.KindOf(err) != core.KindPlugin {
		t.Errorf("matching pin: %v", err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Error("the matching pin did not run the script")
	}
}

// TestDiesBeforeHandshake: a plugin that dies before its handshake is
// explained by its exit status and its last stderr line, made safe.
func TestDiesBeforeHandshake(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	dir := t.TempDir()
	long := strings.Repeat("x", 300)
	scripts := map[string]string{
		"escapes": "#!/bin/sh\nprintf 'bad \\033[31mred\\033[0m\\r\\n\\n' >&2\nexit 2\n",
		"long":    "#!/bin/sh\necho " + long + " >&2\nexit 1\n",
		"hclog":   "#!/bin/sh\necho '{\"@level\":\"error\",\"@message\":\"no config dir\",\"@module\":\"plugin\"}' >&2\nexit 1\n",
		"quiet":   "#!/bin/sh\nexit 0\n",
	}
	for name, script := range scripts {
		if err := os.WriteFile(filepath.Join(dir, "authx-plugin-"+name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	testdata, _ := filepath.Abs("testdata")
	h := New(Options{SearchPath: []string{testdata, dir}, StartTimeout: 10 * time.Second})
	defer h.Close()
	tests := []struct {
		scheme string
		want   string
	}{
		{"dies", "authx-plugin-dies exited before the plugin handshake (exit status 3): fatal: missing module foo"},
		{"escapes", "exited before the plugin handshake (exit status 2): bad [31mred [0m"},
		{"long", "(exit status 1): " + strings.Repeat("x", 200) + "…"},
		{"hclog", "(exit status 1): no config dir"},
		{"quiet", "is not an authx plugin"},
	}
	for _, tt := range tests {
		_, err := h.Start(context.Background(), Spec{Scheme: tt.scheme})
		if core.KindOf(err) != core.KindPlugin || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want a plugin failure containing %q", tt.scheme, err, tt.want)
		}
		if err != nil && strings.ContainsFunc(err.Error(), func(r rune) bool { return r < ' ' || r == 0x7f }) {
			t.Errorf("%s: control characters in %q", tt.scheme, err)
		}
	}
}

// TestPluginWritesNoCoreFile: a plugin built with the SDK runs with a core
// size limit of 0, soft and hard.
func TestPluginWritesNoCoreFile(t *testing.T) {
	if _, err := os.Stat("/proc/self/limits"); err != nil {
		t.Skip("no /proc")
	}
	path := buildPlugin(t, "../../plugins/basic/cmd/authx-plugin-basic", "authx-plugin-basic")
	h := New(Options{SearchPath: []string{filepath.Dir(path)}})
	defer h.Close()
	p, err := h.Start(context.Background(), Spec{Scheme: "basic"})
	if err != nil {
		t.Fatal(err)
	}
	limits, err := os.ReadFile("/proc/" + p.PID() + "/limits")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(limits), "\n") {
		if strings.HasPrefix(line, "Max core file size") {
			if f := strings.Fields(line); len(f) < 6 || f[4] != "0" || f[5] != "0" {
				t.Errorf("plugin %s", line)
			}
			return
		}
	}
	t.Errorf("no core size in %s", limits)
}
