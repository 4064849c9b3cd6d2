package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSetLiteralSecretWarns: --set password=LITERAL works but warns, in
// one line without the secret, that it is in argv; a reference does not.
func TestSetLiteralSecretWarns(t *testing.T) {
	e := newEnv(t).set("PW=s3cr3t-pw")
	r := e.run("header", "--scheme", "basic", "--set", "username=alice", "--set", "password=s3cr3t-pw")
	want := "authx: warning: a secret given with --set is on authx's command line, where other processes can read it (ps); pass env:NAME, file:PATH or prompt: instead\n"
	if r.code != 0 || r.stdout != "Authorization: Basic YWxpY2U6czNjcjN0LXB3\n" || r.stderr != want {
		t.Errorf("literal: %+v; want the header and the warning %q", r, want)
	}
	r = e.run("header", "--scheme", "basic", "--set", "username=alice", "--set", "password=env:PW")
	if r.code != 0 || r.stderr != "" {
		t.Errorf("reference: %+v; want no warning", r)
	}
	// A field given twice that is no list is refused, not silently the last.
	r = e.run("header", "--scheme", "basic", "--set", "username=alice", "--set", "username=bob", "--set", "password=env:PW")
	if r.code != 2 || !strings.Contains(r.stderr, "username") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("username twice: %+v", r)
	}
}

// TestCmdTimeoutSetting: cmd_timeout bounds a cmd: reference.
func TestCmdTimeoutSetting(t *testing.T) {
	e := newEnv(t)
	e.config(`
cmd_timeout: 300ms
profiles:
  slow:
    scheme: basic
    config: {username: alice, password: "cmd:sleep 20; echo pw"}
`)
	start := time.Now()
	r := e.run("header", "slow")
	if r.code != 2 || !strings.Contains(r.stderr, "cmd: command timed out after 300ms") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("%+v", r)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
}

// TestHostileSecretSources: the secret sources of issue #10 end at once
// with one line and exit 2, or (a background child) with the secret and no
// process left behind.
func TestHostileSecretSources(t *testing.T) {
	e := newEnv(t)
	fifo := filepath.Join(e.home, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(e.home, "orphan.pid")
	e.config(fmt.Sprintf(`
profiles:
  yes: {scheme: basic, config: {username: a, password: "cmd:yes"}}
  zero: {scheme: basic, config: {username: a, password: "file:/dev/zero"}}
  fifo: {scheme: basic, config: {username: a, password: "file:%s"}}
  orphan: {scheme: basic, config: {username: a, password: "cmd:sleep 100 & echo $! > %s; echo pw"}}
`, fifo, pidFile))
	for profile, want := range map[string]string{
		"yes":  "cmd: the command's output is larger than 64 KiB",
		"zero": "/dev/zero is not a regular file (a device)",
		"fifo": "is not a regular file (a named pipe)",
	} {
		start := time.Now()
		r := e.run("header", profile)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%s: %+v; want exit 2 and %q", profile, r, want)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s took %v", profile, d)
		}
	}
	if r := e.run("header", "orphan"); r.code != 0 || r.stdout != "Authorization: Basic YTpwdw==\n" {
		t.Errorf("orphan: %+v", r)
	}
	data, _ := os.ReadFile(pidFile)
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if _, rest, _ := strings.Cut(string(stat), ") "); err != nil || strings.HasPrefix(rest, "Z") {
			break
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the cmd: reference's background child %d is still running", pid)
		}
	}
}
