//go:build unix

package secret

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authx/authx/core"
)

// resolveWithin resolves ref, failing the test instead of hanging when
// Resolve does not return within limit.
func resolveWithin(t *testing.T, r *Resolver, ref string, limit time.Duration) (string, error) {
	t.Helper()
	type answer struct {
		v   string
		err error
	}
	done := make(chan answer, 1)
	go func() {
		v, err := r.Resolve(context.Background(), ref)
		done <- answer{v, err}
	}()
	select {
	case a := <-done:
		return a.v, a.err
	case <-time.After(limit):
		t.Fatalf("Resolve(%q) still running after %v", ref, limit)
		return "", nil
	}
}

// TestSecretSourcesAreBounded: every source is bounded in size (64 KiB) and
// time, and file: reads regular files only.
func TestSecretSourcesAreBounded(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	os.WriteFile(big, []byte(strings.Repeat("a", MaxSize+1)), 0o600)
	exact := filepath.Join(dir, "exact")
	os.WriteFile(exact, []byte(strings.Repeat("a", MaxSize)+"\n"), 0o600)
	tests := []struct {
		ref  string
		want string // the value, or a part of the error
		ok   bool
	}{
		{"cmd:yes", "cmd: the command's output is larger than 64 KiB", false},
		{"cmd:yes >&2", "timed out", false}, // stderr is not kept, so not grown
		{"file:/dev/zero", "file:/dev/zero: /dev/zero is not a regular file (a device)", false},
		{"file:" + fifo, "is not a regular file (a named pipe)", false},
		{"file:" + dir, "is not a regular file (a directory)", false},
		{"file:" + big, "is larger than 64 KiB", false},
		{"file:" + exact, strings.Repeat("a", MaxSize), true},
		{"cmd:head -c 65536 /dev/zero | tr '\\0' a", strings.Repeat("a", MaxSize), true},
		{"cmd:head -c 65536 /dev/zero | tr '\\0' a; printf '\\r\\n'; yes", "is larger than 64 KiB", false},
	}
	r := &Resolver{CmdTimeout: 2 * time.Second}
	for _, tt := range tests {
		start := time.Now()
		got, err := resolveWithin(t, r, tt.ref, 10*time.Second)
		switch {
		case tt.ok && (err != nil || got != tt.want):
			t.Errorf("Resolve(%.40q) = %d bytes, %v", tt.ref, len(got), err)
		case !tt.ok && (err == nil || core.KindOf(err) != core.KindConfig || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("Resolve(%.40q) error %v, want %q", tt.ref, err, tt.want)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Resolve(%.40q) took %v", tt.ref, d)
		}
	}
}

// alive reports whether pid is a running process (not a zombie).
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
}

// TestCmdLeavesNoOrphan: a command that starts a background child and
// exits gives its output at once, and the child is killed with it.
func TestCmdLeavesNoOrphan(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	start := time.Now()
	got, err := resolveWithin(t, &Resolver{}, "cmd:sleep 100 & echo $! > "+pidFile+"; echo pw", 10*time.Second)
	if err != nil || got != "pw" {
		t.Fatalf("Resolve = %q, %v", got, err)
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("took %v: waited for the orphan", d)
	}
	data, _ := os.ReadFile(pidFile)
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the command's child %d outlived Resolve", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
