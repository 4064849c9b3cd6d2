package host

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// deadPID returns the id of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	c := exec.Command("true")
	if err := c.Run(); err != nil {
		t.Skip("no true(1)")
	}
	return c.Process.Pid
}

// TestStaleSocketDirsAreRemoved: starting a plugin removes the socket
// directories a killed authx left behind, and only those.
func TestStaleSocketDirsAreRemoved(t *testing.T) {
	base, err := os.MkdirTemp("/tmp", "sock") // short: it holds the sockets
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	t.Setenv("TMPDIR", base)
	elsewhere := t.TempDir()
	mk := func(name string, marker string) string {
		dir := filepath.Join(base, name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if marker != "" {
			os.WriteFile(filepath.Join(dir, socketMarker), []byte(marker), 0o600)
		}
		os.WriteFile(filepath.Join(dir, "plugin123"), nil, 0o600)
		return dir
	}
	dead := strconv.Itoa(deadPID(t))
	stale := mk("plugin-dir1", dead+"\n")
	live := mk("plugin-dir2", strconv.Itoa(os.Getppid()))
	foreign := mk("plugin-dir3", "")      // another go-plugin program's
	garbage := mk("plugin-dir4", "12abc") // not a pid
	os.WriteFile(filepath.Join(elsewhere, socketMarker), []byte(dead), 0o600)
	link := filepath.Join(base, "plugin-dir5")
	os.Symlink(elsewhere, link)

	path := buildPlugin(t, "../../plugins/basic/cmd/authx-plugin-basic", "authx-plugin-basic")
	h := New(Options{SearchPath: []string{filepath.Dir(path)}})
	defer h.Close()
	p, err := h.Start(context.Background(), Spec{Scheme: "basic"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("the stale socket dir is still there")
	}
	for _, keep := range []string{live, foreign, garbage, link, filepath.Join(elsewhere, socketMarker)} {
		if _, err := os.Lstat(keep); err != nil {
			t.Errorf("%s was removed", keep)
		}
	}
	// The running plugin's directory is marked as this process's.
	if pid, ok := readMarker(filepath.Join(p.socketDir, socketMarker)); !ok || pid != os.Getpid() || filepath.Dir(p.socketDir) != base {
		t.Errorf("socket dir %s: marker %d, %v", p.socketDir, pid, ok)
	}
	p.Kill()
	if _, err := os.Stat(p.socketDir); err == nil {
		t.Error("a killed plugin's socket dir is left behind")
	}
}
